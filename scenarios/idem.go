package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hookproof/hookproof/fakes/riskos"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

func describeIdempotency(env *Env) {
	Describe("Idempotency on event_id", func() {
		// IDEM-01: a duplicate MUST be acked 2xx, never 409 (retryable: a retry storm) nor another error.
		It("acknowledges a sequential duplicate with 2xx", Checks("IDEM-01"), func(ctx SpecContext) {
			d := env.delivery("", "IDEM-01")
			outs := env.sendCopies(ctx, d, env.Sizes.Duplicates)
			for i, o := range outs {
				recordOutcome(d, o, "2xx", fmt.Sprintf("copy %d of %d of event %s", i+1, len(outs), d.EventID))
			}
			note("%d sequential copies of %s: %s", len(outs), d.EventID, outcomeTally(outs))
			Expect(notAcked(outs)).To(BeEmpty(), func() string {
				return fmt.Sprintf("%d of %d sequential copies of event %s were never acknowledged, so RiskOS gave up on them: %s", len(notAcked(outs)), len(outs), d.EventID, listed(notAcked(outs), 3))
			})
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// IDEM-02: a sequential duplicate MUST be processed once.
		It("processes a sequential duplicate once", Checks("IDEM-02"), func(ctx SpecContext) {
			needProbe(env)
			d := env.delivery("", "IDEM-02")
			outs := env.sendCopies(ctx, d, env.Sizes.Duplicates)
			note("%d sequential copies of %s: %s", len(outs), d.EventID, outcomeTally(outs))
			expectProcessedOnce(ctx, env, d.EventID)
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// IDEM-03: N copies at the same instant MUST each be finally acked (at once or through the retry loop) and processed once.
		It("acknowledges and processes once a concurrent burst of copies", Checks("IDEM-03"), func(ctx SpecContext) {
			needProbe(env)
			d := env.delivery("", "IDEM-03")
			outs := env.Sender.BurstWithRetry(ctx, d, env.Sizes.Burst)
			env.backlog.add(1)
			if len(outs) > 0 {
				// The request itself, so the burst can be replayed by hand
				// (hookproof send --concurrent N).
				ev := evidenceOf(d, outs[0].Final, "2xx for every copy (at once or on a retry), and the event processed once",
					fmt.Sprintf("the request, released as %d identical copies at one instant", len(outs)))
				ev.Request.Concurrent = len(outs)
				record(ev)
			}
			note("%d copies of %s released at one instant: %s", len(outs), d.EventID, outcomeTally(outs))
			Expect(notAcked(outs)).To(BeEmpty(), func() string {
				return fmt.Sprintf("%d of %d copies of event %s released at one instant were never acknowledged, at once or on a retry, so RiskOS gave up on them: %s", len(notAcked(outs)), len(outs), d.EventID, listed(notAcked(outs), 3))
			})
			expectProcessedOnce(ctx, env, d.EventID)
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// IDEM-04: a redelivery after a lost ack MUST be processed once; it comes after the real first-retry wait.
		It("processes once an event redelivered after a lost ack", Checks("IDEM-04"), func(ctx SpecContext) {
			needProbe(env)
			d := env.delivery("", "IDEM-04")
			out := env.Sender.LostAck(ctx, d)
			env.backlog.add(1)
			for _, a := range out.Attempts {
				recordAttempt(d, a, "", fmt.Sprintf("attempt %d of %s (%s)", a.Attempt, a.EventID, riskos.AnswerOf(a)))
			}
			note("the first answer was dropped unread; RiskOS redelivered %s after %s (real time: the first-retry wait is never compressed here)",
				d.EventID, env.Config.Retry.Wait(1))
			Expect(out.Acked).To(BeTrue(), "the redelivery after the lost ack was not acknowledged: %s", out)
			expectProcessedOnce(ctx, env, d.EventID)
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// IDEM-05: deduplication SHOULD survive a receiver restart.
		It("still recognises a duplicate after the receiver restarts", Checks("IDEM-05"), func(ctx SpecContext) {
			needProbe(env)
			if env.Restart == nil {
				Skip("needs a way to restart the receiver: pass --restart-command")
			}
			d := env.delivery("", "IDEM-05")
			first := env.sendValid(ctx, d)
			Expect(first.Acked).To(BeTrue(), "first delivery of %s: %s", d.EventID, first)
			expectProcessedOnce(ctx, env, d.EventID)
			By("restarting the receiver")
			Expect(env.Restart(ctx)).To(Succeed(), "restarting the receiver")
			// The restarted receiver may refuse connections for a moment:
			// RiskOS retries those too.
			again := env.sendValid(ctx, d)
			recordOutcome(d, again, "2xx, not processed again", "redelivery after the restart")
			Expect(again.Acked).To(BeTrue(), "redelivery after the restart: %s", again)
			expectProcessedOnce(ctx, env, d.EventID)
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// IDEM-06: a redelivery SHOULD be recognised by event_id alone.
		It("recognises a re-serialised redelivery with new header values by event_id", Checks("IDEM-06"), func(ctx SpecContext) {
			needProbe(env)
			d := env.delivery("", "IDEM-06")
			first := env.sendValid(ctx, d)
			Expect(first.Acked).To(BeTrue(), "first delivery of %s: %s", d.EventID, first)
			again := d
			again.Body = reserialise(d.Body)
			again.Header = http.Header{"X-Hookproof-Redelivery": {"1"}, "X-Request-Id": {d.EventID + "-retry"}}
			second := env.sendValid(ctx, again)
			recordOutcome(again, second, "2xx, not processed again", "redelivery with other key order, whitespace and headers")
			expectProcessedOnce(ctx, env, d.EventID)
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// IDEM-07: duplicates SHOULD be recognised for the sender's whole retry span.
		It("recognises a duplicate that comes after the whole retry span", Checks("IDEM-07"), func(ctx SpecContext) {
			needProbe(env)
			wait := env.Config.DedupeRetention
			if wait <= 0 && env.Config.Profile != harness.ProfileProduction {
				Skip(fmt.Sprintf("waits out the real retry span (%s, RiskOS's backoff) before redelivering: runs in --profile production, or pass --dedupe-retention D to wait D", env.Config.Retry.Span()))
			}
			if wait <= 0 {
				wait = env.Config.Retry.Span()
			}
			d := env.delivery("", "IDEM-07")
			first := env.sendValid(ctx, d)
			Expect(first.Acked).To(BeTrue(), "first delivery of %s: %s", d.EventID, first)
			expectProcessedOnce(ctx, env, d.EventID)
			By(fmt.Sprintf("waiting %s of real time before the redelivery", wait))
			t := time.NewTimer(wait)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				Fail(fmt.Sprintf("interrupted while waiting %s to redeliver %s", wait, d.EventID))
			}
			again := env.sendValid(ctx, d)
			recordOutcome(d, again, "2xx, not processed again", fmt.Sprintf("redelivery %s after the first delivery", wait))
			Expect(again.Acked).To(BeTrue(), "redelivery after %s: %s", wait, again)
			expectProcessedOnce(ctx, env, d.EventID)
		}, SpecTimeout(env.Config.Timeouts.Spec+idem07Wait(env.Config)))
	})
}

// idem07Wait is how long IDEM-07 waits in this run (0 when it is skipped).
func idem07Wait(cfg harness.Config) time.Duration {
	switch {
	case cfg.DedupeRetention > 0:
		return cfg.DedupeRetention
	case cfg.Profile == harness.ProfileProduction:
		return cfg.Retry.Span()
	}
	return 0
}

// needProbe skips a spec that can only be judged through an effects probe.
func needProbe(env *Env) {
	if env.Probe == nil {
		Skip("needs an effects probe: pass --effects-url, --effects-file, --effects-sql, --effects-match or --effects-command; idempotency is unverified")
	}
}

// sendCopies delivers k sequential copies of d (the original included),
// each through the retry loop; one event is outstanding however many copies.
func (e *Env) sendCopies(ctx context.Context, d riskos.Delivery, k int) []riskos.Outcome {
	outs := e.Sender.SendDuplicatesWithRetry(ctx, d, k)
	e.backlog.add(1)
	return outs
}

// expectProcessedOnce waits for the event's processing to show, then checks
// that the count stays at exactly one.
func expectProcessedOnce(ctx context.Context, env *Env, id string) {
	GinkgoHelper()
	settle(ctx, env)
	last := 0
	read := probeCount(ctx, env, id)
	count := func() (int, error) {
		n, err := read()
		last = n
		return n, err
	}
	Eventually(ctx, count).WithTimeout(env.Config.Timeouts.Settle).WithPolling(50*time.Millisecond).
		Should(BeNumerically(">=", 1), "the receiver acknowledged event %s but did not process it within --settle %s (counted through %s)", id, env.Config.Timeouts.Settle, env.Probe.Describe())
	Consistently(ctx, count).WithTimeout(env.Sizes.Consistent).WithPolling(50*time.Millisecond).
		Should(Equal(1), func() string {
			return fmt.Sprintf("the receiver processed event %s %d times; it must process it exactly once (counted through %s)", id, last, env.Probe.Describe())
		})
	n, _ := count()
	record(reports.Evidence{Summary: fmt.Sprintf("effects probe count for %s", id), EventID: id, ProbeCount: &n, Expected: "1"})
}

// expectNoneProcessed checks, with one settling wait for all of them, that
// no event of ids was ever processed.
func expectNoneProcessed(ctx context.Context, env *Env, ids []string) {
	GinkgoHelper()
	settle(ctx, env)
	note("%d rejected deliveries checked through %s", len(ids), env.Probe.Describe())
	var seen []string
	processed := func() ([]string, error) {
		seen = nil
		for _, id := range ids {
			n, err := env.Probe.Count(ctx, id)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				seen = append(seen, fmt.Sprintf("%s processed %d time(s)", id, n))
			}
		}
		return seen, nil
	}
	// The probe is named: a log pattern that matches receipt rather than
	// processing counts refused requests too, and this is where it shows.
	Consistently(ctx, processed).WithTimeout(env.Sizes.Consistent).WithPolling(50*time.Millisecond).
		Should(BeEmpty(), func() string {
			return fmt.Sprintf("the receiver processed %d of the %d requests it rejected, as read through %s (if that is a log pattern, it must match the line written when an event is processed, not when a request arrives): %s",
				len(seen), len(ids), env.Probe.Describe(), listed(seen, 3))
		})
}

func probeCount(ctx context.Context, env *Env, id string) func() (int, error) {
	return func() (int, error) { return env.Probe.Count(ctx, id) }
}

// reserialise returns the same JSON with other key order and whitespace:
// map keys marshal sorted, and the indent changes every byte offset.
func reserialise(body []byte) []byte {
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // keep numbers exactly as sent
	if err := dec.Decode(&v); err != nil {
		return body
	}
	out, err := json.MarshalIndent(v, " ", "   ")
	if err != nil {
		return body
	}
	return out
}
