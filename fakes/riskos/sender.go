package riskos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// DefaultMaxResponseBytes is how much of a response body a Sender reads
// before giving up on it. Receivers answer webhooks with a few bytes; reading
// more only lets a hostile or broken receiver exhaust the harness's memory.
const DefaultMaxResponseBytes int64 = 64 << 10

// Sender delivers events to one receiver as RiskOS would. Build it with New.
// It is safe for concurrent use by multiple goroutines.
type Sender struct {
	cfg    harness.Config
	client *http.Client
	// burstBase is the transport a Burst clones when client's own
	// RoundTripper is not an *http.Transport (harness.NewClient wraps its
	// transport in a no-replay guard).
	burstBase *http.Transport
	auth      harness.Authorizer
	ledger    *harness.Ledger
	sleep     func(ctx context.Context, d time.Duration) error
	rand      func() float64
	maxResp   int64
	observer  func(harness.Attempt)

	// interval is the least time between two deliveries' first attempts
	// (WithPace); next is when the next one may start.
	interval time.Duration
	paceMu   sync.Mutex
	next     time.Time
	now      func() time.Time

	isolatedOnce   sync.Once
	isolatedClient *http.Client

	// randMu serialises the jitter source, which need not be safe for
	// concurrent use; observeMu keeps observer calls (one printed line per
	// attempt) from interleaving during a burst.
	randMu    sync.Mutex
	observeMu sync.Mutex
}

// Option configures a Sender.
type Option func(*options)

type options struct {
	client   *http.Client
	auth     harness.Authorizer
	ledger   *harness.Ledger
	sleep    func(ctx context.Context, d time.Duration) error
	rand     func() float64
	maxResp  int64
	observer func(harness.Attempt)
	rate     float64
	now      func() time.Time
}

// WithClient makes the Sender use client instead of harness.NewClient(cfg).
// If client would follow redirects (CheckRedirect is nil), the Sender uses a
// copy that does not: RiskOS never follows a 3xx.
func WithClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithAuthorizer makes the Sender authorize requests with a instead of
// harness.NewAuthorizer(cfg.Auth, client).
func WithAuthorizer(a harness.Authorizer) Option { return func(o *options) { o.auth = a } }

// WithLedger makes the Sender record attempts in l (shared with other
// senders or the caller) instead of a ledger of its own.
func WithLedger(l *harness.Ledger) Option { return func(o *options) { o.ledger = l } }

// WithSleep sets how retry waits are slept. The function must return early
// with an error when ctx is done. The default is a timer that honours ctx.
func WithSleep(f func(ctx context.Context, d time.Duration) error) Option {
	return func(o *options) { o.sleep = f }
}

// WithRand sets the source of jitter samples, uniform in [0, 1). It is called
// once per retry wait, under a lock.
func WithRand(f func() float64) Option { return func(o *options) { o.rand = f } }

// WithMaxResponseBytes sets how many response-body bytes an attempt reads
// (DefaultMaxResponseBytes if unset). A longer body is abandoned, not read.
func WithMaxResponseBytes(n int64) Option { return func(o *options) { o.maxResp = n } }

// WithObserver sets a function called after every attempt, once the attempt
// is in the ledger. Calls never overlap, even during a Burst.
func WithObserver(f func(harness.Attempt)) Option { return func(o *options) { o.observer = f } }

// WithPace makes the Sender start deliveries no faster than rate per second:
// the first attempt of each delivery (Send, SendWithRetry, LostAck, each
// copy of SendDuplicates, and a Burst as a whole) waits its turn. Retries
// are not paced, since the retry policy spaces them already. A receiver may
// shed load above a rate it is not required to sustain; conformance checks
// must not trip that by sending faster than any RiskOS tenant would. Zero
// or less means no pacing.
func WithPace(rate float64) Option { return func(o *options) { o.rate = rate } }

// WithClock sets the clock the pace is kept by (time.Now if unset).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// New returns a Sender for cfg. Unless given by options, it builds the HTTP
// client with harness.NewClient and the authorizer with
// harness.NewAuthorizer. cfg is not validated as a whole (the CLI does that
// once); only the parts the Sender cannot work without are checked.
func New(cfg harness.Config, opts ...Option) (*Sender, error) {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if err := cfg.Retry.Validate("retry."); err != nil {
		return nil, fmt.Errorf("riskos sender: %w", err)
	}
	if cfg.Timeouts.Attempt < 0 {
		return nil, fmt.Errorf("riskos sender: timeouts.attempt: must not be negative, got %s", cfg.Timeouts.Attempt)
	}
	if o.maxResp < 0 {
		return nil, fmt.Errorf("riskos sender: max response bytes: must not be negative, got %d", o.maxResp)
	}
	if o.maxResp == 0 {
		o.maxResp = DefaultMaxResponseBytes
	}
	var burstBase *http.Transport
	if o.client == nil {
		c, err := harness.NewClient(cfg)
		if err != nil {
			return nil, fmt.Errorf("riskos sender: http client: %w", err)
		}
		o.client = c
		if t, ok := c.Transport.(*http.Transport); ok {
			burstBase = t
		} else if burstBase, err = harness.NewTransport(cfg); err != nil {
			return nil, fmt.Errorf("riskos sender: http transport: %w", err)
		}
	} else if t, ok := o.client.Transport.(*http.Transport); ok {
		burstBase = t
	}
	if o.client.CheckRedirect == nil {
		c := *o.client
		c.CheckRedirect = noRedirect
		o.client = &c
	}
	if o.auth == nil {
		a, err := harness.NewAuthorizer(cfg.Auth, o.client)
		if err != nil {
			return nil, fmt.Errorf("riskos sender: auth: %w", err)
		}
		if a == nil {
			return nil, errors.New("riskos sender: auth: no authorizer for auth.type " + string(cfg.Auth.Type))
		}
		o.auth = a
	}
	if o.ledger == nil {
		o.ledger = &harness.Ledger{}
	}
	if o.sleep == nil {
		o.sleep = sleepContext
	}
	if o.rand == nil {
		o.rand = rand.Float64
	}
	if o.now == nil {
		o.now = time.Now
	}
	var interval time.Duration
	if o.rate > 0 {
		interval = time.Duration(float64(time.Second) / o.rate)
	}
	return &Sender{
		cfg:       cfg,
		client:    o.client,
		burstBase: burstBase,
		auth:      o.auth,
		ledger:    o.ledger,
		sleep:     o.sleep,
		rand:      o.rand,
		maxResp:   o.maxResp,
		observer:  o.observer,
		interval:  interval,
		now:       o.now,
	}, nil
}

// Ledger returns the ledger every attempt of this Sender is recorded in.
func (s *Sender) Ledger() *harness.Ledger { return s.ledger }

// Policy returns the retry policy the Sender follows (cfg.Retry).
func (s *Sender) Policy() harness.RetryPolicy { return s.cfg.Retry }

// pace waits until the next delivery may start under WithPace. Each caller
// reserves its slot under the lock and sleeps outside it, so concurrent
// callers are spaced by the interval rather than serialised behind sleeps.
func (s *Sender) pace(ctx context.Context) error {
	if s.interval <= 0 {
		return ctx.Err()
	}
	s.paceMu.Lock()
	now := s.now()
	slot := s.next
	if slot.Before(now) {
		slot = now
	}
	s.next = slot.Add(s.interval)
	s.paceMu.Unlock()
	return s.sleep(ctx, slot.Sub(now))
}

// isolated returns a client whose every request goes on a connection of its
// own, closed after the answer: a request that may poison its connection
// (an oversized header a receiver answers and then drops the socket on)
// must not leave a broken connection in the pool the next delivery takes.
func (s *Sender) isolated() *http.Client {
	s.isolatedOnce.Do(func() {
		s.isolatedClient = s.client
		if s.burstBase == nil {
			return
		}
		tr := s.burstBase.Clone()
		tr.DisableKeepAlives = true
		c := *s.client
		c.Transport = tr
		s.isolatedClient = &c
	})
	return s.isolatedClient
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// sleepContext waits d or until ctx is done, whichever comes first.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (s *Sender) jitter() float64 {
	s.randMu.Lock()
	defer s.randMu.Unlock()
	return s.rand()
}

// record puts a finished attempt in the ledger and shows it to the observer.
func (s *Sender) record(a harness.Attempt) {
	s.ledger.Record(a)
	if s.observer != nil {
		s.observeMu.Lock()
		defer s.observeMu.Unlock()
		s.observer(a)
	}
}
