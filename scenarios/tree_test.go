package scenarios

import (
	"slices"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

// noSpecYet are catalogue requirements no spec checks yet: a run reports
// them skipped with the run's not-run reason. Remove an ID once its spec
// exists (the test below says so). Every requirement has one today.
var noSpecYet []string

// The spec tree is valid, names every catalogue requirement, and its spec
// texts are unique (a requirement's reasons name its specs by their text):
// checked without running anything (Ginkgo dry run).
func TestSpecTreeCoversTheCatalogue(t *testing.T) {
	for _, typ := range []harness.AuthType{harness.AuthBearer, harness.AuthOAuth2, harness.AuthBasic, harness.AuthNone} {
		t.Run(string(typ), func(t *testing.T) {
			cfg := harness.DefaultConfig()
			cfg.Target = "http://127.0.0.1:9/unused"
			cfg.Auth = harness.AuthConfig{Type: typ, BasicUser: "u", BasicPassword: "p", BearerToken: "t"}
			env := NewEnv(cfg)
			var progress strings.Builder
			var texts []string
			res, err := run(func() {
				Register(env)
				ginkgo.ReportAfterEach(func(sr types.SpecReport) { texts = append(texts, sr.LeafNodeText) })
			}, cfg, RunOptions{DryRun: true, Progress: &progress})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Requirements) != len(harness.Catalogue) {
				t.Fatalf("%d results; want one per catalogue requirement (%d)", len(res.Requirements), len(harness.Catalogue))
			}
			// Specs run as declared: the run-wide checks judge every delivery
			// of the run, so they must come after everything that delivers.
			lines := strings.Split(strings.TrimSpace(progress.String()), "\n")
			var order []string
			for _, l := range lines {
				if f := strings.Fields(l); len(f) > 2 {
					order = append(order, f[2])
				}
			}
			if n := len(order); n < 4 || strings.Join(order[n-4:], " ") != "ACK-02 ACK-04 RETRY-01 RETRY-03" {
				t.Errorf("the run-wide checks do not run last; order ends %v", order[max(0, len(order)-6):])
			}
			if order[0] != "ACK-01" {
				t.Errorf("first spec checks %s; want ACK-01 (declaration order)", order[0])
			}
			for _, r := range res.Requirements {
				// A dry run marks every spec passed; a requirement still
				// "not selected" has no spec at all.
				noSpec := r.Reason == reasonNotSelected && r.Status == reports.StatusSkipped && len(r.Evidence) == 0 && r.DurationMS == 0
				switch pending := slices.Contains(noSpecYet, r.ID); {
				case noSpec && !pending:
					t.Errorf("%s has no spec", r.ID)
				case !noSpec && pending:
					t.Errorf("%s has a spec now: remove it from noSpecYet", r.ID)
				}
			}
			if len(texts) < len(harness.Catalogue)-len(noSpecYet) {
				t.Fatalf("%d spec texts collected; want one per spec", len(texts))
			}
			if d := duplicates(texts); len(d) > 0 {
				t.Errorf("spec texts are not unique (reports and progress lines could not tell the specs apart): %q", d)
			}
		})
	}
}

func TestInvalidLabelFilterIsAUsageError(t *testing.T) {
	cfg := harness.DefaultConfig()
	cfg.Target = "http://127.0.0.1:9/unused"
	_, err := run(func() {}, cfg, RunOptions{LabelFilter: "area:ack &&", DryRun: true})
	if err == nil || !strings.Contains(err.Error(), "--label-filter") {
		t.Errorf("run with a broken filter = %v; want an error naming --label-filter", err)
	}
}

// duplicates returns each text that occurs more than once, once.
func duplicates(texts []string) []string {
	seen := map[string]int{}
	var out []string
	for _, s := range texts {
		if seen[s]++; seen[s] == 2 {
			out = append(out, s)
		}
	}
	return out
}

func TestDuplicatesFindsRepeatedTexts(t *testing.T) {
	if d := duplicates([]string{"a b", "a c", "a b", "d", "a b"}); !slices.Equal(d, []string{"a b"}) {
		t.Errorf("duplicates = %q; want [\"a b\"]", d)
	}
	if d := duplicates([]string{"a", "b"}); d != nil {
		t.Errorf("duplicates of unique texts = %q; want none", d)
	}
}
