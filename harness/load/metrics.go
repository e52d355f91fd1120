package load

import (
	"strconv"
	"time"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Quantiles are the latency figures of a summary, in milliseconds.
type Quantiles struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
}

func quantilesOf(h *Histogram) Quantiles {
	return Quantiles{
		P50: ms(h.Quantile(0.5)), P90: ms(h.Quantile(0.9)), P95: ms(h.Quantile(0.95)),
		P99: ms(h.Quantile(0.99)), P999: ms(h.Quantile(0.999)), Max: ms(h.Max()),
		Mean: ms(h.Mean()), Min: ms(h.Min()),
	}
}

// MetricsConfig configures a Metrics accumulator.
type MetricsConfig struct {
	// Start anchors the series; zero means the first result's start.
	Start time.Time
	// SeriesWidth is the initial window of the latency-over-time series
	// (default 1 s); SeriesPoints caps its length (default 600), windows
	// being merged pairwise beyond it.
	SeriesWidth  time.Duration
	SeriesPoints int
	// Retry decides which non-2xx answers are retryable and which lose the
	// event (RETRY-01); the zero value means harness.DefaultRetryPolicy.
	Retry *harness.RetryPolicy
}

// Metrics folds a stream of vegeta results into a summary with bounded
// memory: two fixed-size histograms, a capped series, and maps keyed by
// status code and error class (both small, closed sets). It is not safe for
// concurrent use; the engine serialises access.
type Metrics struct {
	cfg    MetricsConfig
	policy harness.RetryPolicy

	service, response *Histogram
	series            *series

	requests, ok, retryable, lost, canceled uint64
	bytesOut, bytesIn                       uint64
	codes                                   map[int]uint64
	errors                                  map[harness.ErrorClass]uint64
	first, last, end                        time.Time
	maxLag                                  time.Duration
}

// NewMetrics returns an empty accumulator.
func NewMetrics(cfg MetricsConfig) *Metrics {
	if cfg.SeriesWidth <= 0 {
		cfg.SeriesWidth = time.Second
	}
	if cfg.SeriesPoints <= 0 {
		cfg.SeriesPoints = 600
	}
	m := &Metrics{
		cfg:      cfg,
		policy:   harness.DefaultRetryPolicy(),
		service:  NewHistogram(fineBits),
		response: NewHistogram(fineBits),
		codes:    map[int]uint64{},
		errors:   map[harness.ErrorClass]uint64{},
	}
	if cfg.Retry != nil {
		m.policy = *cfg.Retry
	}
	if !cfg.Start.IsZero() {
		m.series = newSeries(cfg.Start, cfg.SeriesWidth, cfg.SeriesPoints)
	}
	return m
}

// Add counts one result. lag is how late the hit started against its
// schedule (0 when the pacer has no schedule, as at maximum rate); the
// response latency is Latency+lag.
func (m *Metrics) Add(r *vegeta.Result, lag time.Duration) {
	lag = max(lag, 0)
	if m.requests == 0 || r.Timestamp.Before(m.first) {
		m.first = r.Timestamp
	}
	if r.Timestamp.After(m.last) {
		m.last = r.Timestamp
	}
	end := r.End()
	if end.After(m.end) {
		m.end = end
	}
	if m.series == nil {
		m.series = newSeries(r.Timestamp, m.cfg.SeriesWidth, m.cfg.SeriesPoints)
	}
	m.requests++
	m.bytesOut += r.BytesOut
	m.bytesIn += r.BytesIn
	m.service.Record(r.Latency)
	m.response.Record(r.Latency + lag)
	m.maxLag = max(m.maxLag, lag)

	status := int(r.Code)
	if status != 0 {
		m.codes[status]++
	} else {
		m.errors[classifyResultError(r.Error)]++
	}
	// A 2xx whose body could not be read is still an error for the sender:
	// RiskOS never saw the ack complete.
	ok := false
	switch m.policy.Judge(status) {
	case harness.Acked:
		if r.Error == "" {
			m.ok++
			ok = true
		} else {
			m.errors[classifyResultError(r.Error)]++
			m.retryable += boolCount(m.policy.RetryNetworkErrors)
			m.lost += boolCount(!m.policy.RetryNetworkErrors)
		}
	case harness.Retry:
		m.retryable++
	case harness.Lost:
		m.lost++
	}
	m.series.add(end, r.Latency, r.Latency+lag, ok)
}

// AddCanceled counts a request cut short because the run was canceled; it
// says nothing about the receiver, so it is kept out of every other figure.
func (m *Metrics) AddCanceled() { m.canceled++ }

func boolCount(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// Requests returns how many results were added (canceled ones excluded).
func (m *Metrics) Requests() uint64 { return m.requests }

// Snapshot is the live view of a run in progress, for a one-line display.
type Snapshot struct {
	Elapsed  time.Duration `json:"elapsed"`
	Requests uint64        `json:"requests"`
	// SentRate is the average rate at which hits started so far.
	SentRate     float64 `json:"sent_rate"`
	SuccessRatio float64 `json:"success_ratio"`
	P99MS        float64 `json:"p99_ms"`
	// ResponseP99MS is measured from the scheduled send time.
	ResponseP99MS float64 `json:"response_p99_ms"`
	// Errors counts every answer that is not an acked 2xx.
	Errors uint64 `json:"errors"`
}

// Snapshot returns the live figures; elapsed is the caller's clock.
func (m *Metrics) Snapshot(elapsed time.Duration) Snapshot {
	return Snapshot{
		Elapsed: elapsed, Requests: m.requests, SentRate: m.sentRate(),
		SuccessRatio: m.successRatio(), P99MS: ms(m.service.Quantile(0.99)),
		ResponseP99MS: ms(m.response.Quantile(0.99)), Errors: m.requests - m.ok,
	}
}

// sentRate is requests per second between the first and the last start: n
// hits of a perfect constant pacer span (n-1) intervals.
func (m *Metrics) sentRate() float64 {
	d := m.last.Sub(m.first)
	if m.requests < 2 || d <= 0 {
		return 0
	}
	return float64(m.requests-1) / d.Seconds()
}

func (m *Metrics) successRatio() float64 {
	if m.requests == 0 {
		return 0
	}
	return float64(m.ok) / float64(m.requests)
}

// Summary is one run's figures: what report.json's `load` section is built
// from (Section), plus the series and histogram the HTML report charts.
type Summary struct {
	Attack string `json:"attack"`
	// RunID and Shard say which run and which part of it the figures are
	// (Options.RunID, Options.Shard); Transport which HTTP client sent
	// them (TransportFast or TransportNetHTTP).
	RunID     string `json:"run_id,omitempty"`
	Shard     Shard  `json:"shard"`
	Transport string `json:"transport,omitempty"`
	// NoSchedule says the latencies "from the scheduled send" are in fact
	// from the actual send: a summary of results files that hold no
	// schedule (vegeta attack's, or an older hookproof's).
	NoSchedule    bool    `json:"no_schedule,omitempty"`
	RequestedRate float64 `json:"requested_rate"` // events/s; 0 = as fast as possible
	// Throughput is acked (2xx) events per second from the first start to
	// the last completion; SentRate is the rate at which hits started.
	Throughput   float64 `json:"throughput"`
	SentRate     float64 `json:"sent_rate"`
	Requests     uint64  `json:"requests"`
	Acked        uint64  `json:"acked"`
	SuccessRatio float64 `json:"success_ratio"`
	DurationS    float64 `json:"duration_s"`
	// LatencyMS is service latency (from the actual send); ResponseLatencyMS
	// is measured from the scheduled send and exposes coordinated omission.
	LatencyMS         Quantiles `json:"latency_ms"`
	ResponseLatencyMS Quantiles `json:"response_latency_ms"`
	// MaxScheduleLagMS is the most a hit started behind its schedule.
	MaxScheduleLagMS float64           `json:"max_schedule_lag_ms"`
	StatusCodes      map[string]uint64 `json:"status_codes"`
	Errors           map[string]uint64 `json:"errors,omitempty"`
	// Retryable counts answers RiskOS would retry (RETRY-01: the event is
	// not lost yet); Lost counts answers that lose the event.
	Retryable  uint64      `json:"retryable"`
	Lost       uint64      `json:"lost"`
	LostEvents []LostEvent `json:"lost_events,omitempty"`
	// LostEventsTruncated says LostEvents holds only the first of Lost.
	LostEventsTruncated bool   `json:"lost_events_truncated,omitempty"`
	Duplicates          uint64 `json:"duplicates"`
	Canceled            uint64 `json:"canceled,omitempty"`
	// Workers is the generator's peak concurrency against its bound.
	Workers           *reports.Workers `json:"workers,omitempty"`
	Interrupted       bool             `json:"interrupted,omitempty"`
	AuthRefreshErrors uint64           `json:"auth_refresh_errors,omitempty"`
	CapacityRPS       float64          `json:"capacity_rps,omitempty"`
	BytesOut          uint64           `json:"bytes_out"`
	// BytesIn counts the answers' body bytes (at most MaxBodyCapture each),
	// as vegeta's BytesIn does.
	BytesIn      uint64            `json:"bytes_in"`
	StartedAt    time.Time         `json:"started_at"`
	SeriesWidthS float64           `json:"series_width_s"`
	Series       []SeriesPoint     `json:"series"`
	Histogram    []HistogramBucket `json:"histogram"`
}

// LostEvent is one event a non-retryable answer lost (RETRY-01 evidence).
type LostEvent struct {
	EventID    string `json:"event_id"`
	Status     int    `json:"status"`
	ErrorClass string `json:"error_class,omitempty"`
	// BodyExcerpt is the start of the request body, so a report can show
	// what the receiver refused (a field value it rejected, say).
	BodyExcerpt string `json:"body_excerpt,omitempty"`
	// AnswerExcerpt is the start of the receiver's answer, which often says
	// why it refused the event.
	AnswerExcerpt string `json:"answer_excerpt,omitempty"`
}

// Summary returns the figures so far. It may be called more than once.
func (m *Metrics) Summary() *Summary {
	s := &Summary{
		Requests: m.requests, Acked: m.ok, SuccessRatio: m.successRatio(), SentRate: m.sentRate(),
		LatencyMS: quantilesOf(m.service), ResponseLatencyMS: quantilesOf(m.response),
		MaxScheduleLagMS: ms(m.maxLag), StatusCodes: make(map[string]uint64, len(m.codes)),
		Retryable: m.retryable, Lost: m.lost, Canceled: m.canceled, BytesOut: m.bytesOut, BytesIn: m.bytesIn,
		StartedAt: m.first, Histogram: m.service.Buckets(8),
	}
	if window := m.end.Sub(m.first); m.requests > 0 && window > 0 {
		s.Throughput = float64(m.ok) / window.Seconds()
		s.DurationS = window.Seconds()
	}
	for c, n := range m.codes {
		s.StatusCodes[strconv.Itoa(c)] = n
	}
	if len(m.errors) > 0 {
		s.Errors = make(map[string]uint64, len(m.errors))
		for c, n := range m.errors {
			s.Errors[string(c)] = n
		}
	}
	if m.series != nil {
		var width time.Duration
		s.Series, width = m.series.snapshot()
		s.SeriesWidthS = width.Seconds()
	}
	return s
}
