package scenarios

import (
	"strings"
	"testing"

	"github.com/hookproof/hookproof/reports"
)

func TestPlainFailureDropsGomegaDialect(t *testing.T) {
	for _, tc := range []struct{ msg, reason, detail string }{
		{"Failed after 0.000s.\nthe receiver processed event e-1 8 times; it must process it once\nExpected\n    <int>: 8\nto equal\n    <int>: 1",
			"the receiver processed event e-1 8 times; it must process it once", "Expected"},
		{"Timed out after 5.001s.\nevent e-2 was acknowledged but never processed\nExpected\n    <int>: 0\nto be >=\n    <int>: 1",
			"event e-2 was acknowledged but never processed", "to be >="},
		{"Expected\n    <int>: 8\nto equal\n    <int>: 1", "observed 8 where a value to equal 1 was expected", "<int>: 8"},
		{"Unexpected error:\n    <*errors.errorString | 0xc000>: \n    connection refused\n    {s: \"connection refused\"}\noccurred", "error: connection refused", "Unexpected error"},
		{"a plain sentence from Fail", "a plain sentence from Fail", ""},
	} {
		reason, detail := plainFailure(tc.msg)
		if reason != tc.reason {
			t.Errorf("reason of %q = %q; want %q", tc.msg, reason, tc.reason)
		}
		if !strings.Contains(detail, tc.detail) {
			t.Errorf("detail of %q = %q; want it to keep %q", tc.msg, detail, tc.detail)
		}
		for _, dialect := range []string{"Failed after", "Timed out after", "<int>", "Expected\n"} {
			if strings.Contains(reason, dialect) {
				t.Errorf("reason %q keeps Gomega's %q", reason, dialect)
			}
		}
	}
}

// A requirement passed on some of its checks says how many ran and why
// the others did not.
func TestCoverageOfAPartlyCheckedRequirement(t *testing.T) {
	c := &coverage{}
	for range 4 {
		c.add(reports.StatusPassed, "")
	}
	for range 9 {
		c.add(reports.StatusSkipped, "needs tokens issued by hookproof (--demo)")
	}
	c.total = 13
	res := reports.RequirementResult{ID: "AUTH-05", Status: reports.StatusPassed}
	c.apply(&res)
	if res.ChecksRun != 4 || res.ChecksTotal != 13 || res.Reason != "4 of 13 checks ran (9 skipped: needs tokens issued by hookproof (--demo))" {
		t.Errorf("coverage = %d/%d, reason %q", res.ChecksRun, res.ChecksTotal, res.Reason)
	}
	full := &coverage{total: 2}
	full.add(reports.StatusPassed, "")
	full.add(reports.StatusPassed, "")
	res = reports.RequirementResult{Status: reports.StatusPassed}
	full.apply(&res)
	if res.Reason != "" || res.ChecksRun != 2 {
		t.Errorf("a fully checked pass reads %q (%d run)", res.Reason, res.ChecksRun)
	}
}
