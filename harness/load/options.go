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

// Shard is this generator's part of a run split across N machines
// (design.md, "Beyond one machine"): it sends 1/N of the rate and of
// MaxRequests, draws event_ids from its own seed space, and names its attack
// after the shard so that `vegeta report` and `vegeta plot` can merge the
// result files. The zero value means no sharding.
type Shard struct {
	I int `json:"i"`
	N int `json:"n"`
}

// Defaults of an Options field left zero.
const (
	// DefaultClosedLoopWorkers bounds concurrency at maximum rate: past the
	// point where generator and receiver saturate the CPU, more concurrency
	// only adds queueing latency (vegeta.md §3.3: throughput is flat from 10
	// to 200), and 50 is what the reference measurements used.
	DefaultClosedLoopWorkers = 50
	// MinWorkers and MaxDefaultWorkers clamp the open-model default, which is
	// Little's law at the ack budget: a receiver answering right at the budget
	// needs peak rate × budget requests in flight. The cap keeps a slow
	// receiver from making the generator spawn thousands of goroutines and
	// sockets, which is how vegeta collapses (vegeta.md §3.4); beyond it the
	// shortfall shows as schedule lag in the response latency.
	MinWorkers        = 32
	MaxDefaultWorkers = 512
	// MaxRunDuration bounds one run.
	MaxRunDuration = 24 * time.Hour
	// MaxRateRequestsPerSecond bounds a maximum-rate run whose MaxRequests is
	// zero: Duration × this many requests, well above what one generator
	// sends (about 15k/s on two cores).
	MaxRateRequestsPerSecond = 200_000
	// DefaultLostEvents caps the lost event_ids a summary lists.
	DefaultLostEvents = 1000
)

// Options shape one load run. Zero fields take the defaults documented on
// each; Config supplies the target, timeouts, headers and retry policy.
type Options struct {
	// Target overrides Config.Target.
	Target string
	// Rate is events per second; 0 means as fast as possible with MaxWorkers
	// requests in flight (closed loop), which admits no Ramp or Spike.
	Rate float64
	// Duration bounds the run; zero means Config.LoadDuration. At most
	// MaxRunDuration.
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
	// MaxWorkers bounds vegeta's workers (see the Default* constants);
	// Connections bounds the sockets to the target (default MaxWorkers).
	MaxWorkers  int
	Connections int
	// Seed seeds event generation; each run mixes in a random nonce so that
	// event_ids never repeat across runs against a receiver that remembers.
	Seed  int64
	Shard Shard
	// AckBudget sizes the default MaxWorkers; zero means
	// Config.Timeouts.AckBudget. Judging the run is the caller's job.
	AckBudget time.Duration
	// Timeout bounds one request end to end; zero means
	// Config.Timeouts.Attempt.
	Timeout time.Duration
	// EventTypes to draw from; empty means Config.EventTypes, then the whole
	// catalogue.
	EventTypes []string
	// Results, if set, receives every result in vegeta's gob format, so that
	// `vegeta report` and `vegeta plot` read it. Encoding costs throughput.
	Results io.Writer
	// OnFailure, if set, is called for every answer that is not a 2xx and
	// every transport error, with the event that got it. It is called from
	// the sending goroutines, concurrently, and must not block.
	OnFailure func(Failure)
	// LostEvents caps Summary.LostEvents (default DefaultLostEvents).
	LostEvents int
	// SeriesPoints caps the latency-over-time series (default 600).
	SeriesPoints int
	// AllowNonLoopback permits a target that is not on loopback. Runs are
	// bounded either way, but pointing a load generator at someone else's
	// host must be a deliberate choice.
	AllowNonLoopback bool
	// NewSource makes one event source per sending goroutine; nil means
	// harness.NewGenerator.
	NewSource func(seed int64) EventSource
}

// normalize fills defaults from cfg and validates, naming each field.
func (o Options) normalize(cfg harness.Config) (Options, error) {
	var errs []error
	if o.Target == "" {
		o.Target = cfg.Target
	}
	if o.Duration == 0 {
		o.Duration = cfg.LoadDuration
	}
	if o.AckBudget == 0 {
		o.AckBudget = cfg.Timeouts.AckBudget
	}
	if o.Timeout == 0 {
		o.Timeout = cfg.Timeouts.Attempt
	}
	if len(o.EventTypes) == 0 {
		o.EventTypes = cfg.EventTypes
	}
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = 1024
	}
	if o.LostEvents == 0 {
		o.LostEvents = DefaultLostEvents
	}
	if err := checkTarget(o.Target, o.AllowNonLoopback); err != nil {
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
	if o.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout: must be positive, got %s", o.Timeout))
	}
	if o.AckBudget <= 0 {
		errs = append(errs, fmt.Errorf("ack_budget: must be positive, got %s", o.AckBudget))
	}
	if o.Shard != (Shard{}) && (o.Shard.N < 1 || o.Shard.I < 0 || o.Shard.I >= o.Shard.N) {
		errs = append(errs, fmt.Errorf("shard: %d/%d is not i/n with 0 ≤ i < n", o.Shard.I, o.Shard.N))
	}
	if o.Shard.N == 0 {
		o.Shard = Shard{I: 0, N: 1}
	}
	if o.Rate < 0 || math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0) {
		errs = append(errs, fmt.Errorf("rate: %g is not a finite rate ≥ 0", o.Rate))
	}
	return o, errors.Join(errs...)
}

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
	return fmt.Errorf("host %q is not loopback; load runs only against loopback unless --allow-remote-load is given", u.Hostname())
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

// attackName is the vegeta attack name of a shard, distinct per shard so
// that merged result files plot.
func (o Options) attackName() string {
	if o.Shard.N <= 1 {
		return "hookproof"
	}
	return fmt.Sprintf("hookproof-shard-%d-of-%d", o.Shard.I, o.Shard.N)
}

// workers returns the initial and maximum vegeta workers and the connection
// bound for a pacer whose peak rate is peak (0 = maximum rate).
func (o Options) workers(peak float64) (initial, maxW uint64, conns int) {
	maxW = uint64(o.MaxWorkers)
	if maxW == 0 {
		if peak == 0 {
			maxW = DefaultClosedLoopWorkers
		} else {
			need := math.Ceil(peak * o.AckBudget.Seconds())
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
