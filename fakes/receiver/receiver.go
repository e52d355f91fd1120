package receiver

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
)

// Receiver is the reference RiskOS webhook receiver, an http.Handler. It
// serves the webhook at Options.Path and the effects probe at EffectsPath,
// and answers 404 elsewhere. It is safe for concurrent use. Call Close when
// done: it stops accepting, drains the queue and flushes the state files.
type Receiver struct {
	opts        Options
	log         *slog.Logger
	auth        *authenticator
	seen        *dedupe
	eff         *effects
	ownsEffects bool

	limit   *tokenBucket // nil: no rate limit
	queue   *eventQueue
	workers sync.WaitGroup

	// pending counts queued or running events, so tests can wait for the
	// effects to settle without polling.
	pendingMu   sync.Mutex
	pendingCond *sync.Cond
	pending     int

	closeOnce sync.Once
}

// New returns a started Receiver (its workers are running) configured by
// opts, or an error naming every invalid option.
func New(opts Options) (*Receiver, error) {
	return newReceiver(opts, nil)
}

// newReceiver shares eff when given (Server.Restart keeps the business side
// effects across receiver generations); otherwise the receiver owns its own.
func newReceiver(opts Options, eff *effects) (*Receiver, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	rx := &Receiver{opts: opts, log: opts.Logger, auth: newAuthenticator(opts.Auth, opts.Verifier)}
	statePath := opts.StateFile
	if opts.has(FaultForgetOnRestart) {
		statePath = ""
	}
	if rx.seen, err = newDedupe(statePath, opts.DedupeMemory, opts.Clock.Now); err != nil {
		return nil, err
	}
	if eff == nil {
		if eff, err = newEffects(opts.EffectsFile); err != nil {
			_ = rx.seen.close()
			return nil, err
		}
		rx.ownsEffects = true
	}
	rx.eff = eff
	rx.pendingCond = sync.NewCond(&rx.pendingMu)
	if opts.RateLimit > 0 {
		rx.limit = newTokenBucket(opts.RateLimit, opts.RateBurst, opts.Clock.Now)
	}
	limit := opts.QueueSize
	if opts.WorkerRate > 0 {
		limit = 0 // the slow worker's backlog is unbounded
	}
	rx.queue = newEventQueue(limit)
	for range opts.Workers {
		rx.workers.Add(1)
		go rx.work()
	}
	return rx, nil
}

// ServeHTTP implements http.Handler.
func (rx *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case rx.opts.Path:
		rx.serveWebhook(w, r)
	case EffectsPath:
		rx.eff.serveEffects(w, r)
	default:
		writeError(w, http.StatusNotFound, "not found")
	}
}

// Count returns how many times the business handling ran for eventID.
func (rx *Receiver) Count(eventID string) int { return rx.eff.count(eventID) }

// Processed returns how many events the business handling ran for in all.
func (rx *Receiver) Processed() int { return rx.eff.processed() }

// Options returns the receiver's options, defaults applied.
func (rx *Receiver) Options() Options { return rx.opts }

// Close stops accepting events (later deliveries get 503), waits for the
// workers to drain the queue, and syncs and closes the state and effects
// files. It is idempotent; it blocks while a Work function blocks.
func (rx *Receiver) Close() {
	rx.closeOnce.Do(func() {
		rx.queue.close()
		rx.workers.Wait()
		errs := []error{rx.seen.close()}
		if rx.ownsEffects {
			errs = append(errs, rx.eff.close())
		}
		if err := errors.Join(errs...); err != nil {
			rx.log.Error("closing receiver state", "err", err)
		}
	})
}

// enqueue hands ev to the workers without blocking; false means the queue
// is full or closed.
func (rx *Receiver) enqueue(ev Event) bool {
	rx.addPending(1)
	if !rx.queue.push(ev) {
		rx.addPending(-1)
		return false
	}
	return true
}

func (rx *Receiver) addPending(n int) {
	rx.pendingMu.Lock()
	rx.pending += n
	if rx.pending == 0 {
		rx.pendingCond.Broadcast()
	}
	rx.pendingMu.Unlock()
}

// settle blocks until no event is queued or being processed.
func (rx *Receiver) settle() {
	rx.pendingMu.Lock()
	for rx.pending > 0 {
		rx.pendingCond.Wait()
	}
	rx.pendingMu.Unlock()
}

func (rx *Receiver) work() {
	defer rx.workers.Done()
	for {
		ev, ok := rx.queue.pop()
		if !ok {
			return
		}
		rx.process(context.Background(), ev)
		rx.addPending(-1)
	}
}

// process runs the business handling of ev once and records the effect.
func (rx *Receiver) process(ctx context.Context, ev Event) {
	if rx.opts.Work != nil {
		rx.opts.Work(ctx, ev)
	} else if rx.opts.WorkDuration > 0 {
		rx.opts.Clock.Sleep(rx.opts.WorkDuration) // stands for real business work
	}
	if err := rx.eff.record(ev.ID); err != nil {
		rx.log.Error("recording effect", "event_id", ev.ID, "err", err)
	}
	rx.log.Debug("processed", "event_id", ev.ID, "event_type", ev.Type, "event_at", ev.At)
}
