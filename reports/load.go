package reports

import (
	"fmt"
	"strings"
)

// LoadSection is report.json's "load" part: what a load run (hookproof load,
// or the LOAD specs) measured.
type LoadSection struct {
	// RequestedRate is the rate asked for in events/s (0: as fast as possible).
	RequestedRate float64 `json:"requested_rate"`
	// SentRate is the rate actually sent; Throughput the rate of answers.
	SentRate   float64 `json:"sent_rate,omitempty"`
	Throughput float64 `json:"throughput"`
	Requests   uint64  `json:"requests"`
	// SuccessRatio is the share of requests acked 2xx, in [0, 1].
	SuccessRatio float64 `json:"success_ratio"`
	// LatencyMS is measured from each request's scheduled send time, so a
	// stalled receiver shows in it (no coordinated omission), unless
	// LatencyFrom says otherwise (raw results that hold no schedule).
	LatencyMS LatencyMS `json:"latency_ms"`
	// LatencyFrom says what LatencyMS is measured from: LatencyFromSchedule
	// or LatencyFromSend; empty (older reports) means LatencyFromSchedule.
	LatencyFrom string `json:"latency_from,omitempty"`
	// ServiceLatencyMS is measured from the actual send, for comparison.
	ServiceLatencyMS *LatencyMS `json:"service_latency_ms,omitempty"`
	// StatusCodes counts answers by status ("200"), and errors by class.
	StatusCodes map[string]uint64 `json:"status_codes"`
	// Errors counts requests without an answer, by error class.
	Errors map[string]uint64 `json:"errors,omitempty"`
	// Retryable counts non-2xx answers in RiskOS's retry set; Lost counts
	// the others, which make RiskOS give up on the event (RETRY-01).
	Retryable  uint64      `json:"retryable"`
	Lost       uint64      `json:"lost"`
	LostEvents []LostEvent `json:"lost_events,omitempty"`
	// CapacityRPS is the highest rate that met LOAD-01's bounds, when a
	// capacity search ran.
	CapacityRPS *float64 `json:"capacity_rps,omitempty"`
	// DurationS is the run's length in seconds.
	DurationS float64 `json:"duration_s"`
	// Series is latency and rate over time, downsampled for charts.
	Series []SeriesPoint `json:"series,omitempty"`
	// Histogram buckets LatencyMS's samples, as DeliveryStats.Histogram.
	Histogram []Bucket `json:"histogram,omitempty"`
	// Shards is how many load generators' results this section sums (0 or
	// 1: a single run). With more, percentiles are upper bounds (see Merge).
	Shards int `json:"shards,omitempty"`
	// RunID names the run the figures come from, and ShardSet the shards
	// of it they cover ("i/n", sorted; one for a single generator): a merge
	// adds counts and rates only over distinct shards of one run.
	RunID    string   `json:"run_id,omitempty"`
	ShardSet []string `json:"shard_set,omitempty"`
	// Transport is the HTTP client that sent the load ("fast" or
	// "net/http"; "mixed" in a merge of both).
	Transport string `json:"transport,omitempty"`
	// BytesOut and BytesIn are the request and answer body bytes.
	BytesOut uint64 `json:"bytes_out,omitempty"`
	BytesIn  uint64 `json:"bytes_in,omitempty"`
	// Workers is how many requests the generator had in flight at most,
	// against its bound; nil when not known (a merge of raw results).
	Workers *Workers `json:"workers,omitempty"`
}

// Workers is a load generator's concurrency: the most workers it ran at
// once (0 when the engine does not count them: vegeta's loop) and its bound
// (--max-workers). A peak at the bound means the generator, not only the
// receiver, may have held the schedule back.
type Workers struct {
	Peak  int `json:"peak,omitempty"`
	Bound int `json:"bound"`
}

// AtBound reports whether the generator ran out of workers.
func (w *Workers) AtBound() bool { return w != nil && w.Bound > 0 && w.Peak >= w.Bound }

// Sentence is the renderers' line on the workers, with a warning when
// they ran out: part of the latency from the schedule may then be the
// generator's own.
func (w *Workers) Sentence() string {
	s := "Generator workers: " + w.String()
	if w.AtBound() {
		s += ": all in use, so part of the latency from the schedule may be the generator's (hookproof load --max-workers raises the bound)"
	}
	return s
}

// String is "peak 97 of the bound 512", or "bound 512" without a peak.
func (w *Workers) String() string {
	if w.Peak == 0 {
		return fmt.Sprintf("bound %d", w.Bound)
	}
	return fmt.Sprintf("peak %d of the bound %d", w.Peak, w.Bound)
}

// What LoadSection.LatencyMS is measured from.
const (
	LatencyFromSchedule = "scheduled send"
	LatencyFromSend     = "actual send"
)

// LatencyBasis is what LatencyMS is measured from, for renderers: "from the
// scheduled send" or "from the actual send".
func (l *LoadSection) LatencyBasis() string {
	if l.LatencyFrom == "" {
		return "from the " + LatencyFromSchedule
	}
	return "from the " + l.LatencyFrom
}

// LatencyMS are load latency percentiles in milliseconds.
type LatencyMS struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// LostEvent is one event RiskOS would have given up on.
type LostEvent struct {
	EventID string `json:"event_id"`
	// Status is the non-retryable answer, 0 with Error when none came.
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	// BodyExcerpt is the start of the request body; AnswerExcerpt the start
	// of the receiver's answer, when the engine kept it.
	BodyExcerpt   string `json:"body_excerpt,omitempty"`
	AnswerExcerpt string `json:"answer_excerpt,omitempty"`
}

// Excerpt returns the first n bytes of b as valid UTF-8, saying how long b
// was when it is cut.
func Excerpt(b []byte, n int) string {
	if len(b) <= n {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return strings.ToValidUTF8(string(b[:n]), "\uFFFD") + fmt.Sprintf("… (%d bytes)", len(b))
}

// SeriesPoint is one interval of a load run, T seconds after its start.
type SeriesPoint struct {
	T      float64 `json:"t"`
	Rate   float64 `json:"rate"`
	P50    float64 `json:"p50"`
	P99    float64 `json:"p99"`
	Errors uint64  `json:"errors"`
}
