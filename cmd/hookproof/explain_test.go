package main

import (
	"os"
	"strings"
	"testing"

	"github.com/hookproof/hookproof/harness"
)

func TestExplainPrintsTheRequirementAndHowItIsChecked(t *testing.T) {
	out, errOut, code := cli(t, "explain", "IDEM-03")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r, _ := harness.LookupRequirement("IDEM-03")
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"IDEM-03", "MUST", r.Title, "How hookproof checks it:", r.Check,
		"What a correct receiver answers:", r.Guide().Answer, "Common failures:", r.Guide().Failures[0], "--label-filter req:IDEM-03"} {
		if !strings.Contains(flat, strings.Join(strings.Fields(want), " ")) {
			t.Errorf("explain IDEM-03 lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 80 {
			t.Errorf("line over 80 columns: %q", line)
		}
	}
}

func TestExplainListAndErrors(t *testing.T) {
	out, _, code := cli(t, "explain", "--list")
	if code != 0 || strings.Count(out, "\n") != len(harness.Catalogue) {
		t.Errorf("explain --list: exit %d, %d lines; want 0 and one line per requirement (%d)", code, strings.Count(out, "\n"), len(harness.Catalogue))
	}
	if _, errOut, code := cli(t, "explain", "IDEM-99"); code != exitUsage || !strings.Contains(errOut, "IDEM-99") {
		t.Errorf("explain IDEM-99: exit %d, %q; want 2 naming the ID", code, errOut)
	}
	if _, _, code := cli(t, "explain"); code != exitUsage {
		t.Errorf("explain without an ID: exit %d; want 2", code)
	}
}

// docs/explain.md is the Markdown of explain --list: a page with one
// anchor per ID that report rows can link to. -update regenerates it.
func TestExplainDocIsCurrent(t *testing.T) {
	out, _, code := cli(t, "explain", "--list", "--format", "md")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	const path = "../../docs/explain.md"
	if *update {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != out {
		t.Errorf("%s is stale: run go test ./cmd/hookproof -run ExplainDoc -update", path)
	}
	for _, r := range harness.Catalogue {
		if !strings.Contains(out, "\n## "+r.ID+"\n") {
			t.Errorf("no section for %s", r.ID)
		}
	}
}
