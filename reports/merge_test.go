package reports

import (
	"strings"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
)

func shard(start time.Time, results []RequirementResult, load *LoadSection) *Report {
	r := &Report{Tool: Tool{Name: "hookproof", Version: "t"}, Profile: "full", Target: "http://127.0.0.1:9/hook",
		StartedAt: start, FinishedAt: start.Add(10 * time.Second),
		Requirements: Complete(results, "full", "not run"), Load: load}
	r.Decide(false)
	return r
}

func TestMergeShards(t *testing.T) {
	t0 := fixtureStart
	capA, capB := 400.0, 380.0
	a := shard(t0, []RequirementResult{
		{ID: "ACK-01", Status: StatusPassed, Evidence: []Evidence{{Summary: "a"}}},
		{ID: "LOAD-01", Status: StatusPassed},
		{ID: "VAL-01", Status: StatusPassed},
	}, &LoadSection{RequestedRate: 100, Throughput: 99, Requests: 1000, SuccessRatio: 1, LatencyMS: LatencyMS{P50: 2, P99: 10, Max: 30},
		StatusCodes: map[string]uint64{"200": 1000}, CapacityRPS: &capA, DurationS: 10,
		Series:    []SeriesPoint{{T: 0, Rate: 100, P50: 2, P99: 9}, {T: 1, Rate: 100, P50: 2, P99: 10}},
		Histogram: []Bucket{{UpperMS: 2, Count: 600}, {UpperMS: 5, Count: 400}}})
	b := shard(t0.Add(-time.Second), []RequirementResult{
		{ID: "ACK-01", Status: StatusFailed, Reason: "500 once", Evidence: []Evidence{{Summary: "b"}}},
		{ID: "LOAD-01", Status: StatusSkipped, Reason: "shard idle"},
	}, &LoadSection{RequestedRate: 100, Throughput: 90, Requests: 1000, SuccessRatio: 0.9, LatencyMS: LatencyMS{P50: 3, P99: 40, Max: 50},
		StatusCodes: map[string]uint64{"200": 900, "503": 100}, Retryable: 100, CapacityRPS: &capB, DurationS: 11,
		Series:    []SeriesPoint{{T: 1, Rate: 90, P50: 3, P99: 40, Errors: 5}},
		Histogram: []Bucket{{UpperMS: 2, Count: 100}, {UpperMS: 5, Count: 800}, {UpperMS: 10, Count: 100}}})

	m, err := Merge(a, b)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	by := map[string]RequirementResult{}
	for _, q := range m.Requirements {
		by[q.ID] = q
	}
	if len(m.Requirements) != len(harness.Catalogue) {
		t.Errorf("merged %d requirements; want %d", len(m.Requirements), len(harness.Catalogue))
	}
	if q := by["ACK-01"]; q.Status != StatusFailed || q.Reason != "500 once" || len(q.Evidence) != 2 {
		t.Errorf("ACK-01 = %+v; want failed (failed wins) with both evidence", q)
	}
	if q := by["LOAD-01"]; q.Status != StatusPassed {
		t.Errorf("LOAD-01 = %q; want passed (passed wins over skipped)", q.Status)
	}
	if m.Verdict != VerdictFail {
		t.Errorf("Verdict = %q; want fail (a shard failed a MUST)", m.Verdict)
	}
	if !m.StartedAt.Equal(t0.Add(-time.Second)) || !m.FinishedAt.Equal(t0.Add(10*time.Second)) {
		t.Errorf("span %v..%v; want the earliest start and latest finish", m.StartedAt, m.FinishedAt)
	}
	l := m.Load
	if l.Requests != 2000 || l.RequestedRate != 200 || l.Throughput != 189 || l.Retryable != 100 || l.Shards != 2 {
		t.Errorf("load sums = %+v", l)
	}
	if l.SuccessRatio != 0.95 {
		t.Errorf("SuccessRatio = %v; want 0.95 (weighted by requests)", l.SuccessRatio)
	}
	if l.LatencyMS.P99 != 40 || l.LatencyMS.P50 != 3 || l.LatencyMS.Max != 50 {
		t.Errorf("latency = %+v; want the max over shards", l.LatencyMS)
	}
	if l.StatusCodes["200"] != 1900 || l.StatusCodes["503"] != 100 {
		t.Errorf("status codes = %v", l.StatusCodes)
	}
	if l.CapacityRPS == nil || *l.CapacityRPS != 780 {
		t.Errorf("capacity = %v; want 780 (shards run side by side)", l.CapacityRPS)
	}
	if len(l.Series) != 2 || l.Series[1].Rate != 190 || l.Series[1].P99 != 40 || l.Series[1].Errors != 5 {
		t.Errorf("series = %+v", l.Series)
	}
	wantH := []Bucket{{2, 700}, {5, 1200}, {10, 100}}
	if len(l.Histogram) != 3 || l.Histogram[0] != wantH[0] || l.Histogram[1] != wantH[1] || l.Histogram[2] != wantH[2] {
		t.Errorf("histogram = %v; want %v", l.Histogram, wantH)
	}
	if len(m.Notes) == 0 || !strings.Contains(m.Notes[len(m.Notes)-1], "upper bound") {
		t.Errorf("notes = %v; want the percentile caveat", m.Notes)
	}
	if a.Requirements[0].Status != StatusPassed || len(a.Requirements[0].Evidence) != 1 {
		t.Error("Merge modified its input")
	}
}

func TestMergePassingShardsPasses(t *testing.T) {
	a := shard(fixtureStart, []RequirementResult{{ID: "ACK-01", Status: StatusPassed}}, nil)
	b := shard(fixtureStart, []RequirementResult{{ID: "VAL-01", Status: StatusPassed}}, nil)
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Verdict != VerdictPass {
		t.Errorf("Verdict = %q; want pass", m.Verdict)
	}
	b.Interrupted = true
	if m, _ := Merge(a, b); m.Verdict != VerdictFail || !m.Interrupted {
		t.Errorf("merge with an interrupted shard: verdict %q interrupted %v; want fail, true", m.Verdict, m.Interrupted)
	}
}

func TestMergeRejectsMismatchedShards(t *testing.T) {
	a := shard(fixtureStart, nil, nil)
	b := shard(fixtureStart, nil, nil)
	b.Profile, b.Target = "quick", "http://127.0.0.1:10/other"
	_, err := Merge(a, b)
	if err == nil || !strings.Contains(err.Error(), "reports[1].profile") || !strings.Contains(err.Error(), "reports[1].target") {
		t.Errorf("Merge error = %v; want both fields named", err)
	}
	if _, err := Merge(); err == nil {
		t.Error("Merge() succeeded")
	}
	if _, err := Merge(a, nil); err == nil || !strings.Contains(err.Error(), "reports[1]") {
		t.Errorf("Merge(a, nil) error = %v", err)
	}
}
