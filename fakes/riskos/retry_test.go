package riskos

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// scriptRT is an in-memory RoundTripper: answer(n, req) gives the status of
// the n-th request (1-based), or an error for a transport failure.
type scriptRT struct {
	mu     sync.Mutex
	calls  int
	answer func(n int, req *http.Request) (int, error)
}

func (s *scriptRT) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	s.mu.Lock()
	s.calls++
	n := s.calls
	s.mu.Unlock()
	code, err := s.answer(n, req)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	if code == http.StatusServiceUnavailable {
		h.Set("Retry-After", "7")
	}
	return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(strings.NewReader("")), Request: req}, nil
}

func (s *scriptRT) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func always(code int) func(int, *http.Request) (int, error) {
	return func(int, *http.Request) (int, error) { return code, nil }
}

type noAuth struct{}

func (noAuth) Authorize(context.Context, *http.Request) error { return nil }

func memConfig() harness.Config {
	cfg := harness.DefaultConfig()
	cfg.Target = "http://receiver.invalid/webhook"
	return cfg
}

func memSender(t *testing.T, cfg harness.Config, rt http.RoundTripper, opts ...Option) *Sender {
	t.Helper()
	opts = append([]Option{WithClient(&http.Client{Transport: rt}), WithAuthorizer(noAuth{})}, opts...)
	s, err := New(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func testDelivery() Delivery {
	return Delivery{EventID: "11111111-2222-4333-8444-555555555555", EventType: "evaluation_completed", Body: []byte(`{"event_id":"x"}`)}
}

func seconds(ss ...int) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = time.Duration(s) * time.Second
	}
	return out
}

// waitsOf returns the Wait and RealWait of every attempt after the first.
func waitsOf(as []harness.Attempt) (wait, real []time.Duration) {
	for _, a := range as[1:] {
		wait = append(wait, a.Wait)
		real = append(real, a.RealWait)
	}
	return wait, real
}

var riskosSchedule = seconds(2, 4, 8, 16, 32, 60, 60, 60, 60, 60)

func TestSendWithRetryFollowsTheRealScheduleIn362FakeSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := &scriptRT{answer: always(503)}
		s := memSender(t, memConfig(), rt) // default sleep: a real timer, on the bubble's fake clock
		start := time.Now()
		out := s.SendWithRetry(t.Context(), testDelivery())
		elapsed := time.Since(start)

		if got := len(out.Attempts); got != 11 {
			t.Fatalf("attempts = %d; want 11", got)
		}
		if !out.Lost || out.Acked || out.Interrupted {
			t.Errorf("outcome lost=%v acked=%v interrupted=%v; want lost only", out.Lost, out.Acked, out.Interrupted)
		}
		wait, real := waitsOf(out.Attempts)
		if !slices.Equal(real, riskosSchedule) {
			t.Errorf("real waits = %v; want %v", real, riskosSchedule)
		}
		if !slices.Equal(wait, riskosSchedule) {
			t.Errorf("slept waits = %v; want %v (time scale 1)", wait, riskosSchedule)
		}
		if elapsed != 362*time.Second {
			t.Errorf("elapsed = %v; want exactly 362s", elapsed)
		}
		for i, a := range out.Attempts {
			if a.Attempt != i+1 || a.Status != 503 || a.RetryAfter != "7" {
				t.Errorf("attempt %d = {n:%d status:%d retry-after:%q}; want {n:%d status:503 retry-after:7}", i, a.Attempt, a.Status, a.RetryAfter, i+1)
			}
			if i > 0 {
				if gap := a.Start.Sub(out.Attempts[i-1].Start); gap != a.Wait {
					t.Errorf("attempt %d started %v after the previous; want its wait %v", i+1, gap, a.Wait)
				}
			}
		}
		if out.Final != out.Attempts[10] {
			t.Errorf("Final is not the last attempt")
		}
		if got := s.Ledger().Len(); got != 11 {
			t.Errorf("ledger has %d attempts; want 11", got)
		}
	})
}

func TestSendWithRetryScalesWaitsButRecordsTheRealOnes(t *testing.T) {
	cfg := memConfig()
	cfg.Retry.TimeScale = 0.01
	var slept []time.Duration
	s := memSender(t, cfg, &scriptRT{answer: always(503)}, WithSleep(func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		return nil
	}))
	out := s.SendWithRetry(t.Context(), testDelivery())
	wait, real := waitsOf(out.Attempts)
	want := make([]time.Duration, len(riskosSchedule))
	for i, w := range riskosSchedule {
		want[i] = w / 100
	}
	if !slices.Equal(slept, want) || !slices.Equal(wait, want) {
		t.Errorf("slept %v, recorded %v; want %v", slept, wait, want)
	}
	if !slices.Equal(real, riskosSchedule) {
		t.Errorf("real waits = %v; want %v", real, riskosSchedule)
	}
}

func TestSendWithRetryAppliesJitterFromTheInjectedSource(t *testing.T) {
	cfg := memConfig()
	cfg.Retry.MaxRetries = 2
	cfg.Retry.Jitter = 0.5
	s := memSender(t, cfg, &scriptRT{answer: always(503)},
		WithSleep(func(context.Context, time.Duration) error { return nil }),
		WithRand(func() float64 { return 0.75 })) // spreads each wait by +25 %
	out := s.SendWithRetry(t.Context(), testDelivery())
	wait, real := waitsOf(out.Attempts)
	if want := []time.Duration{2500 * time.Millisecond, 5 * time.Second}; !slices.Equal(wait, want) {
		t.Errorf("jittered waits = %v; want %v", wait, want)
	}
	if want := seconds(2, 4); !slices.Equal(real, want) {
		t.Errorf("real waits = %v; want %v", real, want)
	}
}

func TestSendWithRetryStopsAtTheFirst2xx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := &scriptRT{answer: func(n int, _ *http.Request) (int, error) {
			if n < 3 {
				return 503, nil
			}
			return 200, nil
		}}
		s := memSender(t, memConfig(), rt)
		start := time.Now()
		out := s.SendWithRetry(t.Context(), testDelivery())
		if len(out.Attempts) != 3 || !out.Acked || out.Lost || rt.Calls() != 3 {
			t.Fatalf("attempts=%d calls=%d acked=%v lost=%v; want 3, 3, acked", len(out.Attempts), rt.Calls(), out.Acked, out.Lost)
		}
		if got := time.Since(start); got != 6*time.Second {
			t.Errorf("elapsed = %v; want 6s (2s + 4s)", got)
		}
		if out.Final.Status != 200 {
			t.Errorf("final status = %d; want 200", out.Final.Status)
		}
	})
}

func TestSendWithRetryRetriesExactlyTheRiskOSCodes(t *testing.T) {
	for _, tc := range []struct {
		code  int
		retry bool
	}{
		{408, true}, {409, true}, {423, true}, {429, true}, {502, true}, {503, true}, {504, true},
		{400, false}, {401, false}, {404, false}, {410, false}, {500, false}, {307, false},
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			cfg := memConfig()
			cfg.Retry.MaxRetries = 2
			rt := &scriptRT{answer: always(tc.code)}
			s := memSender(t, cfg, rt, WithSleep(func(context.Context, time.Duration) error { return nil }))
			out := s.SendWithRetry(t.Context(), testDelivery())
			want := 1
			if tc.retry {
				want = 3
			}
			if len(out.Attempts) != want || rt.Calls() != want {
				t.Errorf("SendWithRetry on %d: %d attempts (%d requests); want %d", tc.code, len(out.Attempts), rt.Calls(), want)
			}
			if !out.Lost || out.Acked || out.Interrupted {
				t.Errorf("SendWithRetry on %d: lost=%v acked=%v interrupted=%v; want lost", tc.code, out.Lost, out.Acked, out.Interrupted)
			}
		})
	}
}

func TestSendWithRetryRetriesNetworkErrorsOnlyWhenConfigured(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, retry := range []bool{true, false} {
		t.Run(fmt.Sprint("retry_network_errors=", retry), func(t *testing.T) {
			cfg := memConfig()
			cfg.Retry.RetryNetworkErrors = retry
			rt := &scriptRT{answer: func(int, *http.Request) (int, error) { return 0, refused }}
			s := memSender(t, cfg, rt, WithSleep(func(context.Context, time.Duration) error { return nil }))
			out := s.SendWithRetry(t.Context(), testDelivery())
			want := 1
			if retry {
				want = 11
			}
			if len(out.Attempts) != want || !out.Lost {
				t.Errorf("attempts = %d, lost = %v; want %d, lost", len(out.Attempts), out.Lost, want)
			}
			if c := out.Final.ErrorClass; c != harness.ErrRefused || out.Final.Status != 0 {
				t.Errorf("final class %q status %d; want %q, 0", c, out.Final.Status, harness.ErrRefused)
			}
		})
	}
}

func TestSendWithRetryIsInterruptedByItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		rt := &scriptRT{answer: func(n int, _ *http.Request) (int, error) {
			if n == 2 {
				cancel() // during the second attempt: no wait before retry 2
			}
			return 503, nil
		}}
		s := memSender(t, memConfig(), rt)
		start := time.Now()
		out := s.SendWithRetry(ctx, testDelivery())
		if !out.Interrupted || out.Lost || out.Acked {
			t.Errorf("interrupted=%v lost=%v acked=%v; want interrupted only", out.Interrupted, out.Lost, out.Acked)
		}
		if len(out.Attempts) != 2 {
			t.Errorf("attempts = %d; want 2", len(out.Attempts))
		}
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("elapsed = %v; want 2s (no wait after the cancellation)", got)
		}
	})
}

func TestSendWithRetryDoesNotRetryARequestThatCannotBeBuilt(t *testing.T) {
	rt := &scriptRT{answer: always(200)}
	s := memSender(t, memConfig(), rt)
	d := testDelivery()
	d.URL = "ftp://receiver.invalid/x?access_token=SENTINEL-TOKEN"
	out := s.SendWithRetry(t.Context(), d)
	if len(out.Attempts) != 1 || !out.Lost || rt.Calls() != 0 {
		t.Fatalf("attempts=%d lost=%v calls=%d; want 1 lost attempt and no request", len(out.Attempts), out.Lost, rt.Calls())
	}
	if !strings.Contains(out.Final.Error, "target") || strings.Contains(out.Final.Error, "SENTINEL") {
		t.Errorf("error %q: want it to name the target and not repeat the URL", out.Final.Error)
	}
}

func TestNewRejectsBadOptionsAndPolicies(t *testing.T) {
	rt := &scriptRT{answer: always(200)}
	base := []Option{WithClient(&http.Client{Transport: rt}), WithAuthorizer(noAuth{})}
	cfg := memConfig()
	cfg.Retry.MaxRetries = -1
	if _, err := New(cfg, base...); err == nil || !strings.Contains(err.Error(), "retry.max_retries") {
		t.Errorf("New with max_retries -1: err = %v; want one naming retry.max_retries", err)
	}
	if _, err := New(memConfig(), append(base, WithMaxResponseBytes(-1))...); err == nil {
		t.Errorf("New with a negative response limit: no error")
	}
}

type failingAuth struct{}

func (failingAuth) Authorize(context.Context, *http.Request) error {
	return fmt.Errorf("token endpoint answered 401")
}

func TestAnAuthFailureIsRecordedAndNotRetried(t *testing.T) {
	rt := &scriptRT{answer: always(200)}
	shared := &harness.Ledger{}
	s, err := New(memConfig(), WithClient(&http.Client{Transport: rt}), WithAuthorizer(failingAuth{}), WithLedger(shared))
	if err != nil {
		t.Fatal(err)
	}
	out := s.SendWithRetry(t.Context(), testDelivery())
	if len(out.Attempts) != 1 || !out.Lost || rt.Calls() != 0 {
		t.Errorf("attempts=%d lost=%v requests=%d; want one lost attempt and no request", len(out.Attempts), out.Lost, rt.Calls())
	}
	if !strings.Contains(out.Final.Error, "auth: token endpoint answered 401") {
		t.Errorf("error %q; want it to name auth and carry the cause", out.Final.Error)
	}
	if s.Ledger() != shared || shared.Len() != 1 {
		t.Errorf("the attempt is not in the ledger given by WithLedger")
	}
}
