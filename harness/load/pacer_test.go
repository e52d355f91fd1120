package load

import (
	"math"
	"testing"
	"time"
)

// hitsBy counts the scheduled hits due before t, by driving Pace the way
// vegeta's pacer loop does, with time as an input.
func hitsBy(t *testing.T, p *Pacer, end time.Duration) uint64 {
	t.Helper()
	var hits uint64
	elapsed := time.Duration(0)
	for {
		wait, stop := p.Pace(elapsed, hits)
		if stop {
			return hits
		}
		elapsed += wait
		if elapsed >= end {
			return hits
		}
		hits++
	}
}

func TestPacerConstant(t *testing.T) {
	t.Parallel()
	p, err := NewPacer(100, 2*time.Second, nil, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		elapsed time.Duration
		hits    uint64
		wait    time.Duration
		stop    bool
	}{
		{"first hit is immediate", 0, 0, 0, false},
		{"100/s, 1 hit sent at 0 ⇒ next at 10ms", 0, 1, 10 * time.Millisecond, false},
		{"100/s, 5 hits sent, 42ms elapsed ⇒ 8ms", 42 * time.Millisecond, 5, 8 * time.Millisecond, false},
		{"behind schedule ⇒ fire now", 500 * time.Millisecond, 10, 0, false},
		{"all 200 hits sent ⇒ stop", 1990 * time.Millisecond, 200, 0, true},
	} {
		wait, stop := p.Pace(tc.elapsed, tc.hits)
		if stop != tc.stop || (!stop && absDur(wait-tc.wait) > time.Microsecond) {
			t.Errorf("%s: Pace(%s, %d) = %s, %v; want %s, %v", tc.name, tc.elapsed, tc.hits, wait, stop, tc.wait, tc.stop)
		}
	}
	if n, ok := p.Hits(); !ok || n != 200 {
		t.Errorf("Hits() = %d, %v; want 200, true", n, ok)
	}
	if got := hitsBy(t, p, time.Hour); got != 200 {
		t.Errorf("driven to the end: %d hits; want 200", got)
	}
	if at, ok := p.Scheduled(150); !ok || absDur(at-1500*time.Millisecond) > time.Microsecond {
		t.Errorf("Scheduled(150) = %s, %v; want 1.5s", at, ok)
	}
	if _, ok := p.Scheduled(200); ok {
		t.Error("Scheduled(200) is inside a 200-hit run")
	}
}

func TestPacerMaxRequestsCaps(t *testing.T) {
	t.Parallel()
	p, _ := NewPacer(1000, 10*time.Second, nil, nil, 25)
	if got := hitsBy(t, p, time.Hour); got != 25 {
		t.Errorf("capped at 25: %d hits", got)
	}
}

func TestPacerRampIsLinear(t *testing.T) {
	t.Parallel()
	// 0 → 100/s over 2 s, then 100/s for 1 s: 100 + 100 hits.
	p, err := NewPacer(100, 3*time.Second, &Ramp{From: 0, Over: 2 * time.Second}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Duration
		rate float64
	}{{0, 0}, {500 * time.Millisecond, 25}, {time.Second, 50}, {2500 * time.Millisecond, 100}} {
		if got := p.Rate(tc.at); math.Abs(got-tc.rate) > 1e-9 {
			t.Errorf("Rate(%s) = %g; want %g", tc.at, got, tc.rate)
		}
	}
	// Cumulative hits of a linear ramp are quadratic: 25 by 1 s, 100 by 2 s.
	if got := hitsBy(t, p, time.Second); got < 25 || got > 26 {
		t.Errorf("hits by 1s = %d; want 25 (quadratic ramp)", got)
	}
	if got := hitsBy(t, p, 2*time.Second); got < 100 || got > 101 {
		t.Errorf("hits by 2s = %d; want 100", got)
	}
	if got := hitsBy(t, p, time.Hour); got != 200 {
		t.Errorf("total hits = %d; want 200", got)
	}
}

func TestPacerSpike(t *testing.T) {
	t.Parallel()
	// 50/s for 3 s with 10× during [1s, 1.5s): 50·2.5 + 500·0.5 = 375 hits.
	p, err := NewPacer(50, 3*time.Second, nil, &Spike{Factor: 10, At: time.Second, For: 500 * time.Millisecond}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Duration
		rate float64
	}{{999 * time.Millisecond, 50}, {time.Second, 500}, {1499 * time.Millisecond, 500}, {1500 * time.Millisecond, 50}} {
		if got := p.Rate(tc.at); got != tc.rate {
			t.Errorf("Rate(%s) = %g; want %g", tc.at, got, tc.rate)
		}
	}
	if got := hitsBy(t, p, time.Hour); got != 375 {
		t.Errorf("total hits = %d; want 375", got)
	}
	if got := hitsBy(t, p, 1500*time.Millisecond); got != 300 {
		t.Errorf("hits by the end of the spike = %d; want 50 + 250 = 300", got)
	}
	if p.PeakRate() != 500 {
		t.Errorf("PeakRate() = %g; want 500", p.PeakRate())
	}
}

func TestPacerMaxRate(t *testing.T) {
	t.Parallel()
	p, err := NewPacer(0, time.Second, nil, nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if wait, stop := p.Pace(900*time.Millisecond, 999); wait != 0 || stop {
		t.Errorf("Pace(0.9s, 999) = %s, %v; want 0, false", wait, stop)
	}
	if _, stop := p.Pace(500*time.Millisecond, 1000); !stop {
		t.Error("max rate did not stop at MaxRequests")
	}
	if _, stop := p.Pace(time.Second, 5); !stop {
		t.Error("max rate did not stop at the duration")
	}
	if _, ok := p.Scheduled(3); ok {
		t.Error("max rate has a schedule")
	}
}

func TestNewPacerRejectsBadShapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		rate  float64
		d     time.Duration
		ramp  *Ramp
		spike *Spike
	}{
		{"negative rate", -1, time.Second, nil, nil},
		{"NaN rate", math.NaN(), time.Second, nil, nil},
		{"zero duration", 10, 0, nil, nil},
		{"ramp at max rate", 0, time.Second, &Ramp{Over: time.Second}, nil},
		{"ramp over nothing", 10, time.Second, &Ramp{From: 1}, nil},
		{"spike factor 0", 10, time.Second, nil, &Spike{For: time.Second}},
		{"infinite spike", 10, time.Second, nil, &Spike{Factor: math.Inf(1), For: time.Second}},
	} {
		if _, err := NewPacer(tc.rate, tc.d, tc.ramp, tc.spike, 0); err == nil {
			t.Errorf("%s: NewPacer accepted it", tc.name)
		}
	}
}

func absDur(d time.Duration) time.Duration { return max(d, -d) }

// At a high rate the pacer sleeps once per quantum, not once per hit, and
// still schedules every hit of the run.
func TestPacerBatchesHitsWithinAQuantum(t *testing.T) {
	t.Parallel()
	p, err := NewPacer(20000, time.Second, nil, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var hits, sleeps uint64
	elapsed := time.Duration(0)
	for {
		wait, stop := p.Pace(elapsed, hits)
		if stop {
			break
		}
		if wait > 0 {
			if wait <= paceQuantum {
				t.Fatalf("Pace(%s, %d) = %s: a wait within the quantum", elapsed, hits, wait)
			}
			sleeps++
			elapsed += wait
		}
		due, _ := p.Scheduled(hits)
		if due-elapsed > paceQuantum {
			t.Fatalf("hit %d sent at %s, %s before it is due at %s", hits, elapsed, due-elapsed, due)
		}
		hits++
	}
	if hits != 20000 || sleeps > uint64(time.Second/paceQuantum)+1 {
		t.Errorf("%d hits with %d sleeps; want 20000 with at most one sleep per %s", hits, sleeps, paceQuantum)
	}
}
