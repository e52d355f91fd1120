package riskos

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPaceSpacesFirstAttemptsButNotRetries(t *testing.T) {
	// 50/s is 20 ms between deliveries. The clock only moves when the
	// sender sleeps, so the waits it asks for are exactly the pace's.
	var (
		mu    sync.Mutex
		clock = time.Unix(1_700_000_000, 0)
		slept []time.Duration
	)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	sleep := func(_ context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		slept = append(slept, d)
		clock = clock.Add(d)
		return nil
	}
	rt := &scriptRT{answer: func(n int, _ *http.Request) (int, error) {
		if n == 2 { // the second delivery's first attempt: retried once
			return 503, nil
		}
		return 200, nil
	}}
	cfg := memConfig()
	cfg.Retry.TimeScale = 0.001
	s := memSender(t, cfg, rt, WithPace(50), WithClock(now), WithSleep(sleep))
	s.Send(t.Context(), testDelivery())
	out := s.SendWithRetry(t.Context(), testDelivery())
	s.Send(t.Context(), testDelivery())

	if !out.Acked || len(out.Attempts) != 2 {
		t.Fatalf("second delivery = %s; want acknowledged on attempt 2", out)
	}
	want := []time.Duration{0, 20 * time.Millisecond, 2 * time.Millisecond /* retry 1: 2 s × 0.001 */, 18 * time.Millisecond}
	if len(slept) != len(want) {
		t.Fatalf("slept %v; want %v", slept, want)
	}
	for i := range want {
		if slept[i] != want[i] {
			t.Errorf("wait %d = %v; want %v (all %v)", i, slept[i], want[i], slept)
		}
	}
}

func TestBurstWithRetryTakesEveryCopyToItsOutcome(t *testing.T) {
	// An in-flight lock: the first n-1 requests to arrive, copies or
	// retries, are answered 409 with Retry-After; every later one is acked.
	const n = 8
	var arrivals atomic.Int32
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if arrivals.Add(1) < n {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusConflict)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	noSleep := WithSleep(func(context.Context, time.Duration) error { return nil })
	s := newSender(t, loopConfig(srv.URL), WithAuthorizer(noAuth{}), noSleep)
	outs := s.BurstWithRetry(t.Context(), testDelivery(), n)

	if len(outs) != n {
		t.Fatalf("%d outcomes; want %d", len(outs), n)
	}
	attempts := 0
	for i, o := range outs {
		attempts += len(o.Attempts)
		if !o.Acked || o.Lost {
			t.Errorf("copy %d: %s; want acknowledged", i+1, o)
		}
		if o.Retried() {
			if !strings.Contains(o.String(), "after 409") {
				t.Errorf("copy %d reads %q; want it to name the 409 it was retried after", i+1, o)
			}
		}
	}
	if attempts != n+n-1 {
		t.Errorf("%d attempts in all; want %d (every copy once, and one retry per 409)", attempts, n+n-1)
	}
}

func TestOutcomeSaysWhatBecameOfTheEvent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(n int, _ *http.Request) (int, error)
		want   string
	}{
		{"acked at once", always(200), "acknowledged 200"},
		{"acked after retries", func(n int, _ *http.Request) (int, error) {
			if n < 3 {
				return 503, nil
			}
			return 202, nil
		}, "acknowledged 202 on attempt 3, after 503, 503"},
		{"lost on a status RiskOS gives up on", always(400), "lost: answered 400, which RiskOS does not retry"},
		{"lost on a redirect", always(307), "lost: answered 307, a redirect RiskOS does not follow"},
		{"exhausted", always(429), "lost: still 429 after 10 retries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := memSender(t, memConfig(), &scriptRT{answer: tc.answer}, WithSleep(func(context.Context, time.Duration) error { return nil }))
			out := s.SendWithRetry(t.Context(), testDelivery())
			if !strings.HasPrefix(out.String(), tc.want) {
				t.Errorf("outcome reads %q; want it to start %q", out, tc.want)
			}
			if tc.want == "lost: still 429 after 10 retries" && !out.Exhausted {
				t.Errorf("Exhausted = false for %s", out)
			}
		})
	}
}

func TestIsolatedDeliveriesLeaveThePooledConnectionAlone(t *testing.T) {
	rec := &recorder{}
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(rec)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	s := newSender(t, loopConfig(srv.URL), WithAuthorizer(noAuth{}))
	d := testDelivery()
	s.Send(t.Context(), d)
	poison := d
	poison.Isolated = true
	s.Send(t.Context(), poison)
	s.Send(t.Context(), d)

	reqs := rec.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests seen; want 3", len(reqs))
	}
	if reqs[0].RemoteAddr != reqs[2].RemoteAddr {
		t.Errorf("the delivery after the isolated one came from %s, not the pooled %s", reqs[2].RemoteAddr, reqs[0].RemoteAddr)
	}
	if reqs[1].RemoteAddr == reqs[0].RemoteAddr {
		t.Errorf("the isolated delivery reused the pooled connection %s", reqs[1].RemoteAddr)
	}
	if got := conns.Load(); got != 2 {
		t.Errorf("%d connections opened; want 2 (the pooled one and the isolated one)", got)
	}
}

func TestLostAckRedeliversAfterTheRealFirstRetryWait(t *testing.T) {
	// Under time compression the redelivery of a lost ack still waits the
	// real 2 s: a receiver whose dedupe forgets sooner must be caught.
	var n atomic.Int32
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch n.Add(1) {
		case 1:
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	var slept []time.Duration
	cfg := loopConfig(srv.URL)
	cfg.Retry.TimeScale = 0.01
	s := newSender(t, cfg, WithAuthorizer(noAuth{}), WithSleep(func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		return nil
	}))
	out := s.LostAck(t.Context(), testDelivery())
	if !out.Acked || len(out.Attempts) != 3 {
		t.Fatalf("%s; want acknowledged on attempt 3", out)
	}
	if len(slept) != 2 || slept[0] != 2*time.Second || slept[1] != 40*time.Millisecond {
		t.Errorf("slept %v; want [2s 40ms] (the real first-retry wait, then retry 2 scaled)", slept)
	}
}
