package load

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The fast path's attack loop must count what vegeta's Attacker counts:
// the same receivers, run through both (--transport net/http is vegeta's
// loop over net/http), give the same codes, error classes, bytes and lost
// events.
func TestAttackLoopCountsAsVegetaDoes(t *testing.T) {
	t.Parallel()
	const n = 40
	for _, tc := range []struct {
		name    string
		handler func(n int64) http.HandlerFunc // n counts the run's requests from 0
	}{
		{"acks with a body", func(int64) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"received":true}`) }
		}},
		{"every third answer a 503 with a reason", func(n int64) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if n%3 == 0 {
					w.WriteHeader(http.StatusServiceUnavailable)
					io.WriteString(w, "busy")
				}
			}
		}},
		{"a redirect, which RiskOS does not follow", func(int64) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) }
		}},
		{"a chunked 400", func(int64) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, "bad ")
				w.(http.Flusher).Flush()
				io.WriteString(w, "event")
			}
		}},
		{"a session cookie near 4 KB and a proxy chain's headers", func(int64) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Set-Cookie", "session="+strings.Repeat("c", 4090))
				for i := range 150 {
					w.Header().Add(fmt.Sprintf("X-Hop-%d", i), "proxy")
				}
			}
		}},
		{"the connection cut before any answer", func(int64) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
					c.Close()
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var requests, received atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				k, _ := io.Copy(io.Discard, r.Body)
				received.Add(k)
				tc.handler(requests.Add(1)-1)(w, r)
			}))
			t.Cleanup(srv.Close)
			cfg := testConfig(srv.URL)
			sums := map[string]*Summary{}
			for _, tr := range []string{TransportFast, TransportNetHTTP} {
				requests.Store(0)
				received.Store(0)
				e, err := New(cfg, Options{Rate: 0, MaxRequests: n, Duration: 10 * time.Second, MaxWorkers: 4, Transport: tr, Seed: 5}, testAuth(t, cfg))
				if err != nil {
					t.Fatal(err)
				}
				s, err := e.Run(context.Background(), nil)
				if err != nil {
					t.Fatal(err)
				}
				if s.Transport != tr {
					t.Fatalf("ran %s; want %s", s.Transport, tr)
				}
				// vegeta counts bytes out of answered requests only.
				if len(s.Errors) == 0 && s.BytesOut != uint64(received.Load()) {
					t.Errorf("%s: bytes out %d; the receiver read %d", tr, s.BytesOut, received.Load())
				}
				sums[tr] = s
			}
			fast, ref := sums[TransportFast], sums[TransportNetHTTP]
			if fast.Requests != n || ref.Requests != n {
				t.Fatalf("requests fast %d, net/http %d; want %d each", fast.Requests, ref.Requests, n)
			}
			type counts struct {
				Codes, Errors             map[string]uint64
				Acked, Retryable, Lost    uint64
				BytesIn, BytesOut, Losses uint64
			}
			of := func(s *Summary) counts {
				return counts{s.StatusCodes, s.Errors, s.Acked, s.Retryable, s.Lost, s.BytesIn, s.BytesOut, uint64(len(s.LostEvents))}
			}
			// Bytes out are the run's own events (checked above against
			// what the receiver read), so they differ between the runs.
			f, r := of(fast), of(ref)
			f.BytesOut, r.BytesOut = 0, 0
			if !equalCounts(f.Codes, r.Codes) || !equalCounts(f.Errors, r.Errors) || f.Acked != r.Acked ||
				f.Retryable != r.Retryable || f.Lost != r.Lost || f.BytesIn != r.BytesIn || f.Losses != r.Losses {
				t.Errorf("fast path counted %+v; vegeta's loop %+v", f, r)
			}
			for _, ev := range fast.LostEvents {
				if ev.EventID == "" {
					t.Errorf("lost event without its event_id: %+v", ev)
				}
			}
		})
	}
}

// The receiver sees the same request from either engine: the same header
// names, in RiskOS's shape, with nothing of vegeta's own.
func TestBothEnginesSendTheSameHeaders(t *testing.T) {
	t.Parallel()
	names := make(chan []string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		var got []string
		for k := range r.Header {
			got = append(got, k)
		}
		slices.Sort(got)
		select {
		case names <- got:
		default:
		}
	}))
	t.Cleanup(srv.Close)
	cfg := testConfig(srv.URL)
	sent := map[string][]string{}
	for _, tr := range []string{TransportFast, TransportNetHTTP} {
		e, err := New(cfg, Options{Rate: 0, MaxRequests: 1, Duration: 10 * time.Second, MaxWorkers: 1, Transport: tr}, testAuth(t, cfg))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		sent[tr] = <-names
	}
	if !slices.Equal(sent[TransportFast], sent[TransportNetHTTP]) {
		t.Errorf("header names: fast %v, net/http %v; want the same", sent[TransportFast], sent[TransportNetHTTP])
	}
	for _, h := range sent[TransportNetHTTP] {
		if strings.HasPrefix(h, "X-Vegeta") {
			t.Errorf("the receiver saw vegeta's %s header", h)
		}
	}
}

func equalCounts[K comparable](a, b map[K]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A receiver that closes idle keep-alive connections sooner than the
// next hit comes (Go's IdleTimeout, nginx's keepalive_timeout) must not
// lose that hit: every reuse checks that the receiver has not closed the
// connection.
func TestAttackReusesNoConnectionTheReceiverClosed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	// Idle connections close after 20 ms; hits come every 100 ms.
	srv.Config.IdleTimeout = 20 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	cfg := testConfig(srv.URL)
	e, err := New(cfg, Options{Rate: 10, Duration: 1500 * time.Millisecond, MaxWorkers: 1}, testAuth(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Requests < 14 || s.Acked != s.Requests {
		t.Errorf("acked %d of %d (errors %v); want every hit acked on a fresh connection", s.Acked, s.Requests, s.Errors)
	}
}

// A receiver slower than the workers in hand gets more of them, up to the
// bound: the schedule is held, not stretched, and never by more workers
// than allowed.
func TestAttackAddsWorkersForASlowReceiver(t *testing.T) {
	t.Parallel()
	const maxWorkers = 40
	var inFlight, peak atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n := inFlight.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		// Slow on purpose: 10 initial workers carry 50/s at this latency,
		// the schedule asks for 100/s.
		<-time.After(200 * time.Millisecond)
		inFlight.Add(-1)
	}))
	t.Cleanup(srv.Close)
	cfg := testConfig(srv.URL)
	e, err := New(cfg, Options{Rate: 100, Duration: 2 * time.Second, MaxWorkers: maxWorkers}, testAuth(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Acked < 190 {
		t.Errorf("acked %d of the 200 scheduled; want the schedule held by more workers", s.Acked)
	}
	if p := peak.Load(); p > maxWorkers || p <= 10 {
		t.Errorf("peak concurrency %d; want more than the 10 initial workers and at most %d", p, maxWorkers)
	}
	// The summary's peak is the attack's count, which bounds what the
	// receiver saw in flight at once.
	if w := s.Workers; w == nil || w.Bound != maxWorkers || w.Peak < int(peak.Load()) || w.Peak > maxWorkers {
		t.Errorf("summary workers %v; want a peak from %d (the receiver's peak) to the bound %d", w, peak.Load(), maxWorkers)
	}
}

// A receiver whose every answer takes most of the ack budget is judged on
// that latency, not on the engine's: with the default worker bound, hits
// start on schedule, so latency from the scheduled send stays within a
// little of latency from the actual send. Workers the attack retired
// between two slow answers, and regrew for the next, once put a tenth of
// the budget of schedule lag on a 460 ms receiver and failed it at
// LOAD-01 while vegeta's loop (--transport net/http) passed it.
//
// Not parallel: the package's other tests would take the CPU this one's
// schedule needs.
func TestAttackHoldsTheScheduleForASteadilySlowReceiver(t *testing.T) {
	const latency = 450 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-time.After(latency)
	}))
	t.Cleanup(srv.Close)
	// 1000/s at 450 ms needs 450 in flight; the bound is the default's,
	// rate × ack budget (500), and 10 workers start.
	a := testAttack(t, srv.URL, 1000, 3*time.Second, 500)
	s := summarize(a, 10)
	// Workers that end between two slow answers are regrown behind the
	// schedule: once the pool has grown to what the receiver needs, none
	// may end (a few of the ramp's overshoot may).
	if retired := a.added.Load() - a.spawned.Load(); retired > a.peak.Load()/20 {
		t.Errorf("%d of %d workers ended during the run; want the pool kept while the receiver stays slow", retired, a.added.Load())
	}
	checkScheduleLag(t, s, latency)
}

// A receiver whose latency steps up mid-run is judged on its new latency,
// not on the generator's: once it has answered fewer hits than fell due for
// a moment, every late hit gets a worker, as vegeta's loop gives it one.
// Adding a worker a millisecond until the slow answers came back, the
// attack once lagged a step to 130 ms at 3000/s by 150 ms and failed a
// 200 ms budget that vegeta's loop passed.
//
// Not parallel, for the CPU its schedule needs.
func TestAttackKeepsTheScheduleThroughALatencyStep(t *testing.T) {
	const latency = 100 * time.Millisecond
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if served.Add(1) > 2000 { // after a second at 2000/s
			<-time.After(latency)
		}
	}))
	t.Cleanup(srv.Close)
	a := testAttack(t, srv.URL, 2000, 2500*time.Millisecond, 500)
	s := summarize(a, 10)
	// Two fifths of the hits are slow, so p99 is a slow one's; a worker a
	// millisecond lagged it by about the latency.
	checkScheduleLag(t, s, latency)
}

// summarize runs a from initial workers and folds its results as the
// engine does.
func summarize(a *attack, initial uint64) *Summary {
	m := NewMetrics(MetricsConfig{Start: time.Now()})
	for b := range a.run(initial) {
		for i := range b.n {
			m.Add(&b.res[i], b.lag[i])
		}
		a.recycle(b)
	}
	return m.Summary()
}

// checkScheduleLag fails when p99 from the scheduled send exceeds p99 from
// the actual send by more than a fifth of the receiver's latency, plus what
// a loaded machine added to the answers themselves: its scheduling
// hiccups fit in that margin, a worker shortfall does not.
func checkScheduleLag(t *testing.T, s *Summary, latency time.Duration) {
	t.Helper()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	margin := ms(latency/5) + max(0, s.LatencyMS.P99-ms(latency))
	if lag := s.ResponseLatencyMS.P99 - s.LatencyMS.P99; lag > margin {
		t.Errorf("p99 %.1f ms from the scheduled send, %.1f ms from the actual send: the engine lagged the schedule by %.1f ms (%.1f ms allowed)",
			s.ResponseLatencyMS.P99, s.LatencyMS.P99, lag, margin)
	}
}

// A receiver that misses a few milliseconds (its share of two cores, a GC
// pause) catches up by itself: until it has fallen behind for the attack's
// stall window, a worker a millisecond is added, not one per late hit.
// Workers added for every late hit of such moments compounded at 20,000/s
// to the bound of 512 and took p99 from 4 ms to 60 ms.
//
// Not parallel: a loaded machine stretches the pause past the window.
func TestAttackDoesNotPileWorkersOntoABriefPause(t *testing.T) {
	const rate, initial, bound, pause = 4000, 20, 400, 40 * time.Millisecond
	var served, inFlight, peak, before atomic.Int64 // before: the attack's workers as the pause began
	var a *attack
	paused := make(chan struct{})
	var once atomic.Bool
	var lasted atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		if served.Add(1) == rate && once.CompareAndSwap(false, true) {
			before.Store(a.spawned.Load())
			began := time.Now()
			time.AfterFunc(pause, func() {
				lasted.Store(int64(time.Since(began)))
				close(paused)
			})
		}
		if once.Load() {
			<-paused
		}
	}))
	t.Cleanup(srv.Close)
	a = testAttack(t, srv.URL, rate, 2*time.Second, bound)
	a.stallAfter = 200 * time.Millisecond // the window of a 2 s ack budget
	for b := range a.run(initial) {
		a.recycle(b)
	}
	if !once.Load() {
		t.Fatal("the receiver never paused")
	}
	if d := time.Duration(lasted.Load()); d >= a.stallAfter/2 {
		t.Skipf("the %v pause took %v on this loaded machine", pause, d)
	}
	// The workers the attack had as the pause began (all of them end up
	// waiting in it; a loaded machine may have needed more than the
	// initial ones), and at most one a millisecond of it; a worker for
	// every late hit would be four a millisecond.
	d := time.Duration(lasted.Load())
	if pk, allowed := peak.Load(), before.Load()+3*d.Milliseconds()/2; pk > allowed {
		t.Errorf("peak concurrency %d after a %v pause (%d workers before it); want at most %d: about a worker a millisecond of it",
			pk, d.Round(time.Millisecond), before.Load(), allowed)
	}
}

// Workers that end leave their connections to the ones added next: a
// receiver that is slow now and then must not see the generator dial anew
// for every slow stretch (closing a connection per ended worker opened
// 2,100 connections in 10 s for a peak of 512).
func TestAttackReusesConnectionsAcrossSlowStretches(t *testing.T) {
	t.Parallel()
	var served, opened atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		// Slow for 200 of every 400 requests: at 400/s, half a second
		// slow (40 in flight), half a second fast (the extra workers end).
		if n := served.Add(1); n%400 < 200 {
			<-time.After(100 * time.Millisecond)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	a := testAttack(t, srv.URL, 400, 3*time.Second, 100)
	for b := range a.run(4) {
		a.recycle(b)
	}
	if a.added.Load() <= a.peak.Load() {
		t.Fatalf("%d workers added for a peak of %d; want workers ended and added again between the slow stretches", a.added.Load(), a.peak.Load())
	}
	if o, pk := opened.Load(), a.peak.Load(); o > pk+pk/10 {
		t.Errorf("%d connections opened for a peak of %d workers (%d added in all); want the ended workers' connections reused", o, pk, a.added.Load())
	}
}

// Every hit of a run has its own sequence number, 0 to n-1, and timestamps
// that do not go back in Seq order, as in a results file vegeta's Attacker
// writes: vegeta plot walks a file in Seq order and refuses one whose
// timestamps go back.
func TestAttackNumbersEveryHitOnce(t *testing.T) {
	t.Parallel()
	veg := vegetaCLI(t)
	s := newSink(t, nil)
	cfg := testConfig(s.URL)
	const n = 2000
	for _, rate := range []float64{0, 4000} {
		var out bytes.Buffer
		e, err := New(cfg, Options{Rate: rate, MaxRequests: n, Duration: 5 * time.Second, MaxWorkers: 16, Results: &out}, testAuth(t, cfg))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "results.bin")
		if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		if b, err := exec.Command(veg, "plot", path).CombinedOutput(); err != nil {
			t.Errorf("rate %g: vegeta plot: %v\n%.300s", rate, err, b)
		}
		dec := vegeta.NewDecoder(&out)
		var results []vegeta.Result
		for {
			var r vegeta.Result
			if err := dec.Decode(&r); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			results = append(results, r)
		}
		slices.SortFunc(results, func(a, b vegeta.Result) int { return int(a.Seq) - int(b.Seq) })
		for i, r := range results {
			if r.Seq != uint64(i) {
				t.Fatalf("rate %g: sequence numbers skip or repeat at %d (%d)", rate, i, r.Seq)
			}
			if i > 0 && r.Timestamp.Before(results[i-1].Timestamp) {
				t.Fatalf("rate %g: hit %d started before hit %d", rate, i, i-1)
			}
		}
		if len(results) != n {
			t.Fatalf("rate %g: %d results; want %d", rate, len(results), n)
		}
	}
}

// The fast path's hit allocates nothing once its worker is warm: no
// request, header map, body slice or Result per event.
func TestFastHitAllocatesNothing(t *testing.T) {
	w := testAttack(t, rawAckServer(t), 0, time.Second, 1).newHitter()
	var r vegeta.Result
	for range 100 { // grows the body buffer to the largest event type
		w.hit(0, time.Now(), &r)
	}
	if r.Code != 200 {
		t.Fatalf("status %d %s", r.Code, r.Error)
	}
	if allocs := testing.AllocsPerRun(1000, func() { w.hit(0, time.Now(), &r) }); allocs != 0 {
		t.Errorf("a hit allocates %.1f times; want 0", allocs)
	}
}

// testAttack is the fast path's attack against url as Engine.Run builds
// it, at rate for duration with up to workers workers and connections,
// with a fixed header set and no failure hook.
func testAttack(t testing.TB, url string, rate float64, duration time.Duration, workers int) *attack {
	t.Helper()
	hs, err := newHeaderSet(http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer tok"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPacer(rate, duration, nil, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	fast := newH1Transport((&net.Dialer{}).DialContext, http.DefaultTransport, workers, 5*time.Second)
	t.Cleanup(fast.closeIdle)
	tr := newTargeter(url, harness.EventTypeNames(), 0, 1, 1, defaultSource)
	tr.header.Store(hs)
	fast.headers = &tr.header
	return newAttack(p, duration, url, fast, tr, uint64(workers), nil)
}

// The pace window judges a whole window only: a receiver that answered
// fewer than half the hits due over the last checks is stalled, one that
// answered half or more is not, and a window not yet full says nothing.
func TestPaceWindowJudgesAWholeWindow(t *testing.T) {
	for _, c := range []struct {
		name        string
		answered    []uint64 // cumulative, one per check
		due         []uint64
		wantStalled bool
	}{
		{"keeping pace", []uint64{0, 4, 8, 12, 16}, []uint64{0, 4, 8, 12, 16}, false},
		{"no answers for the window", []uint64{10, 10, 10, 10, 10}, []uint64{10, 14, 18, 22, 26}, true},
		{"half answered", []uint64{0, 2, 4, 6, 8}, []uint64{0, 4, 8, 12, 16}, false},
		{"under half answered", []uint64{0, 2, 4, 6, 7}, []uint64{0, 4, 8, 12, 16}, true},
		{"an old stall slid out", []uint64{0, 0, 0, 4, 8, 12, 16}, []uint64{0, 4, 8, 12, 16, 20, 24}, false},
		{"not full yet", []uint64{0, 0, 0}, []uint64{0, 4, 8}, false},
	} {
		w := newPaceWindow(4)
		for i := range c.answered {
			w.add(c.answered[i], c.due[i])
		}
		if got := w.stalled(); got != c.wantStalled {
			t.Errorf("%s: stalled = %v, want %v", c.name, got, c.wantStalled)
		}
	}
}
