package load

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// attack is the fast path's attack loop, vegeta's model without its per-hit
// costs. Profiled at maximum rate (see the package doc), vegeta's Attacker
// spent a fifth of the generator's CPU outside the socket on every hit: an
// http.Request built and parsed from the URL, the header map copied twice
// (by vegeta and by http.Client's redirect copier), http.Client's deadline
// and redirect machinery, a fresh body slice for io.ReadAll, a Result on the
// heap, a pacer goroutine handing each tick to a worker, and an
// unbuffered channel send that woke the consumer goroutine for every
// result. Here each worker takes its place in the schedule from an atomic
// counter, sleeps to it itself (no pacer goroutine), builds the event into a buffer
// it reuses, sends it through the fast transport on a request it reuses,
// and hands results to the consumer in batches: no allocation and no
// goroutine switch per hit beyond the socket's.
//
// What comes out is vegeta's: the same Result records (Seq, Timestamp at
// pick-up, Latency to the end of the body, Code, Error texts as vegeta
// writes them), so results files, vegeta report and plot, and merges do
// not change. --transport net/http runs vegeta's own Attacker instead.
type attack struct {
	pacer    *Pacer
	paced    bool
	maxHits  uint64
	duration time.Duration
	start    time.Time
	url      string
	rt       *h1Transport
	tr       *targeter
	onFail   func(Failure)
	maxW     int64
	minW     int64
	// stallAfter is how long the receiver may answer fewer hits than
	// fall due before every late hit gets a worker (stallWindow).
	stallAfter time.Duration

	// slots counts the schedule's hits handed to workers; a worker sleeps
	// to its slot's time. Seq is given at pick-up instead, with the
	// Timestamp under one lock, as vegeta's Attacker does: vegeta plot
	// walks results in Seq order and refuses a timestamp that goes back.
	slots   atomic.Uint64
	seqMu   sync.Mutex
	seq     uint64
	spawned atomic.Int64
	peak    atomic.Int64 // the most workers at once
	added   atomic.Int64 // workers started, the initial ones included
	// answered counts the hits completed: seq less answered is the
	// workers in a delivery, waiting on the receiver.
	answered atomic.Uint64

	stopped atomic.Bool
	done    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
	out     chan *resultBatch
	free    sync.Pool
	// hitters keeps the state of retired workers for the next one added:
	// workers come and go with the receiver's latency, and a fresh one's
	// event source, buffers and random stream were most of what a run
	// allocated (about 0.6 MB/s at 20,000/s), which the heap then grew by.
	hitters sync.Pool
}

const (
	// batchSize and batchAge bound a batch of results: the consumer gets
	// one channel receive per batchSize hits, and sees a result at most
	// about batchAge after it completed (the live figures and a killed
	// run's results file lag by that much).
	batchSize = 32
	batchAge  = 50 * time.Millisecond
	// growLag is how long a hit may stay unclaimed after it fell due
	// before the attack adds a worker for it: it found no worker free.
	// This sizes the workers from what the receiver needs in flight, up
	// to the bound, instead of from the worst case; it is also the period
	// of the check.
	growLag = time.Millisecond
	// shrinkWait is how long a worker may wait for its next hit before it
	// ends after that hit, down to the initial workers, when it also waited
	// longer than its last answer took: more workers than the receiver's
	// latency needs only spread the hits over more connections and hold
	// more memory, and hiccups (a GC pause, the CPU taken by the receiver)
	// would otherwise ratchet them up to the bound over a long run. The
	// second condition keeps the headroom of a slow receiver's workers: at
	// 1000/s and 460 ms, 480 workers each wait 20 ms between answers, and
	// retiring them on the wait alone shrank the pool below the 460 in
	// flight the receiver needs every second or so, then grew it back,
	// lagging the schedule by a tenth of the ack budget.
	shrinkWait = 2 * time.Millisecond
)

// resultBatch is results in the order one worker completed them, each with
// its schedule lag.
type resultBatch struct {
	n     int
	first time.Time
	res   [batchSize]vegeta.Result
	lag   [batchSize]time.Duration
}

func newAttack(p *Pacer, duration time.Duration, target string, rt *h1Transport, tr *targeter, maxW uint64, onFail func(Failure)) *attack {
	a := &attack{
		pacer: p, paced: len(p.segs) > 0, maxHits: p.maxHits, duration: duration,
		url: target, rt: rt, tr: tr, onFail: onFail, maxW: int64(maxW),
		done: make(chan struct{}), out: make(chan *resultBatch, 64),
		stallAfter: stallWindow(0),
	}
	a.free.New = func() any { return new(resultBatch) }
	a.hitters.New = func() any { return a.newHitter() }
	return a
}

// run starts initial workers and returns the batches of results, closed
// once every worker has ended: when the schedule, Duration or the hit
// bound is done, or after stop.
func (a *attack) run(initial uint64) <-chan *resultBatch {
	a.start = time.Now()
	n := max(min(int64(initial), a.maxW), 1)
	a.minW = n
	a.spawned.Store(n)
	a.peak.Store(n)
	a.added.Store(n)
	a.wg.Add(int(n))
	for range n {
		go a.worker()
	}
	if a.paced {
		a.wg.Add(1)
		go a.supervise()
	}
	go func() {
		a.wg.Wait()
		close(a.out)
	}()
	return a.out
}

// stop ends the attack: no hit starts after it. Hits in flight run on;
// the engine aborts them by closing their connections.
func (a *attack) stop() {
	a.once.Do(func() {
		a.stopped.Store(true)
		close(a.done)
	})
}

// recycle gives a batch back once the consumer is done with it.
func (a *attack) recycle(b *resultBatch) {
	b.n = 0
	a.free.Put(b)
}

// supervise adds workers while hits stay unclaimed growLag after they fell
// due, up to the bound (the comments within say how many). It is one of
// the group, so no worker is added after the group has ended; it ends with
// the schedule or at stop.
func (a *attack) supervise() {
	defer a.wg.Done()
	total, _ := a.pacer.Hits()
	tk := time.NewTicker(growLag)
	defer tk.Stop()
	pw := newPaceWindow(int(a.stallAfter / growLag))
	for {
		select {
		case <-a.done:
			return
		case <-tk.C:
		}
		el := time.Since(a.start)
		claimed := a.slots.Load()
		if el >= a.duration || claimed >= total {
			return
		}
		a.seqMu.Lock()
		started := a.seq
		a.seqMu.Unlock()
		answered := a.answered.Load()
		pw.add(answered, a.pacer.Due(el))
		lateBy := a.pacer.Due(el - growLag)
		late := lateBy - min(claimed, lateBy)
		if late == 0 {
			continue
		}
		// Each late hit needs a worker. One not waiting on the receiver
		// takes one as soon as it has the CPU: that lag is the machine's
		// (a GC pause, the receiver's share of the cores, a slow
		// consumer), and more workers would only be more to schedule.
		n := a.spawned.Load()
		free := n - min(int64(started-min(answered, started)), n)
		if int64(late) <= free {
			continue
		}
		// The rest call for more in flight. Once the receiver has
		// answered fewer than half the hits that fell due for
		// stallAfter, every late hit gets a worker, as vegeta's pacer
		// spawns one for a tick no worker is free to take: a receiver
		// whose latency stepped up must not wait in the generator's
		// queue as well as its own (one worker a check after a step to
		// 130 ms at 3000/s lagged the schedule 150 ms and failed a 200 ms
		// budget that vegeta's loop passed), and until its slow answers
		// come back a step and a stall look the same. Before that, one
		// worker a check: a receiver that misses a few milliseconds (its
		// share of two cores, a GC pause) catches up by itself, and
		// workers added for every late hit of those moments compound (at
		// 20,000/s they went to the bound of 512 and p99 from 4 ms to
		// 60 ms), which is vegeta's collapse in small.
		k := int64(1)
		if pw.stalled() {
			k = int64(late) - free
		}
		k = min(k, a.maxW-n)
		if k <= 0 {
			continue
		}
		a.peak.Store(max(a.peak.Load(), a.spawned.Add(k)))
		a.added.Add(k)
		a.wg.Add(int(k))
		for range k {
			go a.worker()
		}
	}
}

// stallWindow is how long the receiver may fall behind the schedule before
// the attack treats it as slow: a tenth of the ack budget, between 5 and
// 50 ms. What a receiver's slower answers wait in the generator's queue
// meanwhile adds to their latency from the schedule, so it must stay small
// against what LOAD-01 allows; the longer it is, the fewer of a fast
// receiver's moments without the CPU start the growth.
func stallWindow(budget time.Duration) time.Duration {
	return min(max(budget/10, 5*time.Millisecond), 50*time.Millisecond)
}

// paceWindow holds the attack's counts of hits answered and fallen due at
// each of the last checks, so that a window's worth is a difference.
type paceWindow struct {
	answered, due []uint64
	i, filled     int
}

func newPaceWindow(checks int) *paceWindow {
	n := max(checks, 1) + 1 // the counts at both ends of the window
	return &paceWindow{answered: make([]uint64, n), due: make([]uint64, n)}
}

func (w *paceWindow) add(answered, due uint64) {
	w.answered[w.i], w.due[w.i] = answered, due
	w.i = (w.i + 1) % len(w.answered)
	w.filled = min(w.filled+1, len(w.answered))
}

// stalled reports whether, over a whole window, the receiver answered
// fewer than half the hits that fell due.
func (w *paceWindow) stalled() bool {
	if w.filled < len(w.answered) {
		return false
	}
	last := (w.i + len(w.answered) - 1) % len(w.answered) // newest; w.i is the oldest
	return 2*(w.answered[last]-w.answered[w.i]) < w.due[last]-w.due[w.i]
}

func (a *attack) worker() {
	defer a.wg.Done()
	w := a.hitters.Get().(*hitter)
	defer a.hitters.Put(w)
	b := a.free.Get().(*resultBatch)
	for surplus := false; ; {
		if surplus && a.retire() {
			break
		}
		surplus = false
		slot := a.slots.Add(1) - 1
		if a.maxHits > 0 && slot >= a.maxHits {
			break
		}
		now := time.Now()
		if now.Sub(a.start) >= a.duration {
			break
		}
		var due time.Time
		if a.paced {
			at, ok := a.pacer.Scheduled(slot)
			if !ok {
				break
			}
			due = a.start.Add(at)
			if wait := due.Sub(now); wait > paceQuantum {
				// A sleeping worker's results would wait with it.
				if b.n > 0 && (wait > batchAge || now.Sub(b.first) > batchAge) {
					a.out <- b
					b = a.free.Get().(*resultBatch)
				}
				if !w.sleep(wait) {
					break
				}
				surplus = wait > shrinkWait && wait > w.last
			}
		}
		if a.stopped.Load() {
			break
		}
		a.seqMu.Lock()
		seq := a.seq
		a.seq++
		now = time.Now()
		a.seqMu.Unlock()
		var lag time.Duration
		if a.paced {
			lag = now.Sub(due)
		}
		if b.n == 0 {
			b.first = now
		}
		r := &b.res[b.n]
		w.hit(seq, now, r)
		b.lag[b.n] = lag
		b.n++
		if b.n == batchSize || r.Timestamp.Add(r.Latency).Sub(b.first) > batchAge {
			a.out <- b
			b = a.free.Get().(*resultBatch)
		}
	}
	if b.n > 0 {
		a.out <- b
	} else {
		a.free.Put(b)
	}
}

// retire ends a worker the schedule has no use for, unless only the
// initial ones are left.
func (a *attack) retire() bool {
	for {
		n := a.spawned.Load()
		if n <= a.minW {
			return false
		}
		// Its connection stays in the idle pool: the next worker added
		// takes it instead of dialing (closing one per retired worker
		// made a receiver that stalls now and then see hundreds of
		// connections opened for a peak of a hundred), and a receiver's
		// keep-alive timeout closes what stays unused.
		if a.spawned.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// hitter is one worker's reused state. With its batch, stack and
// connection a worker holds about 25 KB, so that even the bound of
// workers stays within a few MB.
type hitter struct {
	a       *attack
	st      *sourceState
	buf     []byte
	rd      bytes.Reader
	req     *http.Request
	scratch []byte
	timer   *time.Timer
	last    time.Duration // the latency of this worker's last hit
}

func (a *attack) newHitter() *hitter {
	w := &hitter{a: a, st: a.tr.newSourceState(), buf: make([]byte, 0, 1024), scratch: make([]byte, 512)}
	// The URL was validated with the options; the request is this
	// worker's, rewound for every hit.
	w.req, _ = http.NewRequest(http.MethodPost, a.url, nil)
	w.req.Body = io.NopCloser(&w.rd)
	w.timer = time.NewTimer(time.Hour)
	w.timer.Stop()
	return w
}

// sleep waits d, or until the attack is stopped (false). The timer is
// stopped again either way, so a pooled hitter holds no pending timer.
func (w *hitter) sleep(d time.Duration) bool {
	w.timer.Reset(d)
	select {
	case <-w.timer.C:
		return true
	case <-w.a.done:
		w.timer.Stop()
		return false
	}
}

// hit sends one event and fills r as vegeta's Attacker would.
func (w *hitter) hit(seq uint64, began time.Time, r *vegeta.Result) {
	a := w.a
	body, dup := a.tr.next(w.st, w.buf)
	if !dup {
		w.buf = body[:0] // keep what the body grew the buffer to
	}
	*r = vegeta.Result{Seq: seq, Timestamp: began, Method: http.MethodPost, URL: a.url}
	w.rd.Reset(body)
	w.req.ContentLength = int64(len(body))
	resp, err := a.rt.RoundTrip(w.req)
	if err != nil {
		r.Latency = time.Since(began)
		w.answered(r.Latency)
		r.Error = (&url.Error{Op: "Post", URL: a.url, Err: err}).Error()
		w.fail(body, 0, err, nil)
		return
	}
	// The Response lives in its connection, which Close hands to the
	// next hit: everything is read from it before.
	code, status := resp.StatusCode, resp.Status
	failed := code < 200 || code > 299
	n, answer, err := w.drain(resp.Body, failed)
	_ = resp.Body.Close()
	r.Latency = time.Since(began)
	w.answered(r.Latency)
	if failed {
		w.fail(body, code, nil, answer)
	}
	if err != nil {
		// vegeta keeps no status for an answer whose body failed.
		r.Error = err.Error()
		return
	}
	r.BytesIn, r.BytesOut = uint64(n), uint64(len(body))
	if r.Code = uint16(code); r.Code < 200 || r.Code >= 400 {
		r.Error = status
	}
}

func (w *hitter) answered(d time.Duration) {
	w.last = d
	w.a.answered.Add(1)
}

// drain reads an answer's body to its end, at most maxResponseBytes of it
// (the rest is abandoned with the connection, as the tap's cap does on the
// net/http path), and keeps the start of a failed one.
func (w *hitter) drain(body io.Reader, failed bool) (n int, answer []byte, err error) {
	for n < maxResponseBytes {
		p := w.scratch[:min(len(w.scratch), maxResponseBytes-n)]
		k, rerr := body.Read(p)
		if failed && len(answer) < answerPrefix {
			answer = append(answer, p[:min(k, answerPrefix-len(answer))]...)
		}
		n += k
		if rerr == io.EOF {
			return n, answer, nil
		}
		if rerr != nil {
			return n, answer, rerr
		}
	}
	return n, answer, nil
}

// fail reports a delivery that was not acknowledged, with a copy of its
// body (the buffer is the worker's, reused by the next hit).
func (w *hitter) fail(body []byte, status int, err error, answer []byte) {
	if w.a.onFail != nil {
		w.a.onFail(Failure{EventID: eventIDOf(body), Body: bytes.Clone(body), Status: status, Err: err, Answer: answer})
	}
}
