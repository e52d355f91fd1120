package load

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/hookproof/hookproof/harness"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// EventSource makes schema-valid event bodies, appending one to dst and
// returning the extended buffer. harness.Generator satisfies it. A source
// is used by one goroutine at a time. The event_id is the body's: the
// engine reads it from there for the rare event it reports, so that the
// common path makes no string per event.
type EventSource interface {
	AppendEvent(dst []byte, eventType string) []byte
}

// Authorizer is what the engine needs of harness.Authorizer: it sets the
// Authorization header and is safe for concurrent use.
type Authorizer interface {
	Authorize(ctx context.Context, req *http.Request) error
}

// sent is an event kept for re-sending as a duplicate.
type sent struct {
	body []byte
}

// recent is a lock-free ring of the last events sent, for duplicates; its
// size is fixed, so memory stays bounded however long the run.
type recent struct {
	slots []atomic.Pointer[sent]
	next  atomic.Uint64
}

func (r *recent) put(e *sent) {
	i := r.next.Add(1) - 1
	r.slots[i%uint64(len(r.slots))].Store(e)
}

// pick returns one of the events in the ring, chosen by u, or nil if empty.
func (r *recent) pick(u uint64) *sent {
	n := min(r.next.Load(), uint64(len(r.slots)))
	if n == 0 {
		return nil
	}
	return r.slots[u%n].Load()
}

// sourceState is one goroutine's event source and random stream.
type sourceState struct {
	src EventSource
	rng *rand.Rand
}

// targeter makes vegeta targets: a fresh event per hit, or a duplicate of a
// recent one, with the current header set (auth refreshed in the background).
type targeter struct {
	url       string
	types     []string
	dupRatio  float64
	ring      *recent
	newSource func(seed int64) EventSource
	seedBase  uint64
	seeds     atomic.Uint64
	pool      sync.Pool
	header    atomic.Pointer[headerSet]
	// sizes is the longest body seen per event type: bodies vary from a
	// few hundred bytes to several KB by type, and sizing the buffer per
	// type avoids both regrowth and allocating the largest size for every
	// event. It is the targeter's, not a source's: the pool drops sources
	// at every GC, and a fresh source's buffers regrew from nothing (at
	// maximum rate, a third of the generator's allocated bytes).
	sizes []atomic.Int64

	events, duplicates atomic.Uint64
}

func newTargeter(url string, types []string, dupRatio float64, window int, seedBase uint64, newSource func(int64) EventSource) *targeter {
	t := &targeter{url: url, types: types, dupRatio: dupRatio, newSource: newSource, seedBase: seedBase,
		sizes: make([]atomic.Int64, len(types))}
	if dupRatio > 0 {
		t.ring = &recent{slots: make([]atomic.Pointer[sent], window)}
	}
	// sync.Pool keeps per-P sources, so workers rarely contend; a source the
	// GC drops is replaced by one with a fresh seed, never a reused one, so
	// no two sources produce the same event_id stream.
	t.pool.New = func() any { return t.newSourceState() }
	return t
}

// splitmix is SplitMix64's finaliser: distinct inputs give distinct,
// well-spread seeds.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// target implements vegeta.Targeter. It never fails once the header is set:
// any error would stop the whole attack.
func (t *targeter) target(tgt *vegeta.Target) error {
	if tgt == nil {
		return vegeta.ErrNilTarget
	}
	tgt.Method, tgt.URL = http.MethodPost, t.url
	// The header map is shared and immutable: vegeta deep-copies it into
	// each request.
	tgt.Header = t.header.Load().h
	st := t.pool.Get().(*sourceState)
	defer t.pool.Put(st)
	tgt.Body, _ = t.next(st, nil)
	return nil
}

// next returns the body of the next hit: a duplicate of a recent event, or
// a fresh one appended to buf. A nil buf means the body is the caller's to
// keep (vegeta holds it until its request is done), so it is freshly
// allocated at the size this type needs; a non-nil one is the caller's
// reused buffer, which the duplicate ring then cannot share. dup reports a
// duplicate, whose body is the ring's (never buf).
func (t *targeter) next(st *sourceState, buf []byte) (body []byte, dup bool) {
	if t.ring != nil && st.rng.Float64() < t.dupRatio {
		if e := t.ring.pick(st.rng.Uint64()); e != nil {
			t.duplicates.Add(1)
			return e.body, true
		}
	}
	ti := st.rng.IntN(len(t.types))
	size := &t.sizes[ti]
	want := size.Load()
	reused := buf != nil
	if !reused {
		buf = make([]byte, 0, want+64)
	}
	body = st.src.AppendEvent(buf[:0], t.types[ti])
	if n := int64(len(body)); n > want {
		size.Store(n) // a race may keep the smaller of two: the next body regrows once
	}
	t.events.Add(1)
	if t.ring != nil {
		kept := body
		if reused {
			kept = bytes.Clone(body)
		}
		t.ring.put(&sent{body: kept})
	}
	return body, false
}

// newSourceState returns an event source and random stream with a seed no
// other source of the run has had.
func (t *targeter) newSourceState() *sourceState {
	seed := splitmix(t.seedBase + t.seeds.Add(1))
	return &sourceState{
		src: t.newSource(int64(seed)),
		rng: rand.New(rand.NewPCG(seed, splitmix(seed))),
	}
}

// buildHeader returns the full header set of a delivery: content type, user
// agent, the static header variables, then the credentials, which win over a
// static header of the same name.
func buildHeader(ctx context.Context, cfg harness.Config, target string, auth Authorizer) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, nil)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	for _, h := range cfg.Headers {
		req.Header.Add(h.Name, h.Value)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", harness.UserAgent())
	if auth != nil {
		if err := auth.Authorize(ctx, req); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	return req.Header, nil
}
