package riskos

import (
	"context"

	"github.com/hookproof/hookproof/harness"
)

// Outcome is the fate of one event through the RiskOS retry loop.
type Outcome struct {
	EventID string
	// Attempts holds every attempt, in order (also in the ledger).
	Attempts []harness.Attempt
	// Acked: some attempt got a 2xx.
	Acked bool
	// Lost: RiskOS gave up: a non-retryable answer, retries exhausted, or a
	// request that could not be built.
	Lost bool
	// Interrupted: ctx ended the loop before it reached a verdict; the event
	// is neither acked nor lost.
	Interrupted bool
	// Final is the last attempt made.
	Final harness.Attempt
}

// SendWithRetry delivers d as RiskOS does under cfg.Retry: the initial
// delivery, then retry k after sleeping policy.ScaledWait(k, jitter) while
// the policy judges the answer retryable (harness.RetryPolicy.Judge: a
// retryable status, or a network error or timeout when RetryNetworkErrors
// is set), up to MaxRetries retries. It stops at the
// first 2xx (acked), at a non-retryable answer (lost; a 3xx is one), after
// the last retry (lost), or when ctx is done (interrupted). Retry-After is
// recorded but not honoured: RiskOS documents no such behaviour.
func (s *Sender) SendWithRetry(ctx context.Context, d Delivery) Outcome {
	return s.deliver(ctx, d, false)
}

// LostAck delivers d with its first attempt abandoned on purpose, as when
// an ack is lost on the way back: the request is written in full (the
// receiver gets all of it), then that attempt's context is cancelled before
// the response is read, and the attempt is recorded with class
// harness.ErrLostAck. The attempt is dropped at the first byte of the
// answer, so the receiver has handled the request in full. The event is then redelivered by the retry loop, as
// RiskOS redelivers after a timeout: a wait of policy.ScaledWait(1) before
// retry 1, and so on. The redelivery happens even if RetryNetworkErrors is
// off, since simulating it is the point; with MaxRetries 0 the event is lost.
// If the first request cannot be written at all (connection refused), that
// attempt is an ordinary network failure and the loop goes on as usual.
func (s *Sender) LostAck(ctx context.Context, d Delivery) Outcome {
	return s.deliver(ctx, d, true)
}

func (s *Sender) deliver(ctx context.Context, d Delivery, lostAckFirst bool) Outcome {
	p := s.cfg.Retry
	out := Outcome{EventID: d.EventID}
	spec := attemptSpec{n: 1, lostAck: lostAckFirst}
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
			return out
		}
		spec = attemptSpec{n: k + 1, realWait: p.Wait(k), wait: p.ScaledWait(k, s.jitter())}
		if err := s.sleep(ctx, spec.wait); err != nil {
			out.Interrupted = true
			return out
		}
	}
}
