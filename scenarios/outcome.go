package scenarios

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hookproof/hookproof/fakes/riskos"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

// A valid, authenticated delivery is judged by its outcome under the RiskOS
// retry loop, not by its first answer: a receiver that answers 503 from a
// rate limiter or 409 for a copy still in flight, and acknowledges the
// retry, loses nothing under RiskOS. Only the AUTH and VAL attacks, whose
// subject is the first answer, use Sender.Send directly.

// sendValid delivers d through the retry loop and counts an acknowledged
// event as outstanding processing for the next catch-up wait.
func (e *Env) sendValid(ctx context.Context, d riskos.Delivery) riskos.Outcome {
	out := e.Sender.SendWithRetry(ctx, d)
	if out.Acked {
		e.backlog.add(1)
	}
	return out
}

// recordOutcome records the final attempt of a delivery as evidence, with
// what became of the event in words.
func recordOutcome(d riskos.Delivery, out riskos.Outcome, expected, summary string) {
	ev := evidenceOf(d, out.Final, expected, summary)
	what := out.String()
	if ev.Summary == "" {
		ev.Summary = what
	} else {
		ev.Summary += ": " + what
	}
	record(ev)
}

// outcomeTally says what became of a set of copies or events, e.g.
// "8 acknowledged, 3 of them after 409 answers RiskOS retried".
func outcomeTally(outs []riskos.Outcome) string {
	var acked, lost, interrupted int
	var retriedOn []harness.Attempt // the answers acked events were retried after
	retried := 0
	for _, o := range outs {
		switch {
		case o.Acked:
			acked++
			if o.Retried() {
				retried++
				retriedOn = append(retriedOn, o.Attempts[:len(o.Attempts)-1]...)
			}
		case o.Interrupted:
			interrupted++
		default:
			lost++
		}
	}
	parts := []string{fmt.Sprintf("%d acknowledged", acked)}
	if retried > 0 {
		parts[0] += fmt.Sprintf(" (%d of them on retry, after %s)", retried, reports.TallyAttempts(retriedOn))
	}
	if lost > 0 {
		parts = append(parts, fmt.Sprintf("%d lost", lost))
	}
	if interrupted > 0 {
		parts = append(parts, fmt.Sprintf("%d interrupted", interrupted))
	}
	return strings.Join(parts, ", ")
}

// notAcked lists, in words, the outcomes that did not end acknowledged.
func notAcked(outs []riskos.Outcome) []string {
	var out []string
	for i, o := range outs {
		if !o.Acked {
			out = append(out, fmt.Sprintf("copy %d: %s", i+1, o))
		}
	}
	return out
}

// backlog counts events acknowledged since processing was last seen to
// have caught up: the work an asynchronous receiver may still have queued.
type backlog struct {
	mu sync.Mutex
	n  int
}

func (b *backlog) add(n int) {
	b.mu.Lock()
	b.n += n
	b.mu.Unlock()
}

func (b *backlog) outstanding() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

// caughtUp forgets the n events a catch-up wait has seen processed.
func (b *backlog) caughtUp(n int) {
	b.mu.Lock()
	b.n = max(0, b.n-n)
	b.mu.Unlock()
}

// processingDeadline is how long processing may take to catch up with n
// outstanding events: a receiver must process at least at the required
// rate, so n events may take n ÷ rate, and never less than --settle.
func processingDeadline(settle time.Duration, rate float64, n int) time.Duration {
	if rate <= 0 {
		return settle
	}
	return max(settle, time.Duration(float64(n)/rate*float64(time.Second)))
}

// settle waits until processing has caught up with everything acknowledged
// so far: it delivers one more valid event and waits until the probe shows
// it processed. A receiver that processes in arrival order (a queue, one
// worker) has then processed everything sent before it, so a late
// duplicate or a rejected request processed after all shows in the counts
// that follow, however slow the receiver; the short Consistently window
// after it catches what a concurrent processor still finishes. The wait is
// bounded by processingDeadline over the outstanding events.
func settle(ctx context.Context, env *Env) {
	GinkgoHelper()
	n := env.backlog.outstanding()
	d := env.delivery("", "catch-up")
	out := env.sendValid(ctx, d)
	Expect(out.Acked).To(BeTrue(), "a valid event was not acknowledged: %s", out)
	deadline := processingDeadline(env.Config.Timeouts.Settle, env.Config.RequiredRate, n+1)
	start := time.Now()
	Eventually(ctx, probeCount(ctx, env, d.EventID)).WithTimeout(deadline).WithPolling(50*time.Millisecond).
		Should(BeNumerically(">=", 1), "processing did not catch up: %d events acknowledged earlier were still not all processed after %s, "+
			"the time the required rate of %g events/s allows for them (and at least --settle); %s",
			n, deadline.Round(time.Millisecond), env.Config.RequiredRate, env.Probe.Describe())
	took := time.Since(start)
	env.backlog.caughtUp(n + 1)
	if n > 0 && took > 250*time.Millisecond {
		// n counts every event acknowledged since the last catch-up, some
		// of them long processed: an upper bound on what was outstanding,
		// so the rate is one too.
		note("processing caught up in %s with the %d events acknowledged since it was last seen caught up (at most %.0f events/s; the deadline allowed %s)",
			took.Round(time.Millisecond), n, float64(n)/took.Seconds(), deadline.Round(time.Millisecond))
	}
}
