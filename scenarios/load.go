package scenarios

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hookproof/hookproof/fakes/riskos"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/harness/load"
	"github.com/hookproof/hookproof/reports"
)

// loadPlan is how long and how hard each throughput check runs (one part
// of a Profile).
type loadPlan struct {
	rate float64 // the required rate, events/s
	// LOAD-01 and LOAD-03 run lengths.
	constant, duplicates time.Duration
	// LOAD-02's search.
	capacity load.CapacityOptions
	// LOAD-04: lead and tail around a 10× spike of spikeFor, then recovery.
	spikeLead, spikeFor, recovery time.Duration
	// RETRY-02: burstFactor × the required rate for burstFor (at most
	// burstMax events): the spike level the catalogue uses for LOAD-04,
	// held long enough that a receiver sized near the required rate must
	// shed, while a receiver that sheds correctly can drain it through
	// RiskOS's retry schedule.
	burstFactor float64
	burstFor    time.Duration
	burstMax    uint64
	// retryWindow is the shortest scaled retry schedule RETRY-02 accepts.
	// --time-scale compresses the waits but not the receiver's processing:
	// a backlog that drains in 4 s needs more than the 3.6 s that 0.01
	// leaves of RiskOS's 362 s, so the burst gets at least this long.
	retryWindow time.Duration
	// probeSample caps the event_ids whose probe count is read after a run:
	// each costs one probe request per poll.
	probeSample int
}

// spikeFactor is LOAD-04's default multiplier: the catalogue's spike is
// 10× the required rate.
const spikeFactor = 10

// drainWindow is how long RETRY-02's retry schedule must last: a receiver
// that sheds the burst correctly and has LOAD-02's capacity (twice the
// required rate) drains its events in events / (2 × rate); half as
// long again for margin, and never less than retryWindow. RiskOS itself
// would give it 362 s.
func (p loadPlan) drainWindow() time.Duration {
	events := min(float64(p.burstMax), p.burstFactor*p.rate*p.burstFor.Seconds())
	drain := time.Duration(1.5 * events / (2 * p.rate) * float64(time.Second))
	return max(p.retryWindow, drain)
}

// timeout bounds a spec that sends load for d: the run, a generous margin
// for a receiver that falls behind, and the usual spec budget for settling.
func (p loadPlan) timeout(cfg harness.Config, d time.Duration) time.Duration {
	return cfg.Timeouts.Spec + 3*d
}

// describeLoad registers the throughput checks on the vegeta engine
// (harness/load). The suite runs in one process, in order, so nothing
// else shares the receiver while its capacity is measured.
func describeLoad(env *Env) {
	plan := env.Load
	cfg := env.Config
	Describe("Throughput", Label("load"), func() {
		BeforeEach(func(ctx SpecContext) {
			if !env.Config.AllowRemoteLoad && !load.IsLoopback(cfg.Target) {
				Skip("the load checks send sustained traffic: they run against a remote receiver only with --allow-remote-load")
			}
			// An asynchronous receiver may still be working through what
			// earlier checks sent: each load check starts once it has
			// caught up, so no check inherits another's backlog.
			if env.Probe != nil {
				settle(ctx, env)
			}
		})
		It("acknowledges at least 99.9 % of deliveries within the ack budget at the required rate", Checks("LOAD-01"), func(ctx SpecContext) {
			s := runLoad(ctx, env, loadOptions(env, plan.rate, plan.constant))
			env.setLoad(s, nil)
			expectLoad01(s, load.Load01Bounds(cfg))
		}, SpecTimeout(plan.timeout(cfg, plan.constant)))

		It("has a capacity of at least twice the required rate", Checks("LOAD-02"), func(ctx SpecContext) {
			c, err := load.SearchCapacity(ctx, cfg, plan.capacity, load.EngineStep(cfg, loadOptions(env, 0, 0), env.Authorizer))
			Expect(err).NotTo(HaveOccurred(), "capacity search")
			for _, st := range c.Steps {
				verdict := "met LOAD-01's bounds"
				if !st.Pass {
					verdict = "failed: " + st.Reason
				}
				note("step at %.0f/s: sent %.0f/s, %d requests, %.2f %% 2xx, p99 %.1f ms from schedule: %s",
					st.Rate, st.SentRate, st.Requests, 100*st.SuccessRatio, st.ResponseP99MS, verdict)
			}
			for _, st := range c.Steps {
				env.backlog.add(int(float64(st.Requests) * st.SuccessRatio))
			}
			note("capacity %.0f events/s (search stopped: %s; required 2 × %.0f = %.0f)", c.RPS, c.Stopped, plan.rate, 2*plan.rate)
			env.setLoad(nil, &c.RPS)
			Expect(c.RPS).To(BeNumerically(">=", 2*plan.rate),
				"capacity %.0f/s is below twice the required rate %.0f/s", c.RPS, plan.rate)
		}, SpecTimeout(cfg.Timeouts.Spec+2*plan.capacity.TimeCap))

		It("processes every event exactly once under load with duplicates", Checks("LOAD-03"), func(ctx SpecContext) {
			needProbe(env)
			ids := newIDLog(plan.probeSample)
			retry := newFailureLog(plan.probeSample, cfg.Retry)
			o := loadOptions(env, plan.rate, plan.duplicates)
			o.DuplicateRatio = 0.1
			o.NewSource = ids.source
			o.OnFailure = retry.add
			s := runLoad(ctx, env, o)
			note("%d deliveries of which %d duplicates, %d distinct event_ids (%d checked)", s.Requests, s.Duplicates, ids.total(), len(ids.sample()))
			redeliverUnprocessed(ctx, env, retry.list(), "load:LOAD-03")
			expectAllProcessedOnce(ctx, env, ids.sample())
		}, SpecTimeout(plan.timeout(cfg, plan.duplicates)))

		It("answers a spike only with 2xx or retryable statuses and recovers", Checks("LOAD-04"), func(ctx SpecContext) {
			o := loadOptions(env, plan.rate, 2*plan.spikeLead+plan.spikeFor)
			o.Spike = &load.Spike{Factor: spikeFactor, At: plan.spikeLead, For: plan.spikeFor}
			By(fmt.Sprintf("a spike of %d × %.0f/s for %s", spikeFactor, plan.rate, plan.spikeFor))
			s := runLoad(ctx, env, o)
			recordLost(s)
			Expect(s.Lost).To(BeZero(), "%d answers to the spike were neither 2xx nor retryable (%s)", s.Lost, s.Answers())
			By(fmt.Sprintf("recovery at %.0f/s for %s", plan.rate, plan.recovery))
			r := runLoad(ctx, env, loadOptions(env, plan.rate, plan.recovery))
			expectLoad01(r, load.Load01Bounds(cfg))
		}, SpecTimeout(plan.timeout(cfg, 2*plan.spikeLead+plan.spikeFor+plan.recovery)))

		It("finally acknowledges every event of an overload burst through the RiskOS retry loop", Checks("RETRY-02"), func(ctx SpecContext) {
			ids := newIDLog(plan.probeSample)
			o := loadOptions(env, plan.burstFactor*plan.rate, plan.burstFor)
			o.MaxRequests = plan.burstMax
			o.NewSource = ids.source
			rcfg := cfg
			window := plan.drainWindow()
			if w := cfg.Retry.ScaledSpan(); w < window && w > 0 {
				rcfg.Retry.TimeScale = min(1, cfg.Retry.TimeScale*float64(window)/float64(w))
				note("retry waits scaled by %.3g for this check (the configured %g leaves %s of RiskOS's 362 s schedule; a receiver with LOAD-02's capacity needs up to %s to drain this burst)",
					rcfg.Retry.TimeScale, cfg.Retry.TimeScale, w.Round(time.Millisecond), window)
			}
			sender, err := riskos.New(rcfg, riskos.WithAuthorizer(env.Authorizer), riskos.WithLedger(env.Sender.Ledger()))
			Expect(err).NotTo(HaveOccurred(), "RiskOS sender for the retry loop")
			// The first few events the retry loop lost, with what was sent
			// and what the receiver answered: the cause is often in the
			// answer's body (a rejected field, say).
			var lostMu sync.Mutex
			var lostEv []reports.Evidence
			redeliver := func(ctx context.Context, id string, body []byte) (bool, int, error) {
				d := riskos.Delivery{EventID: id, Body: body, Label: "load:RETRY-02"}
				out := sender.SendWithRetry(ctx, d)
				if !out.Acked && !out.Interrupted {
					lostMu.Lock()
					if len(lostEv) < 3 {
						ev := evidenceOf(d, out.Final, "2xx, or a retryable status until acked", "event lost in the retry loop: "+out.String())
						lostEv = append(lostEv, ev)
					}
					lostMu.Unlock()
				}
				if out.Interrupted {
					return false, len(out.Attempts), errors.Join(errors.New("retry loop interrupted"), ctx.Err())
				}
				return out.Acked, len(out.Attempts), nil
			}
			rec, err := load.RetryUnderOverload(ctx, cfg, load.OverloadOptions{Burst: o}, env.Authorizer, redeliver)
			Expect(err).NotTo(HaveOccurred(), "the overload burst could not be run")
			env.overloadRan.Store(true)
			for _, ev := range lostEv {
				record(ev)
			}
			env.backlog.add(int(rec.AckedFirst + rec.AckedAfterRetry))
			note("burst of %d events at %.0f/s: %d acked first, %d answered retryable, %d of them acked after %d redeliveries (retry waits × %.3g), %d lost, %d unresolved",
				rec.Events, o.Rate, rec.AckedFirst, rec.Retried, rec.AckedAfterRetry, rec.RetryAttempts, rcfg.Retry.TimeScale, rec.LostCount, rec.Unresolved)
			if rec.Retried == 0 {
				note("the burst did not overload the receiver (no retryable answer): the retry loop was not exercised")
			}
			for i, l := range rec.Lost {
				if i == 10 {
					break
				}
				record(reports.Evidence{Summary: "event lost under overload", EventID: l.EventID, Status: l.Status, Error: l.ErrorClass, Expected: "2xx, or a retryable status until acked"})
			}
			for _, e := range rec.Errors {
				note("unresolved redelivery: %s", e)
			}
			// Events neither acked nor handed to the retry loop: a 2xx whose
			// body could not be read, or a transport error outside the
			// retryable set. Named so a failure never reads "0 lost".
			var unaccounted uint64
			if done := rec.AckedFirst + rec.AckedAfterRetry + rec.LostCount + rec.Unresolved; rec.Events > done {
				unaccounted = rec.Events - done
			}
			Expect(rec.OK()).To(BeTrue(), "under overload, %d of %d events were never finally acknowledged through the RiskOS retry loop: %d lost, %d unresolved, %d neither acked nor retried (an answer that could not be read)",
				rec.LostCount+rec.Unresolved+unaccounted, rec.Events, rec.LostCount, rec.Unresolved, unaccounted)
			if env.Probe != nil {
				expectAllProcessedOnce(ctx, env, ids.sample())
			} else {
				note("exactly-once processing unverified: no effects probe")
			}
		}, SpecTimeout(plan.timeout(cfg, plan.burstFor)+2*max(plan.drainWindow(), cfg.Retry.ScaledSpan())))
	})
}

// loadOptions are the engine options every check shares; rate and d of 0
// leave them to the caller (the capacity search sets its own per step).
func loadOptions(env *Env, rate float64, d time.Duration) load.Options {
	return load.Options{Rate: rate, Duration: d, Seed: env.Config.Seed}
}

// runLoad runs the engine once and records its figures as evidence.
func runLoad(ctx context.Context, env *Env, o load.Options) *load.Summary {
	GinkgoHelper()
	e, err := load.New(env.Config, o, env.Authorizer)
	Expect(err).NotTo(HaveOccurred(), "load options")
	s, err := e.Run(ctx, nil)
	Expect(err).NotTo(HaveOccurred(), "load run")
	env.countLoad(s)
	Expect(s.Interrupted).To(BeFalse(), "the load run was interrupted")
	note("%s: %d requests at %.0f/s (asked %.0f/s) over %.1f s, %.2f %% 2xx, p99 %.1f ms from schedule (%.1f ms from send), max %.1f ms; %s",
		describeShape(o), s.Requests, s.SentRate, s.RequestedRate, s.DurationS, 100*s.SuccessRatio,
		s.ResponseLatencyMS.P99, s.LatencyMS.P99, s.ResponseLatencyMS.Max, s.Answers())
	return s
}

func describeShape(o load.Options) string {
	if o.Spike != nil {
		return fmt.Sprintf("spike ×%g at %s for %s", o.Spike.Factor, o.Spike.At, o.Spike.For)
	}
	return "constant rate"
}

// expectLoad01 applies LOAD-01's bounds (load.Bounds.Check, the one judge
// hookproof load and the merge of shard results use too).
func expectLoad01(s *load.Summary, bounds load.Bounds) {
	GinkgoHelper()
	recordLost(s)
	ok, reason := bounds.Check(s)
	Expect(ok).To(BeTrue(), reason)
}

// recordLost records the first events a run lost, with their answers.
func recordLost(s *load.Summary) {
	const shown = 5
	for _, e := range s.LostEvidence(shown) {
		record(e)
	}
	if s.Lost > shown {
		note("… and %d more lost events", s.Lost-shown)
	}
}

// idLog collects the distinct event_ids a run generated, through the
// engine's NewSource hook (duplicates are re-sent from the engine's ring
// and never pass through a source). It keeps a uniform sample of at most
// size ids (reservoir sampling), so memory stays bounded however long the
// run.
type idLog struct {
	mu   sync.Mutex
	size int
	n    int
	ids  []string
	rng  *rand.Rand
}

func newIDLog(size int) *idLog {
	return &idLog{size: size, rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
}

// source wraps the default generator so that every id it makes is logged.
func (l *idLog) source(seed int64) load.EventSource {
	return loggedSource{src: harness.NewLiveGenerator(seed, time.Now), log: l}
}

func (l *idLog) add(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	if len(l.ids) < l.size {
		l.ids = append(l.ids, id)
	} else if j := l.rng.IntN(l.n); j < l.size {
		l.ids[j] = id
	}
}

func (l *idLog) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// sample returns the logged ids: all of them when the run made at most
// size, a uniform sample otherwise.
func (l *idLog) sample() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ids)
}

type loggedSource struct {
	src *harness.Generator
	log *idLog
}

func (s loggedSource) AppendEvent(dst []byte, eventType string) []byte {
	id, body := s.src.AppendBody(dst, eventType)
	s.log.add(id)
	return body
}

// failureLog keeps the first size events answered with a status RiskOS
// retries, with their bodies, so they can be redelivered after the run.
type failureLog struct {
	mu     sync.Mutex
	size   int
	policy harness.RetryPolicy
	seen   map[string][]byte
}

func newFailureLog(size int, policy harness.RetryPolicy) *failureLog {
	return &failureLog{size: size, policy: policy, seen: map[string][]byte{}}
}

// add is the engine's OnFailure hook: it runs on the sending goroutines
// and only stores.
func (l *failureLog) add(f load.Failure) {
	if l.policy.Judge(f.Status) != harness.Retry || f.EventID == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.seen[f.EventID]; !ok && len(l.seen) < l.size {
		l.seen[f.EventID] = f.Body
	}
}

func (l *failureLog) list() map[string][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.seen)
}

// redeliverUnprocessed does what RiskOS does with an event answered with a
// retryable status: redelivers it through the retry loop. Only events the
// probe shows unprocessed are redelivered, since a duplicate answered 409
// may belong to an event already processed, and redelivering it would
// judge the receiver on traffic RiskOS would not send.
func redeliverUnprocessed(ctx context.Context, env *Env, failed map[string][]byte, label string) {
	GinkgoHelper()
	if len(failed) == 0 {
		return
	}
	var redelivered, acked int
	for id, body := range failed {
		n, err := env.Probe.Count(ctx, id)
		Expect(err).NotTo(HaveOccurred(), "effects probe for %s", id)
		if n > 0 {
			continue
		}
		redelivered++
		if env.Sender.SendWithRetry(ctx, riskos.Delivery{EventID: id, Body: body, Label: label}).Acked {
			acked++
		}
	}
	note("%d events answered retryable under load; %d unprocessed ones redelivered through the retry loop, %d acked", len(failed), redelivered, acked)
}

// probeParallel bounds the probe reads in flight when a whole run's ids are
// checked: enough to read a few thousand counts in well under a second on
// loopback, few enough not to load the receiver being judged.
const probeParallel = 8

// countsOf reads the probe count of every id and returns the ids whose
// count is bad, with their counts.
func countsOf(ctx context.Context, env *Env, ids []string, bad func(int) bool) (map[string]int, error) {
	var mu sync.Mutex
	out := map[string]int{}
	var firstErr error
	next := make(chan string)
	var wg sync.WaitGroup
	for range probeParallel {
		wg.Go(func() {
			for id := range next {
				n, err := env.Probe.Count(ctx, id)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if err == nil && bad(n) {
					out[id] = n
				}
				mu.Unlock()
			}
		})
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		next <- id
	}
	close(next)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return out, firstErr
}

// expectAllProcessedOnce waits until the probe shows every id processed,
// then checks that every count holds at exactly one.
func expectAllProcessedOnce(ctx context.Context, env *Env, ids []string) {
	GinkgoHelper()
	if len(ids) == 0 {
		Fail("no event_id was recorded for the run")
	}
	settle(ctx, env)
	// Only the ids not yet seen are asked again: re-reading thousands of
	// counts every poll would load the receiver the check is waiting on.
	var missing, wrong map[string]int
	pending := ids
	Eventually(ctx, func() (int, error) {
		var err error
		missing, err = countsOf(ctx, env, pending, func(n int) bool { return n < 1 })
		pending = slices.Collect(maps.Keys(missing))
		return len(missing), err
	}).WithTimeout(env.Config.Timeouts.Settle).WithPolling(100*time.Millisecond).
		Should(BeZero(), func() string {
			recordCounts(missing, "event not processed within --settle")
			return fmt.Sprintf("%d of %d events were not processed within --settle %s (%s), e.g. %s", len(missing), len(ids), env.Config.Timeouts.Settle, env.Probe.Describe(), firstKeys(missing))
		})
	Consistently(ctx, func() (int, error) {
		var err error
		wrong, err = countsOf(ctx, env, ids, func(n int) bool { return n != 1 })
		return len(wrong), err
	}).WithTimeout(env.Sizes.Consistent).WithPolling(100*time.Millisecond).
		Should(BeZero(), func() string {
			recordCounts(wrong, "event not processed exactly once")
			return fmt.Sprintf("%d of %d events were not processed exactly once (%s), e.g. %s", len(wrong), len(ids), env.Probe.Describe(), firstKeys(wrong))
		})
	note("effects probe: all %d event_ids checked were processed exactly once", len(ids))
}

// recordCounts records the probe counts of up to five offending events.
func recordCounts(counts map[string]int, summary string) {
	for _, id := range slices.Sorted(maps.Keys(counts))[:min(5, len(counts))] {
		n := counts[id]
		record(reports.Evidence{Summary: summary, EventID: id, ProbeCount: &n, Expected: "1"})
	}
}

func firstKeys(m map[string]int) string {
	keys := slices.Sorted(maps.Keys(m))
	var parts []string
	for _, k := range keys[:min(3, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s count %d", k, m[k]))
	}
	return strings.Join(parts, "; ")
}
