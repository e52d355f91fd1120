package scenarios

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// ReasonStopped is the reason of every check a stopped run did not reach,
// after "not run: ".
const ReasonStopped = "the target stopped answering"

// DefaultBreakerThreshold is how many delivery attempts in a row may go
// unanswered before a Breaker stops the run: enough that a receiver which
// drops one slow request is not cut off, few enough that a dead one costs
// seconds of timeouts rather than minutes.
const DefaultBreakerThreshold = 5

// Breaker ends a run early: once the target stopped answering (Threshold
// delivery attempts in a row without an HTTP answer), or when told to
// (the run deadline). Once tripped, in-flight requests through Transport
// are cancelled and the checks not yet started are skipped with its
// reason. It is safe for concurrent use.
type Breaker struct {
	threshold int

	mu     sync.Mutex
	silent int
	reason string
	at     time.Time

	ctx    context.Context
	cancel context.CancelFunc
}

// NewBreaker returns a Breaker that trips after threshold unanswered
// attempts in a row (DefaultBreakerThreshold when threshold < 1).
func NewBreaker(threshold int) *Breaker {
	if threshold < 1 {
		threshold = DefaultBreakerThreshold
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Breaker{threshold: threshold, ctx: ctx, cancel: cancel}
}

// Observe counts a delivery attempt: any HTTP answer resets the count; a
// timeout or a refused connection adds to it; other failures (a reset, a
// TLS error) leave it as it is. Use it as the sender's observer.
func (b *Breaker) Observe(a harness.Attempt) {
	if b == nil {
		return
	}
	if b.ctx.Err() != nil && a.Status == 0 {
		return // cancelled by the trip itself
	}
	b.mu.Lock()
	switch {
	case a.Status != 0:
		b.silent = 0
		b.mu.Unlock()
		return
	case a.ErrorClass != harness.ErrTimeout && a.ErrorClass != harness.ErrRefused:
		// A reset or a TLS refusal is the receiver acting, and what the
		// checks are there to judge; only silence, or a target gone
		// away, means nothing more can be learnt.
		b.mu.Unlock()
		return
	}
	b.silent++
	trip := b.silent >= b.threshold
	b.mu.Unlock()
	if trip {
		b.Trip(ReasonStopped)
	}
}

// Trip stops the run with reason; only the first reason is kept.
func (b *Breaker) Trip(reason string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	if b.reason == "" {
		b.reason, b.at = reason, time.Now()
	}
	b.mu.Unlock()
	b.cancel()
}

// Reason is why the run was stopped, "" while it was not.
func (b *Breaker) Reason() string {
	if b == nil {
		return ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.reason
}

// Done is closed when the breaker trips.
func (b *Breaker) Done() <-chan struct{} { return b.ctx.Done() }

// Transport wraps base so that every request in flight when the breaker
// trips is cancelled, and later ones fail at once.
func (b *Breaker) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &breakerTransport{b: b, base: base}
}

type breakerTransport struct {
	b    *Breaker
	base http.RoundTripper
}

func (t *breakerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.b.ctx.Err(); err != nil {
		return nil, errStopped{t.b.Reason()}
	}
	ctx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(t.b.ctx, cancel)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		stop()
		cancel()
		return nil, err
	}
	// The body belongs to the caller now: cancel when it is closed.
	resp.Body = &cancelBody{ReadCloser: resp.Body, done: func() { stop(); cancel() }}
	return resp, nil
}

type cancelBody struct {
	io.ReadCloser
	done func()
	once sync.Once
}

func (c *cancelBody) Close() error {
	err := c.ReadCloser.Close()
	c.once.Do(c.done)
	return err
}

type errStopped struct{ reason string }

func (e errStopped) Error() string { return "hookproof stopped the run: " + e.reason }
