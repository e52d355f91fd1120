package riskos

import (
	"context"
	"fmt"
	"strings"

	"github.com/hookproof/hookproof/harness"
)

// Outcome is the fate of one event through the RiskOS retry loop: what a
// receiver is judged by when the first answer is not the subject of a check.
type Outcome struct {
	EventID string
	// Attempts holds every attempt, in order (also in the ledger).
	Attempts []harness.Attempt
	// Acked: some attempt got a 2xx.
	Acked bool
	// Lost: RiskOS gave up: a non-retryable answer, retries exhausted, or a
	// request that could not be built.
	Lost bool
	// Exhausted: lost because the last retry was still answered with a
	// retryable status (or not answered at all).
	Exhausted bool
	// Interrupted: ctx ended the loop before it reached a verdict; the event
	// is neither acked nor lost.
	Interrupted bool
	// Final is the last attempt made.
	Final harness.Attempt
}

// Retried reports whether the event needed more than one attempt.
func (o Outcome) Retried() bool { return len(o.Attempts) > 1 }

// String says in a receiver team's words what became of the event, e.g.
// "acknowledged 200 on attempt 3, after 409, 409" or "lost: answered 400,
// which RiskOS does not retry".
func (o Outcome) String() string {
	f := o.Final
	switch {
	case o.Acked && !o.Retried():
		return fmt.Sprintf("acknowledged %d", f.Status)
	case o.Acked:
		return fmt.Sprintf("acknowledged %d on attempt %d, after %s", f.Status, f.Attempt, answers(o.Attempts[:len(o.Attempts)-1]))
	case o.Interrupted:
		return fmt.Sprintf("interrupted after %d attempt(s): %s", len(o.Attempts), answers(o.Attempts))
	case o.Exhausted:
		return fmt.Sprintf("lost: still %s after %d retries (%s)", AnswerOf(f), len(o.Attempts)-1, answers(o.Attempts))
	case f.Status >= 300 && f.Status < 400:
		return fmt.Sprintf("lost: answered %d, a redirect RiskOS does not follow", f.Status)
	case f.Status != 0:
		return fmt.Sprintf("lost: answered %d, which RiskOS does not retry", f.Status)
	default:
		return "lost: " + AnswerOf(f)
	}
}

// AnswerOf describes one attempt's answer in a few words: its status, or
// why there was none.
func AnswerOf(a harness.Attempt) string {
	switch {
	case a.ErrorClass == harness.ErrLostAck:
		return "ack dropped by hookproof"
	case a.Status != 0:
		return fmt.Sprint(a.Status)
	case a.ErrorClass != "":
		return "no answer (" + string(a.ErrorClass) + ")"
	default:
		return "no answer"
	}
}

func answers(as []harness.Attempt) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = AnswerOf(a)
	}
	return strings.Join(parts, ", ")
}

// SendWithRetry delivers d as RiskOS does under cfg.Retry: the initial
// delivery, then retry k after sleeping policy.ScaledWait(k, jitter) while
// the policy judges the answer retryable (harness.RetryPolicy.Judge: a
// retryable status, or a network error or timeout when RetryNetworkErrors
// is set), up to MaxRetries retries. It stops at the
// first 2xx (acked), at a non-retryable answer (lost; a 3xx is one), after
// the last retry (lost, exhausted), or when ctx is done (interrupted).
// Retry-After is recorded but not honoured: RiskOS documents no such
// behaviour. The initial delivery waits its turn under the Sender's pace.
func (s *Sender) SendWithRetry(ctx context.Context, d Delivery) Outcome {
	_ = s.pace(ctx) // a context that ended while waiting shows in the outcome
	return s.deliver(ctx, d, attemptSpec{n: 1})
}

// SendDuplicatesWithRetry sends k copies of d in sequence (k counts the
// original), each through the retry loop, the next one once the previous
// has its outcome. It stops early once ctx is done.
func (s *Sender) SendDuplicatesWithRetry(ctx context.Context, d Delivery, k int) []Outcome {
	out := make([]Outcome, 0, max(k, 0))
	for range k {
		if ctx.Err() != nil {
			break
		}
		out = append(out, s.SendWithRetry(ctx, d))
	}
	return out
}

// BurstWithRetry releases n copies of d at one instant, as Burst does, and
// takes each copy on through the retry loop on its own: a copy answered
// 409 or 423 while another copy is in flight is retried as RiskOS would
// retry it. The outcomes come in copy order.
func (s *Sender) BurstWithRetry(ctx context.Context, d Delivery, n int) []Outcome {
	if n <= 0 {
		return nil
	}
	out := make([]Outcome, n)
	s.release(ctx, d, n, func(i int, first attemptSpec) { out[i] = s.deliver(ctx, d, first) })
	return out
}

// LostAck delivers d with its first attempt abandoned on purpose, as when
// an ack is lost on the way back: the request is written in full (the
// receiver gets all of it), then that attempt's context is cancelled before
// the response is read, and the attempt is recorded with class
// harness.ErrLostAck. The attempt is dropped at the first byte of the
// answer, so the receiver has handled the request in full.
//
// The event is then redelivered by the retry loop as RiskOS redelivers
// after a timeout, but the first retry waits policy.Wait(1) at real scale
// whatever TimeScale says: a receiver whose dedupe memory is shorter than
// RiskOS's first-retry wait must not pass because hookproof came back
// sooner than RiskOS would. Later retries are scaled as usual. The
// redelivery happens even if RetryNetworkErrors is off, since simulating it
// is the point; with MaxRetries 0 the event is lost. If the first request
// cannot be written at all (connection refused), that attempt is an
// ordinary network failure and the loop goes on as usual.
func (s *Sender) LostAck(ctx context.Context, d Delivery) Outcome {
	_ = s.pace(ctx) // a context that ended while waiting shows in the outcome
	return s.deliver(ctx, d, attemptSpec{n: 1, lostAck: true})
}

// deliver runs the retry loop from the attempt first describes.
func (s *Sender) deliver(ctx context.Context, d Delivery, first attemptSpec) Outcome {
	p := s.cfg.Retry
	out := Outcome{EventID: d.EventID}
	spec := first
	for {
		a, kind := s.attempt(ctx, d, spec)
		out.Attempts = append(out.Attempts, a)
		out.Final = a

		var retry bool
		switch kind {
		case answered, noAnswer:
			v := p.Judge(a.Status)
			if v == harness.Acked {
				out.Acked = true
				return out
			}
			retry = v == harness.Retry
		case abandoned:
			retry = true
		case interrupted:
			out.Interrupted = true
			return out
		case unsent:
			retry = false
		}
		if ctx.Err() != nil {
			out.Interrupted = true
			return out
		}
		k := spec.n // the retry that would come next
		if !retry || k > p.MaxRetries {
			out.Lost = true
			out.Exhausted = retry
			return out
		}
		wait := p.ScaledWait(k, s.jitter())
		if kind == abandoned && k == 1 {
			wait = p.Wait(1) // a lost ack's redelivery comes at RiskOS's real pace
		}
		// A burst copy keeps its own connection pool for its retries, so a
		// retried copy is not queued behind the Sender's other deliveries.
		spec = attemptSpec{n: k + 1, realWait: p.Wait(k), wait: wait, client: first.client}
		if err := s.sleep(ctx, spec.wait); err != nil {
			out.Interrupted = true
			return out
		}
	}
}
