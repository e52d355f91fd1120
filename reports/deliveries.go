package reports

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// DeliveryStats summarises every conformance delivery attempt of a run: the
// data behind the ack-latency chart and the status-code breakdown.
type DeliveryStats struct {
	// Total counts every attempt, answered or not.
	Total int `json:"total"`
	// StatusCodes counts answers by HTTP status ("200"), and attempts
	// without an answer by error class ("timeout", "connection_reset").
	StatusCodes map[string]int `json:"status_codes"`
	// AckLatencyMS is over answered attempts only: a transport error has
	// no ack latency, and counting it would flatter or distort the tail.
	AckLatencyMS Percentiles `json:"ack_latency_ms"`
	// AckBudgetMS is the p99 bound ACK-02 judges against.
	AckBudgetMS float64 `json:"ack_budget_ms"`
	// OverBudget counts answered attempts slower than the budget.
	OverBudget int `json:"over_budget"`
	// Histogram buckets answered latencies; bucket i holds latencies in
	// (Histogram[i-1].UpperMS, Histogram[i].UpperMS].
	Histogram    []Bucket               `json:"histogram,omitempty"`
	PerEventType map[string]Percentiles `json:"per_event_type,omitempty"`
}

// Percentiles are latency percentiles in milliseconds, by nearest rank over
// Count samples.
type Percentiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// Bucket is one histogram bar: Count samples at most UpperMS (and above the
// previous bucket's bound).
type Bucket struct {
	UpperMS float64 `json:"upper_ms"`
	Count   int     `json:"count"`
}

// histogramBounds are the default bucket bounds in ms, roughly 1-2-5 per
// decade so that both a fast local receiver and a slow remote one get a
// readable chart.
var histogramBounds = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000}

// NewDeliveryStats summarises attempts; ackBudget (ACK-02's bound) becomes
// a histogram bound so the chart can show which bars are over budget.
// Attempts the sender abandoned on purpose (lost-ack simulation) are
// counted by class but have no latency sample.
func NewDeliveryStats(attempts []harness.Attempt, ackBudget time.Duration) *DeliveryStats {
	s := &DeliveryStats{
		Total:       len(attempts),
		StatusCodes: map[string]int{},
		AckBudgetMS: ms(ackBudget),
	}
	var all []float64
	perType := map[string][]float64{}
	for _, a := range attempts {
		s.StatusCodes[AnswerKey(a)]++
		if a.Status == 0 {
			continue
		}
		l := ms(a.Latency)
		all = append(all, l)
		t := typeKey(a)
		perType[t] = append(perType[t], l)
		if ackBudget > 0 && a.Latency > ackBudget {
			s.OverBudget++
		}
	}
	s.AckLatencyMS = percentiles(all)
	s.Histogram = histogram(all, s.AckBudgetMS)
	if len(perType) > 0 {
		s.PerEventType = make(map[string]Percentiles, len(perType))
		for t, v := range perType {
			s.PerEventType[t] = percentiles(v)
		}
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentiles sorts v in place and reads nearest-rank percentiles: the
// p-th percentile is the smallest sample with at least p % of samples at or
// below it, so every figure is an observed latency, never an interpolation.
func percentiles(v []float64) Percentiles {
	if len(v) == 0 {
		return Percentiles{}
	}
	slices.Sort(v)
	return Percentiles{
		Count: len(v),
		P50:   rank(v, 0.50),
		P90:   rank(v, 0.90),
		P95:   rank(v, 0.95),
		P99:   rank(v, 0.99),
		Max:   v[len(v)-1],
	}
}

func rank(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// histogram buckets samples on histogramBounds plus budget, dropping the
// empty buckets beyond the largest sample and doubling the last bound
// until it covers the largest sample, so there is no open-ended bucket.
func histogram(samples []float64, budget float64) []Bucket {
	if len(samples) == 0 {
		return nil
	}
	bounds := slices.Clone(histogramBounds)
	if budget > 0 && !slices.Contains(bounds, budget) {
		bounds = append(bounds, budget)
		slices.Sort(bounds)
	}
	largest := slices.Max(samples)
	for bounds[len(bounds)-1] < largest {
		bounds = append(bounds, bounds[len(bounds)-1]*2)
	}
	// Keep bounds up to the first one covering the largest sample, and at
	// least up to the budget so the chart shows where it lies.
	last := len(bounds) - 1
	for i, b := range bounds {
		if b >= largest && b >= budget {
			last = i
			break
		}
	}
	bounds = bounds[:last+1]
	out := make([]Bucket, len(bounds))
	for i, b := range bounds {
		out[i].UpperMS = b
	}
	for _, v := range samples {
		i, _ := slices.BinarySearch(bounds, v)
		out[min(i, len(out)-1)].Count++
	}
	return out
}

// typeKey groups an attempt for the per-event-type table. Attempts without
// an event type are the load checks' generated events and the deliberately
// broken requests (forged credentials, hostile bodies): they are named by
// the check that sent them, not lumped together as "unknown".
func typeKey(a harness.Attempt) string {
	switch {
	case a.EventType != "":
		return a.EventType
	case strings.HasPrefix(a.Label, "load:"):
		return "load events (" + strings.TrimPrefix(a.Label, "load:") + ")"
	case a.Label != "":
		return "untyped requests (" + a.Label + ")"
	}
	return "untyped requests"
}
