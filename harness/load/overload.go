package load

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hookproof/hookproof/harness"
)

// Redeliver pushes one event through the RiskOS retry loop (time-scaled)
// and reports whether it was finally acknowledged and how many attempts it
// took. The RETRY-02 scenario wires fakes/riskos into it; harness/load does
// not import the fakes. It is called concurrently and may block for the
// whole (scaled) backoff schedule.
type Redeliver func(ctx context.Context, eventID string, body []byte) (acked bool, attempts int, err error)

// OverloadOptions shape the RETRY-02 driver.
type OverloadOptions struct {
	// Burst is the load that overloads the receiver: a rate above its
	// capacity for a short, bounded time. Duplicates are not allowed, so
	// that every event has one first delivery.
	Burst Options
	// MaxConcurrent bounds the redeliveries in flight (default 1024).
	MaxConcurrent int
	// LostEvents caps Reconciliation.Lost (default DefaultLostEvents).
	LostEvents int
}

// Reconciliation is the per-event outcome of RETRY-02: every event of the
// burst must end acknowledged, none lost.
type Reconciliation struct {
	Events     uint64 `json:"events"`
	AckedFirst uint64 `json:"acked_first"`
	// Retried events were answered retryable and handed to Redeliver;
	// AckedAfterRetry of them were finally acked, in RetryAttempts attempts
	// (the first delivery excluded).
	Retried         uint64 `json:"retried"`
	AckedAfterRetry uint64 `json:"acked_after_retry"`
	RetryAttempts   uint64 `json:"retry_attempts"`
	// LostCount counts events never acked: answered with a non-retryable
	// status, or given up by the retry loop. Lost lists the first of them.
	LostCount     uint64      `json:"lost_count"`
	Lost          []LostEvent `json:"lost,omitempty"`
	LostTruncated bool        `json:"lost_truncated,omitempty"`
	// Unresolved counts redeliveries that ended in an error (cancellation,
	// a broken sender): their outcome is unknown, which fails RETRY-02 too.
	Unresolved uint64   `json:"unresolved"`
	Errors     []string `json:"errors,omitempty"`
	Load       *Summary `json:"load"`
}

// OK reports whether every event was finally acked and none was lost.
func (r *Reconciliation) OK() bool {
	return r.LostCount == 0 && r.Unresolved == 0 && r.Events > 0 && r.AckedFirst+r.AckedAfterRetry == r.Events
}

// reconciler is the per-event ledger of one RETRY-02 run.
type reconciler struct {
	ctx       context.Context
	policy    harness.RetryPolicy
	redeliver Redeliver
	sem       chan struct{}
	wg        sync.WaitGroup
	maxLost   int

	mu   sync.Mutex
	seen map[string]bool // events given a verdict; bounded by the burst's size
	rec  Reconciliation
}

func (c *reconciler) lose(e LostEvent) {
	c.rec.LostCount++
	if len(c.rec.Lost) < c.maxLost {
		c.rec.Lost = append(c.rec.Lost, e)
	} else {
		c.rec.LostTruncated = true
	}
}

// onFail takes a failed first delivery. It must not block the sender, so
// the redelivery runs on its own goroutine, which waits for a slot.
func (c *reconciler) onFail(f Failure) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[f.EventID] {
		return
	}
	c.seen[f.EventID] = true
	if c.policy.Judge(f.Status) != harness.Retry || f.EventID == "" {
		c.lose(LostEvent{EventID: f.EventID, Status: f.Status, ErrorClass: string(harness.ClassifyError(f.Err))})
		return
	}
	c.rec.Retried++
	c.wg.Go(func() {
		select {
		case c.sem <- struct{}{}:
		case <-c.ctx.Done():
			c.finish(f, false, 0, c.ctx.Err())
			return
		}
		acked, attempts, err := c.redeliver(c.ctx, f.EventID, f.Body)
		<-c.sem
		c.finish(f, acked, attempts, err)
	})
}

func (c *reconciler) finish(f Failure, acked bool, attempts int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rec.RetryAttempts += uint64(max(attempts, 0))
	switch {
	case acked:
		c.rec.AckedAfterRetry++
	case err != nil:
		c.rec.Unresolved++
		if len(c.rec.Errors) < 10 {
			c.rec.Errors = append(c.rec.Errors, fmt.Sprintf("%s: %v", f.EventID, err))
		}
	default:
		c.lose(LostEvent{EventID: f.EventID, Status: f.Status, ErrorClass: "retries_exhausted"})
	}
}

// RetryUnderOverload runs RETRY-02: the burst, every event answered with a
// retryable status (or a transport error, when the policy retries those)
// handed to redeliver, and the per-event ledger reconciled once every
// redelivery has ended. Cancelling ctx stops the burst and the
// redeliveries; unfinished ones count as Unresolved.
func RetryUnderOverload(ctx context.Context, cfg harness.Config, opts OverloadOptions, auth Authorizer, redeliver Redeliver) (*Reconciliation, error) {
	if redeliver == nil {
		return nil, errors.New("load: retry under overload: redeliver is nil")
	}
	if opts.Burst.DuplicateRatio != 0 {
		return nil, errors.New("load: retry under overload: burst.duplicate_ratio must be 0")
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 1024
	}
	if opts.LostEvents <= 0 {
		opts.LostEvents = DefaultLostEvents
	}
	c := &reconciler{
		ctx: ctx, policy: cfg.Retry, redeliver: redeliver, maxLost: opts.LostEvents,
		sem: make(chan struct{}, opts.MaxConcurrent), seen: map[string]bool{},
	}
	burst := opts.Burst
	prev := burst.OnFailure
	burst.OnFailure = func(f Failure) {
		c.onFail(f)
		if prev != nil {
			prev(f)
		}
	}
	e, err := New(cfg, burst, auth)
	if err != nil {
		return nil, err
	}
	s, runErr := e.Run(ctx, nil)
	c.wg.Wait()
	if s == nil {
		return nil, runErr
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rec := c.rec
	rec.Load = s
	rec.Events = s.Requests
	rec.AckedFirst = s.Acked
	return &rec, runErr
}
