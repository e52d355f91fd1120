package scenarios

import (
	"strings"
	"testing"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

// The spec tree is valid, names every catalogue requirement, and its spec
// texts are unique: checked without running anything (Ginkgo dry run).
func TestSpecTreeCoversTheCatalogue(t *testing.T) {
	for _, typ := range []harness.AuthType{harness.AuthBearer, harness.AuthOAuth2, harness.AuthBasic, harness.AuthNone} {
		t.Run(string(typ), func(t *testing.T) {
			cfg := harness.DefaultConfig()
			cfg.Target = "http://127.0.0.1:9/unused"
			cfg.Auth = harness.AuthConfig{Type: typ, BasicUser: "u", BasicPassword: "p", BearerToken: "t"}
			env := NewEnv(cfg)
			var progress strings.Builder
			res, err := run(func() { Register(env) }, cfg, RunOptions{DryRun: true, Progress: &progress})
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
				if r.Reason == "not selected by this run" && r.Status == reports.StatusSkipped && len(r.Evidence) == 0 && r.DurationMS == 0 {
					// A dry run marks every spec passed; a requirement
					// still "not selected" has no spec at all.
					t.Errorf("%s has no spec", r.ID)
				}
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
