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

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

func describeIdempotency(env *Env) {
	Describe("Idempotency on event_id", func() {
		// IDEM-01: a duplicate MUST be acked 2xx, never 409 (retryable: a retry storm) nor another error.
		It("acknowledges a sequential duplicate with 2xx", Checks("IDEM-01"), func(ctx SpecContext) {
			d := env.delivery("", "IDEM-01")
			attempts := env.Sender.SendDuplicates(ctx, d, env.Sizes.Duplicates)
			for _, a := range attempts {
				recordAttempt(d, a, "2xx", fmt.Sprintf("copy %d of event %s", len(attempts), a.EventID))
			}
			Expect(attempts).To(HaveEach(HaveField("Status", Be2xx())),
				"every copy of %s must be acked 2xx; got %s", d.EventID, reports.TallyAttempts(attempts))
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// IDEM-02: a sequential duplicate MUST be processed once.
		It("processes a sequential duplicate once", Checks("IDEM-02"), func(ctx SpecContext) {
			needProbe(env)
			d := env.delivery("", "IDEM-02")
			attempts := env.Sender.SendDuplicates(ctx, d, env.Sizes.Duplicates)
			note("%d sequential copies of %s: %s", len(attempts), d.EventID, reports.TallyAttempts(attempts))
			expectProcessedOnce(ctx, env, d.EventID)
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// IDEM-03: N copies at the same instant MUST all be acked 2xx and processed once.
		It("acknowledges and processes once a concurrent burst of copies", Checks("IDEM-03"), func(ctx SpecContext) {
			needProbe(env)
			d := env.delivery("", "IDEM-03")
			attempts := env.Sender.Burst(ctx, d, env.Sizes.Burst)
			note("%d copies of %s released by a barrier: %s", len(attempts), d.EventID, reports.TallyAttempts(attempts))
			Expect(attempts).To(HaveEach(HaveField("Status", Be2xx())),
				"every concurrent copy must be acked 2xx; got %s", reports.TallyAttempts(attempts))
			expectProcessedOnce(ctx, env, d.EventID)
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// IDEM-04: a redelivery after a lost ack MUST be processed once.
		It("processes once an event redelivered after a lost ack", Checks("IDEM-04"), func(ctx SpecContext) {
			needProbe(env)
			d := env.delivery("", "IDEM-04")
			out := env.Sender.LostAck(ctx, d)
			for _, a := range out.Attempts {
				recordAttempt(d, a, "", fmt.Sprintf("attempt %d of %s (%s)", a.Attempt, a.EventID, answer(a)))
			}
			Expect(out.Acked).To(BeTrue(), "the redelivery after the lost ack was not acknowledged: %s", reports.TallyAttempts(out.Attempts))
			expectProcessedOnce(ctx, env, d.EventID)
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// IDEM-05: deduplication SHOULD survive a receiver restart.
		It("still recognises a duplicate after the receiver restarts", Checks("IDEM-05"), func(ctx SpecContext) {
			needProbe(env)
			if env.Restart == nil {
				Skip("needs a way to restart the receiver: pass --restart-command")
			}
			d := env.delivery("", "IDEM-05")
			first := env.Sender.Send(ctx, d)
			Expect(first.Acked()).To(BeTrue(), "first delivery of %s: %s", d.EventID, answer(first))
			expectProcessedOnce(ctx, env, d.EventID)
			By("restarting the receiver")
			Expect(env.Restart(ctx)).To(Succeed(), "restarting the receiver")
			Eventually(ctx, func() harness.Attempt {
				return env.Sender.Send(ctx, d)
			}).WithTimeout(env.Config.Timeouts.Settle).WithPolling(100*time.Millisecond).
				Should(HaveField("Status", Be2xx()), "redelivery after the restart")
			expectProcessedOnce(ctx, env, d.EventID)
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// IDEM-06: a redelivery SHOULD be recognised by event_id alone.
		It("recognises a re-serialised redelivery with new header values by event_id", Checks("IDEM-06"), func(ctx SpecContext) {
			needProbe(env)
			d := env.delivery("", "IDEM-06")
			first := env.Sender.Send(ctx, d)
			Expect(first.Acked()).To(BeTrue(), "first delivery of %s: %s", d.EventID, answer(first))
			again := d
			again.Body = reserialise(d.Body)
			again.Header = http.Header{"X-Hookproof-Redelivery": {"1"}, "X-Request-Id": {d.EventID + "-retry"}}
			second := env.Sender.Send(ctx, again)
			recordAttempt(again, second, "2xx, not processed again", "redelivery with other key order, whitespace and headers")
			expectProcessedOnce(ctx, env, d.EventID)
		}, SpecTimeout(env.Config.Timeouts.Spec))
	})
}

// needProbe skips a spec that can only be judged through an effects probe.
func needProbe(env *Env) {
	if env.Probe == nil {
		Skip("needs an effects probe: pass --effects-url, --effects-file or --effects-sql; idempotency is unverified")
	}
}

// expectProcessedOnce waits for the event's processing to show, then checks
// that the count stays at exactly one.
func expectProcessedOnce(ctx context.Context, env *Env, id string) {
	GinkgoHelper()
	settle(ctx, env)
	count := probeCount(ctx, env, id)
	Eventually(ctx, count).WithTimeout(env.Config.Timeouts.Settle).WithPolling(50*time.Millisecond).
		Should(BeNumerically(">=", 1), "event %s was never processed (%s)", id, env.Probe.Describe())
	Consistently(ctx, count).WithTimeout(env.Sizes.Consistent).WithPolling(50*time.Millisecond).
		Should(Equal(1), "event %s must be processed exactly 1 time (%s)", id, env.Probe.Describe())
	n, _ := count()
	record(reports.Evidence{Summary: fmt.Sprintf("effects probe count for %s", id), EventID: id, ProbeCount: &n, Expected: "1"})
}

// settle is a barrier before reading counts: it delivers one more valid
// event and waits until the probe shows it processed. A receiver that
// processes in arrival order (a queue, one worker) has then processed
// everything sent before it, so a late duplicate or a rejected request
// processed after all shows in the counts that follow, however slow the
// receiver; the short Consistently window after it catches what a
// concurrent processor still finishes.
func settle(ctx context.Context, env *Env) {
	GinkgoHelper()
	d := env.delivery("", "settle")
	a := env.Sender.Send(ctx, d)
	Expect(a.Acked()).To(BeTrue(), "the settling event %s was not acknowledged: %s", d.EventID, answer(a))
	Eventually(ctx, probeCount(ctx, env, d.EventID)).WithTimeout(env.Config.Timeouts.Settle).WithPolling(50*time.Millisecond).
		Should(BeNumerically(">=", 1), "effects did not settle: the settling event %s was not processed within %s (%s); raise --settle for a slow receiver",
			d.EventID, env.Config.Timeouts.Settle, env.Probe.Describe())
}

// expectNoneProcessed checks, with one settling wait for all of them, that
// no event of ids was ever processed.
func expectNoneProcessed(ctx context.Context, env *Env, ids []string) {
	GinkgoHelper()
	settle(ctx, env)
	note("%d rejected deliveries checked through %s", len(ids), env.Probe.Describe())
	processed := func() ([]string, error) {
		var seen []string
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
	Consistently(ctx, processed).WithTimeout(env.Sizes.Consistent).WithPolling(50*time.Millisecond).
		Should(BeEmpty(), "rejected deliveries were processed")
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
