package load

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// authRefresh is how often the engine re-asks the Authorizer for the
// Authorization value. OAuth2 tokens are refreshed by the Authorizer well
// before they expire, so a value at most this old is still valid; asking
// once a second instead of once per request keeps token handling off the
// hot path.
const authRefresh = time.Second

// observeEvery is the period of the live Snapshot callback.
const observeEvery = time.Second

// flushEvery is how often a flushable Options.Results is flushed: at most
// this much of a run is lost when the process is killed.
const flushEvery = time.Second

// MaxBodyCapture is how much of each answer vegeta reads into a result
// (the rest is read and discarded): Result.BytesIn counts at most this
// many bytes per answer.
const MaxBodyCapture = 64 << 10

// Engine runs bounded load against one receiver. Build it with New; Run may
// be called more than once, but not concurrently.
type Engine struct {
	cfg   harness.Config
	opts  settings
	auth  Authorizer
	pacer *Pacer
}

// New validates opts against cfg (as Options.Validate does) and returns an
// engine. auth may be nil for a receiver without authentication; a
// harness.Authorizer fits.
func New(cfg harness.Config, opts Options, auth Authorizer) (*Engine, error) {
	o, p, err := opts.resolve(cfg)
	if err != nil {
		return nil, err
	}
	return &Engine{cfg: cfg, opts: o, auth: auth, pacer: p}, nil
}

// resolve is New's validation and schedule, which Validate shares.
func (opts Options) resolve(cfg harness.Config) (settings, *Pacer, error) {
	o, err := opts.normalize(cfg)
	if err != nil {
		return o, nil, fmt.Errorf("load: %w", err)
	}
	if o.NewSource == nil {
		o.NewSource = defaultSource
	}
	n := float64(o.Shard.N)
	rate := o.Rate / n
	var ramp *Ramp
	if o.Ramp != nil {
		r := *o.Ramp
		r.From /= n
		ramp = &r
	}
	maxReq := o.MaxRequests
	if maxReq > 0 && o.Shard.N > 1 {
		maxReq = (maxReq + uint64(o.Shard.N) - 1) / uint64(o.Shard.N)
	}
	if maxReq == 0 && rate == 0 {
		maxReq = uint64(o.Duration.Seconds()*MaxRateRequestsPerSecond) + 1
	}
	p, err := NewPacer(rate, o.Duration, ramp, o.Spike, maxReq)
	if err != nil {
		return o, nil, fmt.Errorf("load: %w", err)
	}
	return o, p, nil
}

// Pacer returns the engine's schedule (this shard's part of it).
func (e *Engine) Pacer() *Pacer { return e.pacer }

// AttackName returns the vegeta attack name results are written under.
func (e *Engine) AttackName() string { return e.opts.attackName() }

// run is the state of one Run.
type run struct {
	e        *Engine
	canceled atomic.Bool

	lostMu    sync.Mutex
	lost      []LostEvent
	lostTotal int
}

// onFail records RETRY-01 evidence and forwards the failure to the caller.
func (r *run) onFail(f Failure) {
	if r.canceled.Load() && f.Status == 0 {
		return // our own abort, not the receiver's doing
	}
	if r.e.cfg.Retry.Judge(f.Status) == harness.Lost {
		r.lostMu.Lock()
		r.lostTotal++
		if len(r.lost) < r.e.opts.LostEvents {
			r.lost = append(r.lost, LostEvent{EventID: f.EventID, Status: f.Status, ErrorClass: string(harness.ClassifyError(f.Err)),
				BodyExcerpt: reports.Excerpt(f.Body, 240), AnswerExcerpt: reports.Excerpt(f.Answer, 240)})
		}
		r.lostMu.Unlock()
	}
	if r.e.opts.OnFailure != nil {
		r.e.opts.OnFailure(f)
	}
}

// Run sends the load and returns its summary. observe, if not nil, is
// called about once a second with live figures, from another goroutine than
// the caller's (never concurrently with itself).
//
// Cancelling ctx (SIGINT) ends the run promptly: no new hits start, the
// requests in flight are aborted, and the partial summary is returned with
// Interrupted set and a nil error. The error is for runs that could not
// start (auth, transport) or whose Results could not be written; a summary
// is returned whenever any hit was sent.
func (e *Engine) Run(ctx context.Context, observe func(Snapshot)) (*Summary, error) {
	o := e.opts
	hdr, err := buildHeader(ctx, e.cfg, o.target, e.auth)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	base, err := harness.NewTransport(e.cfg)
	if err != nil {
		return nil, fmt.Errorf("load: transport: %w", err)
	}
	initial, maxW, conns := o.workers(e.pacer.PeakRate())
	base.MaxConnsPerHost = conns
	base.MaxIdleConnsPerHost = conns
	base.MaxIdleConns = conns
	var tracker connTracker
	dial := base.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	base.DialContext = tracker.wrap(dial)
	defer base.CloseIdleConnections()

	r := &run{e: e}
	hs, err := newHeaderSet(hdr)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	tr := newTargeter(o.target, o.types, o.DuplicateRatio, o.DuplicateWindow, runSeed(o.Options), o.NewSource)
	tr.header.Store(hs)
	var rt http.RoundTripper = harness.NoReplay(base)
	var fast *h1Transport
	transport := TransportFor(o.target, o.Transport)
	if transport == TransportFast {
		// Plain HTTP takes the fast path: the engine's own attack loop
		// over its own HTTP/1.1 transport, which writes the headers
		// itself and bounds each exchange with a connection deadline
		// instead of Client.Timeout's goroutine.
		fast = newH1Transport(base.DialContext, rt, conns, o.timeout)
		fast.headers = &tr.header
		defer fast.closeIdle()
	}

	var enc vegeta.Encoder
	var rec *recordHeaders
	var flusher *recordWriter
	var flushDue atomic.Bool
	if o.Results != nil {
		flusher = newRecordWriter(o.Results)
		enc = vegeta.NewEncoder(flusher)
		rec = newRecordHeaders(o.RunID)
	}

	var mu sync.Mutex
	start := time.Now()
	points := o.SeriesPoints
	if points <= 0 {
		points = 600
	}
	// Windows of at least a second, wide enough that the run fits the cap
	// without merging.
	width := max(time.Second, o.Duration/time.Duration(points))
	m := NewMetrics(MetricsConfig{Start: start, SeriesWidth: width, SeriesPoints: points, Retry: &e.cfg.Retry})
	name := o.attackName()

	var stop func()
	var results <-chan *vegeta.Result
	var batches <-chan *resultBatch
	var a *attack
	if fast != nil {
		a = newAttack(e.pacer, o.Duration, o.target, fast, tr, maxW, r.onFail)
		a.stallAfter = stallWindow(o.ackBudget)
		batches, stop = a.run(initial), a.stop
	} else {
		client := &http.Client{
			Transport: &tap{base: rt, onFail: r.onFail},
			Timeout:   o.timeout,
			// RiskOS follows no redirect: a 3xx is the answer, and loses the event.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		// Client must be the last option: options after it would mutate (and
		// may panic on) our transport, options before it would be discarded.
		// MaxBody bounds what vegeta captures of an answer, and so its BytesIn
		// (the captured length): a webhook ack is small, and a receiver
		// answering more cannot make the generator hold it.
		atk := vegeta.NewAttacker(vegeta.Workers(initial), vegeta.MaxWorkers(maxW), vegeta.MaxBody(MaxBodyCapture), vegeta.Client(client))
		// The attack is unnamed for vegeta, which would otherwise put an
		// X-Vegeta-Attack header on every request (a map insert and an
		// allocation per hit, and a header RiskOS never sends for the
		// receiver to parse); the consumer names each result instead, so
		// results files carry the shard's attack name as before.
		results = atk.Attack(tr.target, e.pacer, o.Duration, "")
		stop = func() { atk.Stop() }
	}

	done := make(chan struct{})
	var bg sync.WaitGroup
	bg.Go(func() {
		select {
		case <-ctx.Done():
			r.canceled.Store(true)
			stop()
			tracker.closeAll()
		case <-done:
		}
	})
	var authErrs atomic.Uint64
	every(&bg, authRefresh, done, func() {
		// A failed refresh keeps the last good value: stopping the attack
		// over one token hiccup would lose the run.
		h, err := buildHeader(ctx, e.cfg, o.target, e.auth)
		var hs *headerSet
		if err == nil {
			hs, err = newHeaderSet(h)
		}
		if err == nil {
			tr.header.Store(hs)
		} else if ctx.Err() == nil {
			authErrs.Add(1)
		}
	})
	if flusher != nil {
		every(&bg, flushEvery, done, func() { flushDue.Store(true) })
	}
	if observe != nil {
		every(&bg, observeEvery, done, func() {
			mu.Lock()
			s := m.Snapshot(time.Since(start))
			mu.Unlock()
			observe(s)
		})
	}

	var encErr error
	// consume folds one result into the metrics (shared with the live
	// snapshot, hence the lock) and writes it, outside the lock.
	consume := func(res *vegeta.Result, lag time.Duration) {
		res.Attack = name
		mu.Lock()
		if r.canceled.Load() && res.Code == 0 {
			m.AddCanceled()
			mu.Unlock()
			return
		}
		m.Add(res, lag)
		mu.Unlock()
		if enc != nil && encErr == nil {
			// Bounded files: about 170 B per result. The flush happens in
			// this goroutine, between two whole results.
			res.Headers, res.Body = rec.with(lag), nil
			if o.ScrubResult != nil {
				res.URL, res.Error = o.ScrubResult(res.URL), o.ScrubResult(res.Error)
			}
			if err := enc.Encode(res); err != nil {
				encErr = fmt.Errorf("load: results: %w", err)
			} else if flusher != nil && flushDue.Load() {
				flushDue.Store(false)
				if err := flusher.Flush(); err != nil {
					encErr = fmt.Errorf("load: results: %w", err)
				}
			}
		}
	}
	if batches != nil {
		for b := range batches {
			for i := range b.n {
				consume(&b.res[i], b.lag[i])
			}
			a.recycle(b)
		}
	} else {
		for res := range results {
			var lag time.Duration
			if at, ok := e.pacer.Scheduled(res.Seq); ok {
				lag = res.Timestamp.Sub(start.Add(at))
			}
			consume(res, lag)
		}
	}
	close(done)
	bg.Wait()
	if flusher != nil {
		if err := flusher.Flush(); err != nil && encErr == nil {
			encErr = fmt.Errorf("load: results: %w", err)
		}
	}

	s := m.Summary()
	s.Attack = o.attackName()
	s.RunID, s.Shard, s.Transport = o.RunID, o.Shard, transport
	s.RequestedRate = o.Rate
	s.Duplicates = tr.duplicates.Load()
	s.Interrupted = ctx.Err() != nil
	s.AuthRefreshErrors = authErrs.Load()
	s.Workers = &reports.Workers{Bound: int(maxW)}
	if a != nil {
		s.Workers.Peak = int(a.peak.Load())
	}
	r.lostMu.Lock()
	s.LostEvents = r.lost
	s.LostEventsTruncated = r.lostTotal > len(r.lost)
	r.lostMu.Unlock()
	if s.StartedAt.IsZero() {
		s.StartedAt = start
	}
	return s, encErr
}

// runSeed derives the base of the generator seeds from the configured seed
// and the shard alone, so load content is reproducible with --seed and
// shards never share a generator seed. Identity is not the seed's business:
// every source draws its own run nonce for its event_ids (see
// defaultSource), so runs with one seed still share no event_id.
func runSeed(o Options) uint64 {
	return splitmix(uint64(o.Seed)) ^ splitmix(uint64(o.Shard.I)<<32|uint64(o.Shard.N))
}

// RunID returns the run id results and the report's load section carry.
func (e *Engine) RunID() string { return e.opts.RunID }

// every calls fn each period in a goroutine of bg until done is closed.
func every(bg *sync.WaitGroup, period time.Duration, done <-chan struct{}, fn func()) {
	bg.Go(func() {
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fn()
			case <-done:
				return
			}
		}
	})
}
