package reports

import (
	"testing"

	"github.com/hookproof/hookproof/harness"
)

func req(id, level, status string) RequirementResult {
	return RequirementResult{ID: id, Level: level, Status: status}
}

func TestVerdict(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reqs   []RequirementResult
		strict bool
		want   string
	}{
		{"every MUST passed ⇒ pass", []RequirementResult{req("A-1", "MUST", StatusPassed), req("A-2", "SHOULD", StatusPassed)}, false, VerdictPass},
		{"a MUST failed ⇒ fail", []RequirementResult{req("A-1", "MUST", StatusPassed), req("A-2", "MUST", StatusFailed)}, false, VerdictFail},
		{"a SHOULD failed, not strict ⇒ pass (a warning)", []RequirementResult{req("A-1", "MUST", StatusPassed), req("A-2", "SHOULD", StatusFailed)}, false, VerdictPass},
		{"a SHOULD failed under strict ⇒ fail", []RequirementResult{req("A-1", "MUST", StatusPassed), req("A-2", "SHOULD", StatusFailed)}, true, VerdictFail},
		{"some MUSTs skipped, the rest passed ⇒ pass", []RequirementResult{req("A-1", "MUST", StatusPassed), req("A-2", "MUST", StatusSkipped)}, false, VerdictPass},
		{"every MUST skipped ⇒ fail: nothing certified", []RequirementResult{req("A-1", "MUST", StatusSkipped), req("A-2", "SHOULD", StatusPassed)}, false, VerdictFail},
		{"everything skipped ⇒ fail", []RequirementResult{req("A-1", "MUST", StatusSkipped), req("A-2", "SHOULD", StatusSkipped)}, false, VerdictFail},
		{"no results ⇒ fail", nil, false, VerdictFail},
		{"a MUST failed among passes, strict ⇒ fail", []RequirementResult{req("A-1", "MUST", StatusFailed), req("A-2", "SHOULD", StatusPassed)}, true, VerdictFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Verdict(tc.reqs, tc.strict); got != tc.want {
				t.Errorf("Verdict(%v, %v) = %q; want %q", tc.reqs, tc.strict, got, tc.want)
			}
		})
	}
}

func TestDecideFailsAnInterruptedRun(t *testing.T) {
	r := &Report{Requirements: []RequirementResult{req("A-1", "MUST", StatusPassed)}}
	if got := r.Decide(false); got != VerdictPass {
		t.Fatalf("Decide on a finished passing run = %q; want pass", got)
	}
	r.Interrupted = true
	if got := r.Decide(false); got != VerdictFail {
		t.Errorf("Decide on an interrupted run = %q; want fail", got)
	}
	if r.Verdict != VerdictFail {
		t.Errorf("Decide did not set Verdict: %q", r.Verdict)
	}
}

func TestCompleteListsEveryCatalogueRequirementOnce(t *testing.T) {
	in := []RequirementResult{
		{ID: "VAL-03", Status: StatusFailed, Reason: "500 on 2 MiB"},
		{ID: "ACK-01", Status: StatusPassed},
		{ID: "ACK-01", Status: StatusFailed, Reason: "one 500", Evidence: []Evidence{{Summary: "500"}}},
		{ID: "X-99", Status: StatusPassed, Level: "MUST"},
		{ID: "TLS-01", Status: "weird"},
	}
	out := Complete(in, harness.ProfileProduction, "not run")
	if len(out) != len(harness.Catalogue)+1 {
		t.Fatalf("Complete returned %d results; want %d (catalogue + 1 unknown)", len(out), len(harness.Catalogue)+1)
	}
	for i, q := range harness.Catalogue {
		if out[i].ID != q.ID {
			t.Fatalf("out[%d].ID = %q; want %q (catalogue order)", i, out[i].ID, q.ID)
		}
		if out[i].Area != q.Area || out[i].Title != q.Title {
			t.Errorf("out[%d] area/title = %q/%q; want %q/%q", i, out[i].Area, out[i].Title, q.Area, q.Title)
		}
	}
	if last := out[len(out)-1]; last.ID != "X-99" {
		t.Errorf("unknown ID not kept at the end: %q", last.ID)
	}
	byID := map[string]RequirementResult{}
	for _, q := range out {
		if _, dup := byID[q.ID]; dup {
			t.Errorf("%s appears twice", q.ID)
		}
		byID[q.ID] = q
	}
	if got := byID["ACK-01"]; got.Status != StatusFailed || got.Reason != "one 500" || len(got.Evidence) != 1 {
		t.Errorf("duplicate ACK-01 merged to %+v; want failed with its reason and evidence", got)
	}
	if got := byID["ACK-04"]; got.Status != StatusSkipped || got.Reason != "not run" {
		t.Errorf("missing ACK-04 = %+v; want skipped: not run", got)
	}
	if got := byID["TLS-01"]; got.Level != "MUST" || got.Status != StatusSkipped {
		t.Errorf("TLS-01 under production = level %q status %q; want MUST skipped", got.Level, got.Status)
	}
	if got := Complete(nil, harness.ProfileQuick, "x"); Count(got).Skipped != len(harness.Catalogue) {
		t.Errorf("Complete(nil) skipped %d; want all %d", Count(got).Skipped, len(harness.Catalogue))
	}
	if got := Complete(nil, harness.ProfileQuick, "x"); got[len(got)-2].ID != "TLS-01" || got[len(got)-2].Level != "SHOULD" {
		t.Errorf("TLS-01 under quick = %+v; want SHOULD", got[len(got)-2])
	}
}
