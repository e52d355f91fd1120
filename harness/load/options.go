package load

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// The transports of Options.Transport.
const (
	TransportFast    = "fast"
	TransportNetHTTP = "net/http"
)

// Defaults of an Options field left zero.
const (
	// DefaultClosedLoopWorkers bounds concurrency at maximum rate: past the
	// point where generator and receiver saturate the CPU, more concurrency
	// only adds queueing latency (measured with vegeta: throughput is flat from
	// 10 to 200 workers), and 50 is what the reference measurements used.
	DefaultClosedLoopWorkers = 50
	// MinWorkers and MaxDefaultWorkers clamp the open-model default, which is
	// Little's law at the ack budget: a receiver answering right at the budget
	// needs peak rate × budget requests in flight. The cap keeps a slow
	// receiver from making the generator spawn thousands of goroutines and
	// sockets, which is how vegeta collapses under a slow receiver; beyond it the
	// shortfall shows as schedule lag in the response latency.
	MinWorkers        = 32
	MaxDefaultWorkers = 512
	// MaxRunDuration bounds one run.
	MaxRunDuration = 24 * time.Hour
	// MaxRateRequestsPerSecond bounds a maximum-rate run whose MaxRequests is
	// zero: Duration × this many requests, well above what one generator
	// sends (about 60k/s on two cores shared with a receiver).
	MaxRateRequestsPerSecond = 200_000
	// DefaultLostEvents caps the lost event_ids a summary lists.
	DefaultLostEvents = 1000
)

// Options shape one load run. Zero fields take the defaults documented on
// each. Everything a run shares with the rest of hookproof comes from the
// Config alone: the target and whether it may be remote
// (Config.AllowRemoteLoad), the request timeout (Timeouts.Attempt), the
// ack budget that sizes the workers (Timeouts.AckBudget), the event types,
// headers, TLS and retry policy.
type Options struct {
	// Rate is events per second; 0 means as fast as possible with MaxWorkers
	// requests in flight (closed loop), which admits no Ramp or Spike.
	Rate float64
	// Duration bounds the run, at most MaxRunDuration; it must be set (a
	// caller running Config.LoadDuration passes it).
	Duration time.Duration
	// MaxRequests is a hard bound on hits; zero means the schedule's own
	// count, or Duration × MaxRateRequestsPerSecond at maximum rate.
	MaxRequests uint64
	// Ramp and Spike shape the rate (see Pacer).
	Ramp  *Ramp
	Spike *Spike
	// DuplicateRatio in [0, 1) is the share of hits that re-send one of the
	// last DuplicateWindow events with its original event_id and body.
	DuplicateRatio  float64
	DuplicateWindow int // default 1024
	// MaxWorkers bounds the workers, and so the requests in flight (see the
	// Default* constants); a paced run starts with a few and adds one for
	// each hit no worker was free to take, up to the bound. Connections
	// bounds the sockets to the target (default MaxWorkers).
	MaxWorkers  int
	Connections int
	// Seed seeds event generation; each run mixes in a random nonce so that
	// event_ids never repeat across runs against a receiver that remembers.
	Seed  int64
	Shard Shard
	// Results, if set, receives every result in vegeta's gob format, so that
	// `vegeta report` and `vegeta plot` read it, with the schedule lag and
	// the run id in each result's Headers (ResultScheduleLag, ResultRun).
	// The engine buffers it and writes whole results about once a second
	// (and flushes it, if it has a Flush() error method), so that a run
	// killed midway leaves a file of what it measured. Encoding costs
	// throughput.
	Results io.Writer
	// ScrubResult, when set, rewrites each result's URL and error text
	// before it is written to Results: a target URL or a transport error
	// can carry a credential, and the file is shared like a report.
	ScrubResult func(string) string
	// RunID names the run in its results and its report's load section, so
	// that merges refuse shards of different runs; empty means
	// LayoutRunID of the run's layout for a shard, NewRunID otherwise.
	RunID string
	// Transport picks the engine of a plain-http target: TransportFast (the
	// default: the engine's attack loop and HTTP/1.1 client) or
	// TransportNetHTTP (vegeta's Attacker over net/http), to rule the fast
	// path out when a figure looks wrong. https targets always use
	// net/http (see TransportFor).
	Transport string
	// OnFailure, if set, is called for every answer that is not a 2xx and
	// every transport error, with the event that got it. It is called from
	// the sending goroutines, concurrently, and must not block.
	OnFailure func(Failure)
	// LostEvents caps Summary.LostEvents (default DefaultLostEvents).
	LostEvents int
	// SeriesPoints caps the latency-over-time series (default 600).
	SeriesPoints int
	// NewSource makes one event source per sending goroutine; nil means
	// harness.NewGenerator.
	NewSource func(seed int64) EventSource
}

// TransportFor is the client a run against target with the asked
// transport uses: the fast path takes plain http without credentials in
// the URL (net/http turns those into a header); everything else, https
// first, goes through vegeta's Attacker and net/http.
func TransportFor(target, transport string) string {
	if transport != TransportFast {
		return TransportNetHTTP
	}
	if u, err := url.Parse(target); err != nil || u.Scheme != "http" || u.User != nil {
		return TransportNetHTTP
	}
	return TransportFast
}

// settings are Options resolved against the Config: what one engine runs
// with.
type settings struct {
	Options
	target    string
	timeout   time.Duration // one request, end to end
	ackBudget time.Duration // sizes the default MaxWorkers
	types     []string      // event types to draw from
}

// Validate reports every problem New would refuse opts for under cfg,
// each naming its field, without building an engine: a caller checks its
// input once, before it touches the network. A target not on loopback
// without cfg.AllowRemoteLoad wraps ErrNotLoopback.
func (o Options) Validate(cfg harness.Config) error {
	_, _, err := o.resolve(cfg)
	return err
}

// normalize fills defaults, takes the shared settings from cfg and
// validates, naming each field.
func (o Options) normalize(cfg harness.Config) (settings, error) {
	var errs []error
	st := settings{target: cfg.Target, timeout: cfg.Timeouts.Attempt, ackBudget: cfg.Timeouts.AckBudget, types: cfg.EventTypes}
	if len(st.types) == 0 {
		st.types = harness.EventTypeNames()
	}
	for _, t := range st.types {
		if _, ok := harness.LookupEventType(t); !ok {
			errs = append(errs, fmt.Errorf("event_types: %q is not a RiskOS event type", t))
		}
	}
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = 1024
	}
	if o.LostEvents == 0 {
		o.LostEvents = DefaultLostEvents
	}
	if err := checkTarget(st.target, cfg.AllowRemoteLoad); err != nil {
		errs = append(errs, fmt.Errorf("target: %w", err))
	}
	if o.Duration <= 0 || o.Duration > MaxRunDuration {
		errs = append(errs, fmt.Errorf("duration: %s is outside (0, %s]", o.Duration, MaxRunDuration))
	}
	if math.IsNaN(o.DuplicateRatio) || o.DuplicateRatio < 0 || o.DuplicateRatio >= 1 {
		errs = append(errs, fmt.Errorf("duplicate_ratio: %g is outside [0, 1)", o.DuplicateRatio))
	}
	if o.DuplicateWindow < 1 || o.DuplicateWindow > 1<<20 {
		errs = append(errs, fmt.Errorf("duplicate_window: %d is outside 1..%d", o.DuplicateWindow, 1<<20))
	}
	if o.MaxWorkers < 0 || o.MaxWorkers > 100_000 {
		errs = append(errs, fmt.Errorf("max_workers: %d is outside 0..100000", o.MaxWorkers))
	}
	if o.Connections < 0 {
		errs = append(errs, fmt.Errorf("connections: %d is negative", o.Connections))
	}
	if st.timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeouts.attempt: must be positive, got %s", st.timeout))
	}
	if st.ackBudget <= 0 {
		errs = append(errs, fmt.Errorf("timeouts.ack_budget: must be positive, got %s", st.ackBudget))
	}
	if o.Shard != (Shard{}) && !o.Shard.valid() {
		errs = append(errs, fmt.Errorf("shard: %s is not i/n with 0 ≤ i < n", o.Shard))
	}
	if o.Shard.N == 0 {
		o.Shard = Shard{I: 0, N: 1}
	}
	if o.Rate < 0 || math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0) {
		errs = append(errs, fmt.Errorf("rate: %g is not a finite rate ≥ 0", o.Rate))
	}
	switch o.Transport {
	case "":
		o.Transport = TransportFast
	case TransportFast, TransportNetHTTP:
	default:
		errs = append(errs, fmt.Errorf("transport: %q is not %s or %s", o.Transport, TransportFast, TransportNetHTTP))
	}
	if !validHeaderValue(o.RunID) || len(o.RunID) > 128 {
		errs = append(errs, fmt.Errorf("run_id: must be at most 128 characters on one line"))
	}
	if o.RunID == "" {
		if o.Shard.N > 1 {
			o.RunID = LayoutRunID(st.target, o.Rate, o.Duration, o.Shard.N, o.Seed, o.MaxRequests, o.DuplicateRatio, st.types, o.Ramp, o.Spike)
		} else {
			o.RunID = NewRunID()
		}
	}
	st.Options = o
	return st, errors.Join(errs...)
}

// ErrNotLoopback is wrapped by New and Validate when the target is not on
// this machine and the Config does not allow remote load: runs are
// bounded either way, but pointing a load generator at someone else's
// host must be a deliberate choice.
var ErrNotLoopback = errors.New("not loopback")

// checkTarget accepts an http(s) URL on loopback, or anywhere when allowed.
// Names other than localhost are not resolved: a name that resolves to
// loopback today may not tomorrow.
func checkTarget(raw string, allowAny bool) error {
	if raw == "" {
		return errors.New("required")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("not an absolute http(s) URL") // never echo: it may carry userinfo
	}
	if allowAny || IsLoopback(raw) {
		return nil
	}
	return fmt.Errorf("host %q is %w", u.Hostname(), ErrNotLoopback)
}

// IsLoopback reports whether a target URL names this machine (localhost
// or a loopback address).
func IsLoopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// attackName is the vegeta attack name of the run's shard.
func (o settings) attackName() string { return o.Shard.AttackName() }

// workers returns the initial and maximum workers and the connection
// bound for a pacer whose peak rate is peak (0 = maximum rate).
func (o settings) workers(peak float64) (initial, maxW uint64, conns int) {
	maxW = uint64(o.MaxWorkers)
	if maxW == 0 {
		if peak == 0 {
			maxW = DefaultClosedLoopWorkers
		} else {
			need := math.Ceil(peak * o.ackBudget.Seconds())
			maxW = uint64(min(max(need, MinWorkers), MaxDefaultWorkers))
		}
	}
	initial = min(maxW, 10)
	if peak == 0 {
		initial = maxW // closed loop: all workers busy from the start
	}
	conns = o.Connections
	if conns == 0 {
		conns = int(maxW)
	}
	return initial, maxW, conns
}
