package receiver

import (
	"math"
	"sync"
	"time"
)

// tokenBucket admits rate events/s on average and up to burst at once. It
// reads time from now only, so a test can drive it with a fake clock.
type tokenBucket struct {
	mu     sync.Mutex
	now    func() time.Time
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate float64, burst int, now func() time.Time) *tokenBucket {
	return &tokenBucket{now: now, rate: rate, burst: float64(burst), tokens: float64(burst), last: now()}
}

// take spends a token; when none is left it reports, in whole seconds
// (at least 1, as Retry-After counts), when the next one will be.
func (b *tokenBucket) take() (ok bool, retryAfter int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.now()
	if d := t.Sub(b.last); d > 0 {
		b.tokens = min(b.burst, b.tokens+d.Seconds()*b.rate)
	}
	b.last = t
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, max(1, int(math.Ceil((1-b.tokens)/b.rate)))
}
