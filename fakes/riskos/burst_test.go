package riskos

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
)

func TestSendDuplicatesSendsTheSameBodyInSequence(t *testing.T) {
	var inflight, maxInflight atomic.Int32
	rec := &recorder{answer: func(w http.ResponseWriter, _ *http.Request) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			m := maxInflight.Load()
			if n <= m || maxInflight.CompareAndSwap(m, n) {
				break
			}
		}
		w.WriteHeader(http.StatusOK)
	}}
	srv := serve(t, rec)
	s := newSender(t, loopConfig(srv.URL), WithAuthorizer(noAuth{}))
	d := testDelivery()
	as := s.SendDuplicates(t.Context(), d, 3)
	if len(as) != 3 {
		t.Fatalf("SendDuplicates(3) = %d attempts; want 3", len(as))
	}
	for i, a := range as {
		if a.Attempt != i+1 || a.Status != 200 || a.EventID != d.EventID {
			t.Errorf("copy %d: attempt %d status %d event %s; want %d, 200, %s", i, a.Attempt, a.Status, a.EventID, i+1, d.EventID)
		}
	}
	reqs := rec.Requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver saw %d requests; want 3", len(reqs))
	}
	for _, r := range reqs {
		if !bytes.Equal(r.Body, d.Body) {
			t.Errorf("body %q; want the same body every time", r.Body)
		}
	}
	if m := maxInflight.Load(); m != 1 {
		t.Errorf("max in flight = %d; want 1 (sequential)", m)
	}
	if got := len(s.Ledger().ForEvent(d.EventID)); got != 3 {
		t.Errorf("ledger holds %d attempts for the event; want 3", got)
	}
	if got := s.SendDuplicates(t.Context(), d, 0); len(got) != 0 {
		t.Errorf("SendDuplicates(0) = %d attempts; want none", len(got))
	}
}

// TestBurstReleasesEveryCopyAtOnce proves overlap with a barrier on the
// server side: no handler answers until all n requests are in flight, so a
// sender that serialised the copies would never see an answer (each attempt
// would time out instead).
func TestBurstReleasesEveryCopyAtOnce(t *testing.T) {
	const n = 8
	var (
		mu       sync.Mutex
		arrived  int
		conns    = map[string]bool{}
		allIn    = make(chan struct{})
		giveUp   = make(chan struct{})
		inflight atomic.Int32
		maxSeen  atomic.Int32
	)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		cur := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			m := maxSeen.Load()
			if cur <= m || maxSeen.CompareAndSwap(m, cur) {
				break
			}
		}
		mu.Lock()
		arrived++
		conns[r.RemoteAddr] = true
		if arrived == n {
			close(allIn)
		}
		mu.Unlock()
		select {
		case <-allIn:
			w.WriteHeader(http.StatusOK)
		case <-giveUp:
			w.WriteHeader(http.StatusServiceUnavailable)
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(giveUp) })
	cfg := loopConfig(srv.URL)
	cfg.Timeouts.Attempt = 5 * time.Second
	var observed atomic.Int32
	s := newSender(t, cfg, WithAuthorizer(noAuth{}), WithObserver(func(harness.Attempt) { observed.Add(1) }))
	d := testDelivery()
	as := s.Burst(t.Context(), d, n)

	if len(as) != n {
		t.Fatalf("Burst(%d) = %d attempts; want %d", n, len(as), n)
	}
	for i, a := range as {
		if a.Status != 200 || a.Attempt != i+1 {
			t.Errorf("copy %d: status %d class %q attempt %d; want 200, attempt %d", i, a.Status, a.ErrorClass, a.Attempt, i+1)
		}
	}
	if m := maxSeen.Load(); m != n {
		t.Errorf("max concurrent requests at the server = %d; want %d", m, n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(conns) != n {
		t.Errorf("copies arrived on %d connections; want %d", len(conns), n)
	}
	if got := observed.Load(); got != n {
		t.Errorf("observer called %d times; want %d", got, n)
	}
	if s.Burst(t.Context(), d, 0) != nil {
		t.Errorf("Burst(0) returned attempts; want none")
	}
}

func TestBurstOverACustomRoundTripperStillSendsEveryCopy(t *testing.T) {
	rt := &scriptRT{answer: always(200)}
	s := memSender(t, memConfig(), rt)
	as := s.Burst(t.Context(), testDelivery(), 5)
	if len(as) != 5 || rt.Calls() != 5 {
		t.Fatalf("Burst(5) = %d attempts, %d requests; want 5, 5", len(as), rt.Calls())
	}
}

func TestLostAckAbandonsTheFirstAttemptAndRedelivers(t *testing.T) {
	var (
		mu            sync.Mutex
		bodies        [][]byte
		firstAbandons = make(chan struct{})
		giveUp        = make(chan struct{})
	)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		mu.Lock()
		bodies = append(bodies, body)
		n := len(bodies)
		mu.Unlock()
		if n == 1 {
			// Send the ack, then hold the connection: the client must drop
			// the answer unread, which the server sees as its request
			// context ending.
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				close(firstAbandons)
			case <-giveUp:
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(func() { close(giveUp) })

	var slept []time.Duration
	s := newSender(t, loopConfig(srv.URL), WithAuthorizer(noAuth{}), WithSleep(func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		return nil
	}))
	d := testDelivery()
	out := s.LostAck(t.Context(), d)

	if !out.Acked || out.Lost || len(out.Attempts) != 2 {
		t.Fatalf("acked %v lost %v attempts %d; want acked after 2 attempts: %+v", out.Acked, out.Lost, len(out.Attempts), out.Attempts)
	}
	first, second := out.Attempts[0], out.Attempts[1]
	if first.Attempt != 1 || first.ErrorClass != harness.ErrLostAck || first.Status != 0 || first.BytesSent != int64(len(d.Body)) {
		t.Errorf("attempt 1 = {n:%d class:%q status:%d sent:%d}; want {1 lost_ack 0 %d}", first.Attempt, first.ErrorClass, first.Status, first.BytesSent, len(d.Body))
	}
	if second.Attempt != 2 || second.Status != 200 || second.RealWait != 2*time.Second || second.Wait != 2*time.Second {
		t.Errorf("attempt 2 = {n:%d status:%d wait:%v real:%v}; want {2 200 2s 2s}", second.Attempt, second.Status, second.Wait, second.RealWait)
	}
	if len(slept) != 1 || slept[0] != 2*time.Second {
		t.Errorf("slept %v; want [2s] before retry 1", slept)
	}
	ledger := s.Ledger().ForEvent(d.EventID)
	if len(ledger) != 2 || ledger[0].ErrorClass != harness.ErrLostAck || !ledger[1].Acked() {
		t.Errorf("ledger = %+v; want lost_ack then acked", ledger)
	}
	select {
	case <-firstAbandons:
	case <-time.After(10 * time.Second): // a bound on a failing test, not synchronisation
		t.Fatal("the server never saw the first request abandoned")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 || !bytes.Equal(bodies[0], d.Body) || !bytes.Equal(bodies[1], d.Body) {
		t.Errorf("server read %d bodies %q; want the full body twice", len(bodies), bodies)
	}
}
