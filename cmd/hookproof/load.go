package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/harness/load"
	"github.com/hookproof/hookproof/reports"
)

// loadFlags are hookproof load's own flags, beside the shared target flags.
type loadFlags struct {
	rate           float64
	duplicateRatio float64
	ramp           float64
	rampOver       time.Duration
	spike          string
	capacity       bool
	capacityStep   time.Duration
	maxWorkers     int
	connections    int
	maxRequests    uint64
	output         string
	shard          string
	runID          string
	transport      string
	cpuProfile     string
	memProfile     string
}

func newLoadCmd() *cobra.Command {
	var lf loadFlags
	cmd := &cobra.Command{
		Use:   "load --target URL --rate R --duration D",
		Short: "Send bounded load of unique, valid, authenticated events (vegeta)",
		Long: `load sends RiskOS events at a held rate (open model, bounded workers) and
reports throughput, latency percentiles (measured from the scheduled send, so a
receiver that makes hookproof fall behind shows it), status codes and lost events.
LOAD-01 is judged from the run: at least 99.9 % acked 2xx and p99 within --ack-budget.

Shapes: --rate 0 sends as fast as possible; --ramp FROM rises linearly from FROM
to --rate over --ramp-over (default the whole run); --spike FACTOR@AT+FOR
multiplies the rate by FACTOR from AT for FOR (e.g. 10@5s+5s). --capacity
searches for the highest rate meeting LOAD-01's bounds instead, in short steps
from --rate, the whole search bounded by --duration (default 2m).

Load runs target loopback only. Every run is bounded in time (--duration) and
in requests (--max-requests, default derived from the schedule). Ctrl-C ends the
run cleanly: the partial results are reported and written, exit code 130.`,
		Args: cobra.NoArgs,
	}
	cf := targetFlags(cmd, harness.DefaultConfig())
	fs := cmd.Flags()
	fs.Float64Var(&lf.rate, "rate", cf.cfg.RequiredRate, "events per second; 0 = as fast as possible")
	fs.Float64Var(&lf.duplicateRatio, "duplicate-ratio", 0, "share of deliveries that re-send an earlier event with its event_id, in [0, 1)")
	fs.Float64Var(&lf.ramp, "ramp", 0, "ramp linearly from this rate up to --rate")
	fs.DurationVar(&lf.rampOver, "ramp-over", 0, "length of the --ramp (default the whole run)")
	fs.StringVar(&lf.spike, "spike", "", "FACTOR@AT+FOR: multiply the rate by FACTOR from AT for FOR, e.g. 10@5s+5s")
	fs.BoolVar(&lf.capacity, "capacity", false, "search for the highest rate meeting LOAD-01's bounds and report it")
	fs.DurationVar(&lf.capacityStep, "capacity-step", 3*time.Second, "with --capacity: length of each step")
	fs.IntVar(&lf.maxWorkers, "max-workers", 0, "bound on concurrent requests (default: rate × ack budget, 32..512; 50 at --rate 0)")
	fs.IntVar(&lf.connections, "connections", 0, "bound on sockets to the target (default --max-workers)")
	fs.Uint64Var(&lf.maxRequests, "max-requests", 0, "hard bound on requests (default: the schedule's count, or duration × 200000 at --rate 0)")
	fs.StringVar(&lf.output, "output", "", "write every result to this file in vegeta's format (vegeta report / vegeta plot read it), each with its schedule lag, flushed each second")
	fs.StringVar(&lf.shard, "shard", "", "i/n: this generator's share (1/n of the rate, its own event_id space), e.g. 0/4")
	fs.StringVar(&lf.runID, "run-id", "", "name of the run in --output and the report, shared by its shards so a merge refuses other runs' (default: derived from the shard layout with --shard, random otherwise)")
	fs.StringVar(&lf.transport, "transport", load.TransportFast, "engine for a plain-http target: fast (hookproof's attack loop and HTTP/1.1 client) or net/http (vegeta's attacker over Go's client, to rule the fast one out)")
	// Hidden: for scripts/bench-load and whoever tunes the engine; not a
	// user-facing feature.
	fs.StringVar(&lf.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	fs.StringVar(&lf.memProfile, "memprofile", "", "write an allocation profile of the run to this file when it ends")
	_ = fs.MarkHidden("cpuprofile")
	_ = fs.MarkHidden("memprofile")
	c := cf.cfg
	cf.duration(&c.LoadDuration, "duration", "length of the run (with --capacity: of the whole search, default 2m)")
	cf.boolean(&c.AllowRemoteLoad, "allow-remote-load", "send the load to a target that is not on loopback (it is refused otherwise)")
	cf.duration(&c.Timeouts.AckBudget, "ack-budget", "p99 ack latency LOAD-01 allows")
	cf.str(&c.ReportDir, "report-dir", "write report.json (with its load section), junit.xml, summary.md and report.html here")
	cf.list(&c.EventTypes, "event-types", ",", "comma-separated event types to send (default: all)")
	cf.int64v(&c.Seed, "seed", "event generator seed (each run still draws fresh event_ids)")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg := cf.config()
		if !fs.Changed("rate") {
			lf.rate = cfg.RequiredRate
		}
		return runLoad(cmd.Context(), cmd, cfg, lf, fs.Changed("duration"))
	}
	return cmd
}

// options turns the flags into engine options, naming the flag of every
// problem.
func (lf loadFlags) options(cfg harness.Config) (load.Options, error) {
	var errs []error
	o := load.Options{
		Rate: lf.rate, Duration: cfg.LoadDuration, MaxRequests: lf.maxRequests, DuplicateRatio: lf.duplicateRatio,
		MaxWorkers: lf.maxWorkers, Connections: lf.connections, Seed: cfg.Seed,
		RunID: lf.runID, Transport: lf.transport,
	}
	if lf.transport != load.TransportFast && lf.transport != load.TransportNetHTTP {
		errs = append(errs, fmt.Errorf("--transport: %q is not %s or %s", lf.transport, load.TransportFast, load.TransportNetHTTP))
	}
	if len(lf.runID) > 128 || strings.ContainsAny(lf.runID, "\r\n\x00") {
		errs = append(errs, errors.New("--run-id: must be at most 128 characters on one line"))
	}
	if math.IsNaN(lf.rate) || lf.rate < 0 {
		errs = append(errs, fmt.Errorf("--rate: %g is not a rate ≥ 0", lf.rate))
	}
	if lf.ramp != 0 {
		if lf.ramp < 0 || math.IsNaN(lf.ramp) {
			errs = append(errs, fmt.Errorf("--ramp: %g is not a rate ≥ 0", lf.ramp))
		}
		over := lf.rampOver
		if over == 0 {
			over = cfg.LoadDuration
		}
		o.Ramp = &load.Ramp{From: lf.ramp, Over: over}
	}
	if lf.spike != "" {
		s, err := parseSpike(lf.spike)
		if err != nil {
			errs = append(errs, fmt.Errorf("--spike: %w", err))
		}
		o.Spike = s
	}
	if lf.shard != "" {
		s, err := load.ParseShard(lf.shard)
		if err != nil {
			errs = append(errs, fmt.Errorf("--shard: %w", err))
		}
		o.Shard = s
	}
	if lf.capacity && lf.capacityStep <= 0 {
		errs = append(errs, fmt.Errorf("--capacity-step: must be positive, got %s", lf.capacityStep))
	}
	return o, errors.Join(errs...)
}

// parseSpike reads FACTOR@AT+FOR, e.g. 10@5s+5s.
func parseSpike(v string) (*load.Spike, error) {
	factor, rest, ok1 := strings.Cut(v, "@")
	at, dur, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%q is not FACTOR@AT+FOR (e.g. 10@5s+5s)", v)
	}
	f, err := strconv.ParseFloat(factor, 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) {
		return nil, fmt.Errorf("factor %q is not a positive number", factor)
	}
	a, err := time.ParseDuration(at)
	if err != nil || a < 0 {
		return nil, fmt.Errorf("start %q is not a duration ≥ 0", at)
	}
	d, err := time.ParseDuration(dur)
	if err != nil || d <= 0 {
		return nil, fmt.Errorf("length %q is not a positive duration", dur)
	}
	return &load.Spike{Factor: f, At: a, For: d}, nil
}

// loadMemoryLimit is the runtime's soft memory limit during a run, a guard
// for the engine's memory goal (64 MiB RSS at 20,000 events/s): the runtime
// collects harder only when it is reached. GOGC stays at its default. The
// engine used to raise it to 400, when every request allocated a fresh
// body and fewer collections bought about 20 % more throughput. It now
// allocates next to nothing per request (0.65 MB/s at 20,000/s), and at 400
// the heap grew towards the runtime's 16 MB minimum target for as long as
// a run lasted: peak RSS rose from 25 MiB in a 10 s run to 37 MiB in a
// 60 s one. At the default it collects every few seconds, at about 0.5 %
// of the CPU with --output at the maximum rate, and its peak stays flat.
const loadMemoryLimit = 40 << 20

func runLoad(ctx context.Context, cmd *cobra.Command, cfg harness.Config, lf loadFlags, durationGiven bool) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	opts, err := lf.options(cfg)
	errs := []error{err}
	if cfg.Target == "" {
		errs = append(errs, errors.New("--target: required"))
	} else if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return usageErr(err)
	}
	// Validate everything the engine checks before touching the network or
	// creating files: a refused target must be a usage error, not a run.
	if err := opts.Validate(cfg); err != nil {
		return usageErr(loadUsage(err))
	}
	client, err := harness.NewClient(cfg)
	if err != nil {
		return usageErr(err)
	}
	auth, err := harness.NewAuthorizer(cfg.Auth, client)
	if err != nil {
		return usageErr(err)
	}
	learnAuth(redactorOf(ctx), auth) // each token fetched stays out of the console
	if err := reachable(ctx, cfg); err != nil {
		return unreachableErr(err)
	}

	defer debug.SetMemoryLimit(debug.SetMemoryLimit(loadMemoryLimit))

	// The engine buffers the results and writes whole ones about once a
	// second, so a run killed midway leaves a readable file.
	var results *os.File
	if lf.output != "" && !lf.capacity {
		results, err = os.Create(lf.output)
		if err != nil {
			return usageErr(fmt.Errorf("--output: %w", err))
		}
		defer results.Close()
		opts.Results = results
		opts.ScrubResult = redactorOf(ctx).Scrub
	}

	if lf.cpuProfile != "" {
		stop, err := startCPUProfile(lf.cpuProfile)
		if err != nil {
			return usageErr(fmt.Errorf("--cpuprofile: %w", err))
		}
		defer stop()
	}
	if lf.memProfile != "" {
		defer writeMemProfile(stderr, lf.memProfile)
	}

	started := time.Now()
	live := newLiveLine(stderr)
	var s *load.Summary
	var capacity *load.Capacity
	var runErr error
	if lf.capacity {
		fmt.Fprintf(stderr, "hookproof load: capacity search against %s from %g/s\n", harness.RedactURL(cfg.Target), opts.Rate)
		co := load.CapacityOptions{Start: opts.Rate, StepDuration: lf.capacityStep}
		if durationGiven {
			co.TimeCap = cfg.LoadDuration
		}
		s, capacity, runErr = load.SearchCapacityRun(ctx, cfg, co, opts, auth, func(rate float64, s *load.Summary) {
			fmt.Fprintf(stderr, "  step %6.0f/s: sent %6.0f/s, %.2f %% 2xx, p99 %.1f ms\n", rate, s.SentRate, 100*s.SuccessRatio, s.ResponseLatencyMS.P99)
		})
	} else {
		fmt.Fprintf(stderr, "hookproof load: %s against %s for %s (auth %s, transport %s)\n", shape(opts), harness.RedactURL(cfg.Target), opts.Duration, cfg.Auth.Type, load.TransportFor(cfg.Target, opts.Transport))
		var e *load.Engine
		if e, runErr = load.New(cfg, opts, auth); runErr == nil {
			s, runErr = e.Run(ctx, live.observe)
		}
	}
	live.end()
	if results != nil {
		if err := results.Close(); err != nil && runErr == nil {
			runErr = fmt.Errorf("--output: %w", err)
		}
	}
	if s == nil {
		if runErr == nil {
			runErr = errors.New("load: no result")
		}
		return runErr
	}
	interrupted := s.Interrupted || ctx.Err() != nil
	rep, load01 := load.RunReport(cfg, s, capacity, started, interrupted)
	rep.Kind = reports.KindLoad
	reports.ScrubWith(rep, redactorOf(ctx)) // the run's Redactor also knows each OAuth2 token
	writeLoadSummary(stdout, s, capacity, load01)
	if lf.output != "" && lf.capacity {
		fmt.Fprintln(stderr, "hookproof load: --output is not written by --capacity (each step is a separate attack)")
	}
	if cfg.ReportDir != "" {
		if err := reports.WriteAll(cfg.ReportDir, rep); err != nil {
			return fmt.Errorf("--report-dir: %w", err)
		}
		fmt.Fprintf(stderr, "hookproof load: reports written to %s\n", cfg.ReportDir)
	}
	switch {
	case runErr != nil:
		return runErr
	case interrupted:
		return &exitError{code: exitInterrupted, err: errors.New("interrupted: the partial results were reported")}
	case load01.Status == reports.StatusFailed:
		return failedErr(fmt.Errorf("LOAD-01 failed: %s", load01.Reason))
	}
	return nil
}

// startCPUProfile profiles the process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// writeMemProfile writes the allocation profile of the run so far (every
// allocation since the process started: pprof -sample_index=alloc_space).
func writeMemProfile(stderr io.Writer, path string) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "hookproof load: --memprofile: %v\n", err)
	}
}

// loadUsage names the flag behind the engine's refusal of a remote target.
func loadUsage(err error) error {
	if errors.Is(err, load.ErrNotLoopback) {
		return fmt.Errorf("--target: load runs target loopback only (127.0.0.1, ::1 or localhost) unless --allow-remote-load says the receiver is yours to load: %w", err)
	}
	return err
}

func shape(o load.Options) string {
	var b strings.Builder
	if o.Rate == 0 {
		b.WriteString("maximum rate")
	} else {
		fmt.Fprintf(&b, "%g events/s", o.Rate)
	}
	if o.Ramp != nil {
		fmt.Fprintf(&b, ", ramp from %g/s over %s", o.Ramp.From, o.Ramp.Over)
	}
	if o.Spike != nil {
		fmt.Fprintf(&b, ", spike ×%g at %s for %s", o.Spike.Factor, o.Spike.At, o.Spike.For)
	}
	if o.DuplicateRatio > 0 {
		fmt.Fprintf(&b, ", %g %% duplicates", 100*o.DuplicateRatio)
	}
	if o.Shard.N > 1 {
		fmt.Fprintf(&b, ", shard %s", o.Shard)
	}
	return b.String()
}

// writeLoadSummary prints the end-of-run summary.
func writeLoadSummary(w io.Writer, s *load.Summary, c *load.Capacity, load01 reports.RequirementResult) {
	asked := "max"
	if s.RequestedRate > 0 {
		asked = fmt.Sprintf("%g/s", s.RequestedRate)
	}
	q, sv := s.ResponseLatencyMS, s.LatencyMS
	fmt.Fprintf(w, "Requests      %d over %.2f s (asked %s, sent %.1f/s), %d duplicates\n", s.Requests, s.DurationS, asked, s.SentRate, s.Duplicates)
	fmt.Fprintf(w, "Acked         %d (%.3f %%), throughput %.1f/s\n", s.Acked, 100*s.SuccessRatio, s.Throughput)
	fmt.Fprintf(w, "Latency (ms)  p50 %.2f  p90 %.2f  p95 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  (from the scheduled send)\n", q.P50, q.P90, q.P95, q.P99, q.P999, q.Max)
	fmt.Fprintf(w, "Service (ms)  p50 %.2f  p90 %.2f  p95 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  (from the actual send)\n", sv.P50, sv.P90, sv.P95, sv.P99, sv.P999, sv.Max)
	fmt.Fprintf(w, "Answers       %s, %d bytes in, %d bytes out\n", s.Answers(), s.BytesIn, s.BytesOut)
	if s.Transport != "" {
		fmt.Fprintf(w, "Run           %s, shard %s, transport %s\n", s.RunID, s.Shard, s.Transport)
	}
	if s.Workers != nil {
		fmt.Fprintf(w, "Workers       %s\n", s.Workers)
	}
	fmt.Fprintf(w, "RETRY-01      %d retryable, %d lost\n", s.Retryable, s.Lost)
	if s.Canceled > 0 || s.Interrupted {
		fmt.Fprintf(w, "Interrupted   %d requests in flight canceled\n", s.Canceled)
	}
	if c != nil {
		fmt.Fprintf(w, "Capacity      %.0f events/s (%d steps, stopped: %s)\n", c.RPS, len(c.Steps), c.Stopped)
	}
	fmt.Fprintf(w, "LOAD-01       %s: %s\n", strings.ToUpper(load01.Status), load01.Reason)
}

// liveLine shows the run's progress: on a terminal one line rewritten in
// place each second, elsewhere (CI logs) a plain line every few seconds so
// that logs stay short.
type liveLine struct {
	w     io.Writer
	tty   bool
	n     int
	wrote bool
}

// plainEvery is how many observations (one a second) pass between two
// plain progress lines.
const plainEvery = 5

func newLiveLine(w io.Writer) *liveLine {
	return &liveLine{w: w, tty: isTerminal(w)}
}

// observe is the engine's Snapshot callback; the engine never calls it
// concurrently with itself, and stops calling it before Run returns.
func (l *liveLine) observe(s load.Snapshot) {
	line := fmt.Sprintf("%6.1fs  %d sent  %.0f/s  p99 %.1f ms  errors %d", s.Elapsed.Seconds(), s.Requests, s.SentRate, s.ResponseP99MS, s.Errors)
	if l.tty {
		fmt.Fprintf(l.w, "\r\x1b[K%s", line)
		l.wrote = true
		return
	}
	l.n++
	if l.n%plainEvery == 0 {
		fmt.Fprintln(l.w, "hookproof load:", line)
	}
}

// end finishes the live line so the summary starts on a fresh one.
func (l *liveLine) end() {
	if l.wrote {
		fmt.Fprintln(l.w)
	}
}
