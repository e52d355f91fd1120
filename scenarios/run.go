package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/extensions/globals"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

// RunOptions are how the suite runs, as opposed to what it checks.
type RunOptions struct {
	// LabelFilter passes through to Ginkgo (e.g. "area:auth", "req:ACK-01").
	LabelFilter string
	// Progress receives one line per finished spec; nil discards them.
	Progress io.Writer
	// Color allows ANSI colour in progress lines (a terminal).
	Color bool
	// Verbose streams Ginkgo's own reporter output to GinkgoOut.
	Verbose   bool
	GinkgoOut io.Writer
	// DryRun builds the spec tree without running anything.
	DryRun bool
	// Context, when already done, means the run was interrupted before its
	// first check: nothing is sent and the Result says so.
	Context context.Context
	// Breaker, when set, stops the run early (see Breaker): checks not yet
	// started are skipped with its reason. The caller wires its Observe
	// and Transport into the sender; Run trips it at MaxDuration.
	Breaker *Breaker
	// MaxDuration, when positive, is the run deadline: once it has passed
	// no further check starts and requests in flight are cancelled.
	MaxDuration time.Duration
}

// Result is everything a run found: per requirement, over its deliveries,
// under load, and the caveats a reader must see next to the verdict.
type Result struct {
	Requirements []reports.RequirementResult
	// Deliveries summarises every conformance delivery attempt.
	Deliveries *reports.DeliveryStats
	// Load is LOAD-01's run with LOAD-02's capacity; nil when no load
	// check ran.
	Load *reports.LoadSection
	// Notes such as "idempotency unverified" or "effects read through …".
	Notes       []string
	Interrupted bool
	// Stopped is why the run ended before every check ran (the Breaker's
	// reason), "" when it did not.
	Stopped    string
	StartedAt  time.Time
	FinishedAt time.Time
	// Specs counts the specs that ran.
	Specs int
}

// Report is the run's report under cfg, its verdict decided.
func (r *Result) Report(cfg harness.Config) *reports.Report {
	rep := reports.NewRunReport(cfg, r.StartedAt, r.FinishedAt, r.Interrupted)
	rep.Requirements = r.Requirements
	rep.Deliveries = r.Deliveries
	rep.Load = r.Load
	rep.Notes = append(rep.Notes, r.Notes...)
	rep.Stopped = r.Stopped
	rep.Decide(cfg.Strict)
	return rep
}

// ErrInvalidRun is a configuration the suite cannot run with (a bad label
// filter, say): a usage error, not a verdict.
var ErrInvalidRun = errors.New("scenarios: invalid run configuration")

// runMu serialises runs: Ginkgo's suite is process-global state.
var runMu sync.Mutex

// T satisfies ginkgo.GinkgoTestingT outside `go test`.
type t struct{ failed bool }

func (t *t) Fail() { t.failed = true }

// Run certifies the receiver of in: it builds the specs' Env, registers
// the specs and runs them in-process, and returns the complete Result.
// in.Sender is required unless o.DryRun.
func Run(in Inputs, o RunOptions) (*Result, error) {
	env := newEnv(in)
	var res *Result
	if o.Context != nil && o.Context.Err() != nil {
		now := time.Now().UTC()
		res = &Result{Interrupted: true, StartedAt: now, FinishedAt: now,
			Requirements: reports.Complete(nil, in.Config.Profile, reasonInterrupted)}
	} else {
		var err error
		if res, err = run(func() { Register(env) }, in.Config, o); err != nil {
			return nil, err
		}
	}
	if in.Sender != nil {
		res.Deliveries = reports.NewDeliveryStats(in.Sender.Ledger().Attempts(), in.Config.Timeouts.AckBudget)
	}
	res.Load = env.LoadSection()
	res.Notes = runNotes(in)
	return res, nil
}

// runNotes are the caveats of a run's inputs.
func runNotes(in Inputs) []string {
	var notes []string
	if in.Probe == nil {
		notes = append(notes, "idempotency unverified: no effects probe (pass --effects-url, --effects-file, --effects-sql, --effects-match or --effects-command)")
	} else {
		notes = append(notes, "effects read through "+in.Probe.Describe())
	}
	if p := in.Config.Retry; p.TimeScale != 1 {
		notes = append(notes, fmt.Sprintf("RiskOS retry waits compressed by --time-scale %g (real schedule %v)", p.TimeScale, p.Schedule()))
	}
	return notes
}

func run(register func(), cfg harness.Config, o RunOptions) (*Result, error) {
	runMu.Lock()
	defer runMu.Unlock()

	sc, rc := ginkgo.GinkgoConfiguration()
	sc.LabelFilter = o.LabelFilter
	sc.RandomSeed = max(cfg.Seed, 1)
	sc.RandomizeAllSpecs = false
	sc.FailOnEmpty = o.LabelFilter != ""
	sc.DryRun = o.DryRun
	sc.Timeout = 2 * time.Hour
	sc.GracePeriod = 5 * time.Second
	rc.NoColor = !o.Color
	rc.Succinct = !o.Verbose
	rc.Verbose = o.Verbose
	fs, err := types.NewGinkgoFlagSet(types.GinkgoFlags{}, map[string]any{}, types.GinkgoFlagSections{})
	if err != nil {
		return nil, err
	}
	if errs := types.VetConfig(fs, sc, rc); len(errs) > 0 {
		return nil, fmt.Errorf("%w: --label-filter: %w", ErrInvalidRun, errors.Join(errs...))
	}
	formatter.SingletonFormatter = formatter.New(colorMode(o.Color))
	ginkgoOut := o.GinkgoOut
	if !o.Verbose || ginkgoOut == nil {
		ginkgoOut = io.Discard // our progress lines replace Ginkgo's console
	}
	prevOut := formatter.ColorableStdOut
	formatter.ColorableStdOut = ginkgoOut
	defer func() { formatter.ColorableStdOut = prevOut }()

	globals.Reset()
	gomega.RegisterFailHandler(ginkgo.Fail)
	register()
	breaker := o.Breaker
	if breaker == nil {
		breaker = NewBreaker(0)
	}
	if o.MaxDuration > 0 {
		d := o.MaxDuration
		deadline := time.AfterFunc(d, func() { breaker.Trip(fmt.Sprintf("the run reached its deadline (--max-duration %s)", d)) })
		defer deadline.Stop()
	}
	// A top-level BeforeEach applies to every spec: once the breaker has
	// tripped, nothing else starts.
	ginkgo.BeforeEach(func() {
		if r := breaker.Reason(); r != "" {
			ginkgo.Skip("not run: " + r)
		}
	})
	progress := newProgress(o.Progress, o.Color)
	ginkgo.ReportAfterEach(progress.spec)
	var final types.Report
	ginkgo.ReportAfterSuite("hookproof results", func(r types.Report) { final = r })

	res := &Result{StartedAt: time.Now().UTC()}
	ginkgo.RunSpecs(&t{}, "hookproof certify", sc, rc)
	// Ginkgo never removes its SIGINT/SIGTERM handler; give signals back to
	// the process (a second Ctrl-C after the run must still work).
	signal.Reset(os.Interrupt, syscall.SIGTERM)
	res.FinishedAt = time.Now().UTC()
	for _, reason := range final.SpecialSuiteFailureReasons {
		if strings.Contains(reason, "Interrupted") {
			res.Interrupted = true
		}
	}
	var cut bool
	res.Requirements, res.Specs, cut = collect(final, cfg.Profile, res.Interrupted)
	if res.Interrupted && !cut {
		// The signal came after the last check: the report is complete.
		res.Interrupted = false
	}
	res.Stopped = breaker.Reason()
	return res, nil
}

func colorMode(color bool) formatter.ColorMode {
	if color {
		return formatter.ColorModeTerminal
	}
	return formatter.ColorModeNone
}

// collect folds spec results into one result per requirement: failed wins
// over passed, passed over skipped; evidence of every spec is kept. A
// requirement checked by several specs says how many of them ran.
//
// cut reports whether the interruption kept any spec from running or
// finishing.
func collect(r types.Report, profile string, interrupted bool) (_ []reports.RequirementResult, ran int, cut bool) {
	byID := map[string]*reports.RequirementResult{}
	cov := map[string]*coverage{}
	for _, sr := range r.SpecReports {
		if sr.LeafNodeType != types.NodeTypeIt {
			continue
		}
		for _, id := range reqOf(sr.Labels()) {
			if cov[id] == nil {
				cov[id] = &coverage{}
			}
			cov[id].total++
		}
	}
	for _, sr := range r.SpecReports {
		if sr.LeafNodeType != types.NodeTypeIt {
			continue
		}
		status, reason := specStatus(sr, interrupted)
		if reason == reasonInterrupted {
			cut = true
		}
		if status != reports.StatusSkipped {
			ran++
		}
		var evidence []reports.Evidence
		for _, e := range sr.ReportEntries {
			if e.Name != evidenceEntry {
				continue
			}
			if ev, ok := e.GetRawValue().(reports.Evidence); ok {
				evidence = append(evidence, ev)
			}
		}
		if status == reports.StatusFailed {
			if _, detail := plainFailure(sr.Failure.Message); detail != "" {
				evidence = append(evidence, reports.Evidence{Summary: "what the check observed (" + sr.LeafNodeText + ")", Detail: detail})
			}
		}
		for _, id := range reqOf(sr.Labels()) {
			res := byID[id]
			if res == nil {
				res = &reports.RequirementResult{ID: id, Status: reports.StatusSkipped}
				byID[id] = res
			}
			res.DurationMS += float64(sr.RunTime.Microseconds()) / 1000
			res.Evidence = append(res.Evidence, evidence...)
			cov[id].add(status, reason)
			merge(res, status, sr.LeafNodeText, reason, cov[id].total > 1)
		}
	}
	var results []reports.RequirementResult
	for _, req := range harness.Catalogue {
		if res, ok := byID[req.ID]; ok {
			cov[req.ID].apply(res)
			keepReplayBodies(res)
			results = append(results, *res)
		}
	}
	notRun := reasonNotSelected
	if interrupted {
		notRun = reasonInterrupted
	}
	return reports.Complete(results, profile, notRun), ran, cut
}

func specStatus(sr types.SpecReport, interrupted bool) (status, reason string) {
	switch sr.State {
	case types.SpecStatePassed:
		return reports.StatusPassed, ""
	case types.SpecStateSkipped:
		if msg := strings.TrimSpace(sr.Failure.Message); msg != "" {
			return reports.StatusSkipped, msg
		}
		if interrupted {
			return reports.StatusSkipped, reasonInterrupted
		}
		return reports.StatusSkipped, reasonNotSelected
	case types.SpecStatePending:
		return reports.StatusSkipped, "pending"
	case types.SpecStateInterrupted:
		return reports.StatusSkipped, reasonInterrupted
	default: // failed, panicked, timed out, aborted
		msg, _ := plainFailure(sr.Failure.Message)
		if sr.State == types.SpecStateTimedout {
			msg = "timed out: " + msg
		}
		return reports.StatusFailed, firstLines(msg, 12)
	}
}

// Run-level reasons a spec did not run.
const (
	reasonNotSelected = "not selected by this run"
	reasonInterrupted = "interrupted"
)

// merge folds one spec's outcome into its requirement's result. A failure
// is a sentence about the receiver; the spec is named only when the
// requirement has several, to say which of them failed.
func merge(res *reports.RequirementResult, status, spec, reason string, several bool) {
	line := spec
	switch {
	case reason == reasonNotSelected || reason == reasonInterrupted:
		// About the run, not the spec: say it once for the requirement.
		line = reason
	case status == reports.StatusFailed && !several:
		line = reason
	case reason != "":
		line += ": " + reason
	}
	switch {
	case reports.StatusRank(status) > reports.StatusRank(res.Status):
		res.Status, res.Reason = status, line
	case status == res.Status && status != reports.StatusPassed && res.Reason == "":
		// A requirement starts out skipped with no reason: its first
		// skipped spec gives the reason (not a leading blank line).
		res.Reason = line
	case status == res.Status && status != reports.StatusPassed && !slices.Contains(strings.Split(res.Reason, "\n"), line):
		res.Reason += "\n" + line
	}
	if res.Status == reports.StatusPassed && status == reports.StatusPassed {
		res.Reason = ""
	}
}

func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n")
}
