package load

import (
	"fmt"
	"math"
	"slices"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Ramp raises the rate linearly from From to Options.Rate over Over, then
// holds Options.Rate for the rest of the run.
type Ramp struct {
	From float64       `json:"from"`
	Over time.Duration `json:"over"`
}

// Spike multiplies the rate by Factor during [At, At+For): LOAD-04's burst
// (default 10× for 5 s).
type Spike struct {
	Factor float64       `json:"factor"`
	At     time.Duration `json:"at"`
	For    time.Duration `json:"for"`
}

// segment is a stretch of the schedule over which the rate changes linearly
// from r0 to r1 (events/s).
type segment struct {
	start, dur time.Duration
	r0, r1     float64
}

// hits is how many hits the segment schedules in its first tau.
func (s segment) hits(tau time.Duration) float64 {
	t, d := tau.Seconds(), s.dur.Seconds()
	return s.r0*t + (s.r1-s.r0)*t*t/(2*d)
}

// at inverts hits: the offset into the segment by which h hits are due.
// The form 2h/(r0+√(r0²+2kh)) stays exact when the slope k is 0 or negative.
func (s segment) at(h float64) time.Duration {
	if h <= 0 {
		return 0
	}
	k := (s.r1 - s.r0) / s.dur.Seconds()
	disc := math.Max(s.r0*s.r0+2*k*h, 0)
	den := s.r0 + math.Sqrt(disc)
	if den <= 0 {
		return s.dur
	}
	return time.Duration(2 * h / den * 1e9)
}

// Pacer is the engine's vegeta.Pacer: a piecewise-linear rate profile
// (constant, ramp, spike, or both) with an exact schedule, hit s (0-based)
// being due when the profile's cumulative hits reach s. Because the schedule
// is a pure function of the hit number, the engine can tell how late each hit
// started (Scheduled), which vegeta's bounded workers otherwise hide. A zero
// rate means as fast as possible, with no schedule.
//
// Pace and Rate are pure functions of their arguments, so a Pacer is safe for
// concurrent use.
type Pacer struct {
	segs    []segment
	cum     []float64 // hits scheduled before each segment
	total   time.Duration
	maxHits uint64
}

var _ vegeta.Pacer = (*Pacer)(nil)

// NewPacer returns the pacer for rate events/s over duration, shaped by ramp
// and spike (either may be nil), stopping after maxHits hits (0 = no cap
// beyond the schedule). Rate 0 means as fast as possible, which admits no
// ramp or spike.
func NewPacer(rate float64, duration time.Duration, ramp *Ramp, spike *Spike, maxHits uint64) (*Pacer, error) {
	switch {
	case math.IsNaN(rate) || math.IsInf(rate, 0) || rate < 0:
		return nil, fmt.Errorf("rate: %g is not a finite rate ≥ 0", rate)
	case duration <= 0:
		return nil, fmt.Errorf("duration: must be positive, got %s", duration)
	case rate == 0 && (ramp != nil || spike != nil):
		return nil, fmt.Errorf("rate: 0 (as fast as possible) cannot be combined with a ramp or a spike")
	}
	if ramp != nil && (ramp.From < 0 || math.IsNaN(ramp.From) || math.IsInf(ramp.From, 0) || ramp.Over <= 0) {
		return nil, fmt.Errorf("ramp: from %g over %s must be a finite rate ≥ 0 over a positive time", ramp.From, ramp.Over)
	}
	if spike != nil && (spike.Factor <= 0 || math.IsNaN(spike.Factor) || math.IsInf(spike.Factor, 0) || spike.At < 0 || spike.For <= 0) {
		return nil, fmt.Errorf("spike: factor %g at %s for %s must be a positive factor, a start ≥ 0 and a positive length", spike.Factor, spike.At, spike.For)
	}
	p := &Pacer{total: duration, maxHits: maxHits}
	if rate == 0 {
		return p, nil
	}
	base := func(t time.Duration) float64 {
		if ramp == nil || t >= ramp.Over {
			return rate
		}
		return ramp.From + (rate-ramp.From)*t.Seconds()/ramp.Over.Seconds()
	}
	factor := func(t time.Duration) float64 {
		if spike != nil && t >= spike.At && t < spike.At+spike.For {
			return spike.Factor
		}
		return 1
	}
	cuts := []time.Duration{0, duration}
	if ramp != nil {
		cuts = append(cuts, ramp.Over)
	}
	if spike != nil {
		cuts = append(cuts, spike.At, spike.At+spike.For)
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	var sum float64
	for i := 0; i+1 < len(cuts) && cuts[i] < duration; i++ {
		a, b := cuts[i], min(cuts[i+1], duration)
		f := factor(a + (b-a)/2)
		s := segment{start: a, dur: b - a, r0: base(a) * f, r1: base(b) * f}
		p.segs = append(p.segs, s)
		p.cum = append(p.cum, sum)
		sum += s.hits(s.dur)
	}
	return p, nil
}

// Scheduled returns the offset from the start of the run at which hit
// number hit (0-based) is due, and false when the pacer has no schedule
// (maximum rate) or the hit falls after the end of the run.
func (p *Pacer) Scheduled(hit uint64) (time.Duration, bool) {
	if len(p.segs) == 0 {
		return 0, false
	}
	h := float64(hit)
	for i := len(p.segs) - 1; i >= 0; i-- {
		if h < p.cum[i] {
			continue
		}
		s := p.segs[i]
		if h-p.cum[i] > s.hits(s.dur) {
			return 0, false // beyond the last segment
		}
		at := s.start + s.at(h-p.cum[i])
		if at >= p.total {
			return 0, false
		}
		return at, true
	}
	return 0, false
}

// Due returns how many hits are due by elapsed: those whose Scheduled
// offset is at most elapsed, capped by the schedule's length and maxHits
// (0 at maximum rate, which has no schedule).
func (p *Pacer) Due(elapsed time.Duration) uint64 {
	if len(p.segs) == 0 || elapsed < 0 {
		return 0
	}
	var h float64
	for i, s := range p.segs {
		if elapsed < s.start {
			break
		}
		h = p.cum[i] + s.hits(min(elapsed-s.start, s.dur))
	}
	// Hit s is due when the cumulative hits reach s: hits 0..⌊h⌋ are due.
	n := uint64(math.Floor(h)) + 1
	if total, _ := p.Hits(); n > total {
		n = total
	}
	return n
}

// Pace implements vegeta.Pacer: it waits until the next hit is due, sends at
// once when behind (vegeta then catches up; the lag is measured, not hidden),
// and stops after the last scheduled hit or maxHits.
func (p *Pacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if p.maxHits > 0 && hits >= p.maxHits {
		return 0, true
	}
	if len(p.segs) == 0 {
		return 0, elapsed >= p.total
	}
	due, ok := p.Scheduled(hits)
	if !ok {
		return 0, true
	}
	if wait := due - elapsed; wait > paceQuantum {
		return wait, false
	}
	return 0, false
}

// paceQuantum batches the schedule: a hit due within it starts at once
// instead of after a sleep of its own. vegeta's pacer loop sleeps once per
// hit, and at 20,000/s those 50 µs sleeps (a timer and two goroutine
// switches each) overshoot on a busy machine and cost CPU; with the
// quantum, the pacer sleeps at most once per 500 µs and sends the hits due
// in it back to back. A hit that starts early has no schedule lag (it is
// clipped at 0), so the latency from the schedule is never below the
// latency from the send.
const paceQuantum = 500 * time.Microsecond

// Rate implements vegeta.Pacer: the scheduled rate at elapsed (0 at maximum
// rate or after the end).
func (p *Pacer) Rate(elapsed time.Duration) float64 {
	for _, s := range p.segs {
		if elapsed >= s.start && elapsed < s.start+s.dur {
			return s.r0 + (s.r1-s.r0)*(elapsed-s.start).Seconds()/s.dur.Seconds()
		}
	}
	return 0
}

// Hits returns how many hits the schedule holds (capped by maxHits), and
// false when the pacer has no schedule.
func (p *Pacer) Hits() (uint64, bool) {
	if len(p.segs) == 0 {
		return p.maxHits, false
	}
	last := len(p.segs) - 1
	n := uint64(math.Ceil(p.cum[last] + p.segs[last].hits(p.segs[last].dur)))
	if p.maxHits > 0 {
		n = min(n, p.maxHits)
	}
	return n, true
}

// PeakRate returns the highest scheduled rate.
func (p *Pacer) PeakRate() float64 {
	var r float64
	for _, s := range p.segs {
		r = max(r, s.r0, s.r1)
	}
	return r
}
