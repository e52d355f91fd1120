package reports

import (
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
)

func TestNewDeliveryStatsOnKnownData(t *testing.T) {
	var as []harness.Attempt
	// 1..100 ms: nearest-rank p50 = 50, p90 = 90, p95 = 95, p99 = 99.
	for i := 1; i <= 100; i++ {
		as = append(as, harness.Attempt{EventType: "a", Status: 200, Latency: time.Duration(i) * time.Millisecond})
	}
	as = append(as,
		harness.Attempt{EventType: "b", Status: 503, Latency: 600 * time.Millisecond},
		harness.Attempt{Status: 0, ErrorClass: harness.ErrTimeout, Latency: 30 * time.Second},
		harness.Attempt{Status: 0},
	)
	s := NewDeliveryStats(as, 100*time.Millisecond)
	if s.Total != 103 {
		t.Errorf("Total = %d; want 103", s.Total)
	}
	wantCodes := map[string]int{"200": 100, "503": 1, "timeout": 1, "other": 1}
	for k, v := range wantCodes {
		if s.StatusCodes[k] != v {
			t.Errorf("StatusCodes[%q] = %d; want %d (all: %v)", k, s.StatusCodes[k], v, s.StatusCodes)
		}
	}
	a := s.PerEventType["a"]
	if a.Count != 100 || a.P50 != 50 || a.P90 != 90 || a.P95 != 95 || a.P99 != 99 || a.Max != 100 {
		t.Errorf("PerEventType[a] = %+v; want count 100, p50 50, p90 90, p95 95, p99 99, max 100", a)
	}
	// 101 answered samples: the 600 ms answer is the max and the p99 rank
	// (ceil(0.99*101) = 100th sample = 100 ms).
	all := s.AckLatencyMS
	if all.Count != 101 || all.P99 != 100 || all.Max != 600 || all.P50 != 51 {
		t.Errorf("AckLatencyMS = %+v; want count 101, p50 51, p99 100, max 600", all)
	}
	if s.OverBudget != 1 {
		t.Errorf("OverBudget = %d; want 1 (only the 600 ms answer; timeouts have no latency)", s.OverBudget)
	}
	total := 0
	for i, b := range s.Histogram {
		total += b.Count
		if i > 0 && b.UpperMS <= s.Histogram[i-1].UpperMS {
			t.Errorf("histogram bounds not increasing at %d: %v", i, s.Histogram)
		}
	}
	if total != 101 {
		t.Errorf("histogram holds %d samples; want 101", total)
	}
	want := map[float64]int{1: 1, 2: 1, 5: 3, 10: 5, 20: 10, 50: 30, 100: 50, 200: 0, 500: 0, 1000: 1}
	for _, b := range s.Histogram {
		if w, ok := want[b.UpperMS]; ok && b.Count != w {
			t.Errorf("bucket ≤%v ms = %d; want %d", b.UpperMS, b.Count, w)
		}
	}
	if last := s.Histogram[len(s.Histogram)-1].UpperMS; last != 1000 {
		t.Errorf("last bucket bound = %v; want 1000 (the first covering the 600 ms max)", last)
	}
}

func TestNewDeliveryStatsPutsTheBudgetOnABound(t *testing.T) {
	as := []harness.Attempt{{Status: 200, Latency: 3 * time.Millisecond}, {Status: 200, Latency: 300 * time.Millisecond}}
	s := NewDeliveryStats(as, 250*time.Millisecond)
	found := false
	for _, b := range s.Histogram {
		if b.UpperMS == 250 {
			found = true
		}
	}
	if !found {
		t.Errorf("histogram %v has no bound at the 250 ms budget", s.Histogram)
	}
}

func TestNewDeliveryStatsEmpty(t *testing.T) {
	s := NewDeliveryStats(nil, time.Second)
	if s.Total != 0 || s.Histogram != nil || s.AckLatencyMS != (Percentiles{}) {
		t.Errorf("NewDeliveryStats(nil) = %+v; want zero figures", s)
	}
}
