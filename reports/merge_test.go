package reports

import (
	"errors"
	"slices"
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
	b.Interrupted = false
	b.SetError("target unreachable")
	if m, _ := Merge(a, b); m.Verdict != VerdictError || !strings.Contains(m.Error, "target unreachable") {
		t.Errorf("merge with a shard that could not judge: verdict %q error %q; want error naming the cause", m.Verdict, m.Error)
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

// Load sections add up only over distinct shards of one run: the whole
// run's requested rate is taken once, and the same shard, another run's
// shard or another layout's is refused, naming the report.
func TestMergeLoadAddsOnlyDistinctShards(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sec := func(run, shard string, rate float64) *LoadSection {
		return &LoadSection{RequestedRate: rate, SentRate: rate / 2, Throughput: rate / 2, Requests: 500, SuccessRatio: 1,
			LatencyMS: LatencyMS{P99: 3}, LatencyFrom: LatencyFromSchedule, RunID: run, ShardSet: []string{shard}, Transport: "fast", BytesIn: 100,
			Workers: &Workers{Peak: 40, Bound: 250}}
	}
	rep := func(l *LoadSection) *Report { return shard(t0, nil, l) }

	m, err := MergeNamed([]string{"a.json", "b.json"}, rep(sec("r1", "0/2", 1000)), rep(sec("r1", "1/2", 1000)))
	if err != nil {
		t.Fatal(err)
	}
	if l := m.Load; l.RequestedRate != 1000 || l.SentRate != 1000 || l.Requests != 1000 || l.BytesIn != 200 ||
		l.RunID != "r1" || !slices.Equal(l.ShardSet, []string{"0/2", "1/2"}) || l.Shards != 2 || l.Transport != "fast" ||
		l.Workers == nil || *l.Workers != (Workers{Peak: 80, Bound: 500}) {
		t.Errorf("merged %+v; want the run's 1000/s asked once, 1000/s sent, 1000 requests, 200 bytes in, run r1, shards 0/2 and 1/2, workers 80 of 500", l)
	}

	for _, c := range []struct {
		name string
		b    *LoadSection
		want error
	}{
		{"the same shard twice", sec("r1", "0/2", 1000), ErrSameShard},
		{"another run's shard", sec("r2", "1/2", 1000), ErrOtherLoadRun},
		{"another layout", sec("r1", "1/3", 1000), ErrOtherLoadRun},
		{"another rate", sec("r1", "1/2", 2000), ErrOtherLoadRun},
		{"the same unsharded run twice", nil, ErrSameShard},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := sec("r1", "0/2", 1000), c.b
			if b == nil {
				a, b = sec("u1", "0/1", 500), sec("u1", "0/1", 500)
			}
			_, err := MergeNamed([]string{"a.json", "b.json"}, rep(a), rep(b))
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), "b.json") {
				t.Errorf("merge: %v; want %v naming b.json", err, c.want)
			}
		})
	}

	t.Run("distinct unsharded runs add up", func(t *testing.T) {
		m, err := Merge(rep(sec("u1", "0/1", 500)), rep(sec("u2", "0/1", 500)))
		if err != nil {
			t.Fatal(err)
		}
		if m.Load.RequestedRate != 1000 || m.Load.Requests != 1000 {
			t.Errorf("merged %g/s asked, %d requests; want 1000, 1000: two generators of their own", m.Load.RequestedRate, m.Load.Requests)
		}
	})
	t.Run("a shard that did not count its peak leaves the run's unknown", func(t *testing.T) {
		b := sec("r1", "1/2", 1000)
		b.Workers = &Workers{Bound: 250} // vegeta's loop counts no peak
		m, err := Merge(rep(sec("r1", "0/2", 1000)), rep(b))
		if err != nil {
			t.Fatal(err)
		}
		if w := m.Load.Workers; w == nil || *w != (Workers{Bound: 500}) {
			t.Errorf("merged workers %v; want the bound 500 and no peak", w)
		}
	})
	t.Run("two latency measures are refused", func(t *testing.T) {
		b := sec("u2", "0/1", 500)
		b.LatencyFrom = LatencyFromSend
		if _, err := Merge(rep(sec("u1", "0/1", 500)), rep(b)); err == nil || !strings.Contains(err.Error(), "one measure") {
			t.Errorf("merge: %v; want a refusal to mix latency measures", err)
		}
	})
}
