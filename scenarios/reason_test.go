package scenarios

import (
	"strings"
	"testing"
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
