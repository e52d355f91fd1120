package scenarios

import "testing"

func TestOverBudgetAllowedIsTheP99sShare(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{1, 1},     // the nearest-rank p99 of a few samples is their maximum: one outlier is tolerated
		{79, 1},    // a quick run's conformance deliveries
		{100, 1},   // exactly 1 %
		{199, 1},   // 1.99 slow answers would put the 199th sample over
		{250, 2},   // 1 % of 250, rounded down
		{1466, 14}, // a whole demo run's attempts
	} {
		if got := overBudgetAllowed(tc.n); got != tc.want {
			t.Errorf("overBudgetAllowed(%d) = %d; want %d", tc.n, got, tc.want)
		}
	}
}
