package riskos

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// seen is one request as a loopback receiver saw it.
type seen struct {
	Method, RemoteAddr, RawQuery string
	Header                       http.Header
	Body                         []byte
}

// recorder is a loopback receiver that records every request and answers
// with answer (200 if nil).
type recorder struct {
	mu     sync.Mutex
	reqs   []seen
	answer func(w http.ResponseWriter, r *http.Request)
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, seen{Method: r.Method, RemoteAddr: r.RemoteAddr, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	rec.mu.Unlock()
	if rec.answer != nil {
		rec.answer(w, r)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (rec *recorder) Requests() []seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seen(nil), rec.reqs...)
}

func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func loopConfig(target string) harness.Config {
	cfg := harness.DefaultConfig()
	cfg.Target = target
	cfg.Timeouts.Attempt = 10 * time.Second // bounds a failing test, never reached by a passing one
	return cfg
}

func newSender(t *testing.T, cfg harness.Config, opts ...Option) *Sender {
	t.Helper()
	s, err := New(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// tokenAuth sets a bearer token, as a configured authorizer would.
type tokenAuth string

func (a tokenAuth) Authorize(_ context.Context, r *http.Request) error {
	r.Header.Set("Authorization", "Bearer "+string(a))
	return nil
}

func TestSendPutsRiskOSHeadersAuthAndBodyOnTheWire(t *testing.T) {
	rec := &recorder{answer: func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "queued")
	}}
	srv := serve(t, rec)
	cfg := loopConfig(srv.URL + "/hooks/riskos?tenant=a")
	cfg.Headers = []harness.Header{{Name: "X-Static", Value: "static-1"}, {Name: "X-Replaced", Value: "from-config"}}
	var observed []harness.Attempt
	s := newSender(t, cfg, WithAuthorizer(tokenAuth("sentinel-token")), WithObserver(func(a harness.Attempt) { observed = append(observed, a) }))

	d := testDelivery()
	d.Body = []byte(`{"event_id":"11111111-2222-4333-8444-555555555555","event_type":"evaluation_completed","event_at":"2025-07-17T01:20:01Z","data":{}}`)
	d.Header = http.Header{"X-Replaced": {"from-delivery"}, "X-Extra": {"e"}}
	d.Label = "ACK-01"
	a := s.Send(t.Context(), d)

	reqs := rec.Requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver saw %d requests; want 1", len(reqs))
	}
	r := reqs[0]
	for name, want := range map[string]string{
		"Content-Type":  "application/json",
		"User-Agent":    harness.UserAgent(),
		"X-Static":      "static-1",
		"X-Replaced":    "from-delivery",
		"X-Extra":       "e",
		"Authorization": "Bearer sentinel-token",
	} {
		if got := r.Header.Values(name); len(got) != 1 || got[0] != want {
			t.Errorf("header %s = %q; want [%q]", name, got, want)
		}
	}
	if r.Method != http.MethodPost || !bytes.Equal(r.Body, d.Body) || r.RawQuery != "tenant=a" {
		t.Errorf("request %s ?%s %q; want POST ?tenant=a with the delivery body", r.Method, r.RawQuery, r.Body)
	}

	if a.EventID != d.EventID || a.EventType != d.EventType || a.Attempt != 1 || a.Label != "ACK-01" {
		t.Errorf("attempt identity = %+v", a)
	}
	if a.Status != 202 || a.ErrorClass != harness.ErrNone || a.Error != "" || !a.Acked() {
		t.Errorf("attempt status %d class %q error %q; want 202, none", a.Status, a.ErrorClass, a.Error)
	}
	if a.BytesSent != int64(len(d.Body)) || a.BytesRecv != int64(len("queued")) {
		t.Errorf("bytes sent %d received %d; want %d, %d", a.BytesSent, a.BytesRecv, len(d.Body), len("queued"))
	}
	if a.RetryAfter != "120" || a.Start.IsZero() || a.Latency <= 0 {
		t.Errorf("retry-after %q start %v latency %v; want 120, set, positive", a.RetryAfter, a.Start, a.Latency)
	}
	if got := s.Ledger().ForEvent(d.EventID); len(got) != 1 || got[0] != a {
		t.Errorf("ledger for the event = %+v; want exactly the returned attempt", got)
	}
	if len(observed) != 1 || observed[0] != a {
		t.Errorf("observer saw %+v; want the attempt once", observed)
	}
}

func TestSendUsesTheConfiguredAuthByDefault(t *testing.T) {
	rec := &recorder{}
	srv := serve(t, rec)
	cfg := loopConfig(srv.URL)
	cfg.Auth = harness.AuthConfig{Type: harness.AuthBearer, BearerToken: "cfg-token"}
	s := newSender(t, cfg)
	if a := s.Send(t.Context(), testDelivery()); a.Status != 200 {
		t.Fatalf("status %d (%s); want 200", a.Status, a.Error)
	}
	if got := rec.Requests()[0].Header.Get("Authorization"); got != "Bearer cfg-token" {
		t.Errorf("Authorization = %q; want the configured bearer token", got)
	}
}

func TestSendDeparturesFromRiskOS(t *testing.T) {
	rec := &recorder{}
	srv := serve(t, rec)
	s := newSender(t, loopConfig(srv.URL), WithAuthorizer(tokenAuth("real")))
	for _, tc := range []struct {
		name  string
		edit  func(*Delivery)
		check func(t *testing.T, r seen)
	}{
		{"no auth", func(d *Delivery) { d.NoAuth = true }, func(t *testing.T, r seen) {
			if v, ok := r.Header["Authorization"]; ok {
				t.Errorf("Authorization = %q; want none", v)
			}
		}},
		{"forged auth", func(d *Delivery) { d.Authorize = func(r *http.Request) { r.Header.Set("Authorization", "Basic Og==") } }, func(t *testing.T, r seen) {
			if got := r.Header.Get("Authorization"); got != "Basic Og==" {
				t.Errorf("Authorization = %q; want the forged one", got)
			}
		}},
		{"no content type", func(d *Delivery) { d.ContentType = NoContentType }, func(t *testing.T, r seen) {
			if v, ok := r.Header["Content-Type"]; ok {
				t.Errorf("Content-Type = %q; want none", v)
			}
		}},
		{"text/plain", func(d *Delivery) { d.ContentType = "text/plain" }, func(t *testing.T, r seen) {
			if got := r.Header.Get("Content-Type"); got != "text/plain" {
				t.Errorf("Content-Type = %q; want text/plain", got)
			}
		}},
		{"method PUT", func(d *Delivery) { d.Method = http.MethodPut }, func(t *testing.T, r seen) {
			if r.Method != http.MethodPut {
				t.Errorf("method = %s; want PUT", r.Method)
			}
		}},
		{"token in query", func(d *Delivery) { d.URL = srv.URL + "/?access_token=q" }, func(t *testing.T, r seen) {
			if r.RawQuery != "access_token=q" {
				t.Errorf("query = %q; want access_token=q", r.RawQuery)
			}
		}},
		{"raw invalid UTF-8 body", func(d *Delivery) { d.Body = []byte("{\"a\":\"\xc3\x28\"}") }, func(t *testing.T, r seen) {
			if !bytes.Equal(r.Body, []byte("{\"a\":\"\xc3\x28\"}")) {
				t.Errorf("body = %q; want the raw bytes", r.Body)
			}
		}},
		{"empty body", func(d *Delivery) { d.Body = nil }, func(t *testing.T, r seen) {
			if len(r.Body) != 0 || r.Header.Get("Content-Length") != "0" {
				t.Errorf("body %q, Content-Length %q; want empty, 0", r.Body, r.Header.Get("Content-Length"))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rec.Requests())
			d := testDelivery()
			tc.edit(&d)
			if a := s.Send(t.Context(), d); a.Status != 200 {
				t.Fatalf("status %d (%s); want 200", a.Status, a.Error)
			}
			tc.check(t, rec.Requests()[before])
		})
	}
}

func TestSendReadsAtMostTheResponseLimit(t *testing.T) {
	var written atomic.Int64
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
		chunk := bytes.Repeat([]byte("z"), 32<<10)
		for range 32 << 10 { // up to 1 GiB, until the client goes away
			if _, err := w.Write(chunk); err != nil {
				return
			}
			written.Add(int64(len(chunk)))
		}
	}))
	s := newSender(t, loopConfig(srv.URL), WithAuthorizer(noAuth{}))

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	a := s.Send(t.Context(), testDelivery())
	runtime.ReadMemStats(&after)

	if a.Status != 200 || a.ErrorClass != harness.ErrBodyLimit {
		t.Errorf("status %d class %q; want 200, %q", a.Status, a.ErrorClass, harness.ErrBodyLimit)
	}
	if a.BytesRecv != DefaultMaxResponseBytes+1 {
		t.Errorf("bytes received = %d; want %d (the limit plus the byte that shows it is exceeded)", a.BytesRecv, DefaultMaxResponseBytes+1)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("allocated %d bytes during the attempt; want far less than the body", alloc)
	}
	if w := written.Load(); w >= 1<<30 {
		t.Errorf("server wrote the whole %d-byte body: the client read it all", w)
	}
}

func TestSendNeverFollowsRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { elsewhere.Add(1) }))
	srv := serve(t, &recorder{answer: func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/stolen", http.StatusTemporaryRedirect)
	}})
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"harness client", nil},
		{"caller client that follows redirects", []Option{WithClient(&http.Client{})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSender(t, loopConfig(srv.URL), append(tc.opts, WithAuthorizer(tokenAuth("secret")))...)
			out := s.SendWithRetry(t.Context(), testDelivery())
			a := out.Final
			if len(out.Attempts) != 1 || !out.Lost {
				t.Errorf("attempts %d lost %v; want 1 lost attempt (3xx is not retried)", len(out.Attempts), out.Lost)
			}
			if a.Status != 307 || a.Location != other.URL+"/stolen" || a.ErrorClass != harness.ErrRedirect {
				t.Errorf("status %d location %q class %q; want 307, %q, %q", a.Status, a.Location, a.ErrorClass, other.URL+"/stolen", harness.ErrRedirect)
			}
			if n := elsewhere.Load(); n != 0 {
				t.Errorf("the redirect target was contacted %d times; want never", n)
			}
		})
	}
}

func TestSendTimesOutAnAttemptThatIsNeverAnswered(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release) }) // runs before srv.Close: cleanups are LIFO
	cfg := loopConfig(srv.URL)
	cfg.Timeouts.Attempt = 100 * time.Millisecond
	cfg.Retry.RetryNetworkErrors = false
	s := newSender(t, cfg, WithAuthorizer(noAuth{}))
	out := s.SendWithRetry(t.Context(), testDelivery())
	a := out.Final
	if a.Status != 0 || a.ErrorClass != harness.ErrTimeout {
		t.Errorf("status %d class %q (%s); want 0, %q", a.Status, a.ErrorClass, a.Error, harness.ErrTimeout)
	}
	if a.Latency < cfg.Timeouts.Attempt {
		t.Errorf("latency %v; want at least the attempt timeout %v", a.Latency, cfg.Timeouts.Attempt)
	}
	if len(out.Attempts) != 1 || !out.Lost {
		t.Errorf("attempts %d lost %v; want 1 lost (network errors not retried)", len(out.Attempts), out.Lost)
	}
}

func TestSendErrorsNeverRepeatTheURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	s := newSender(t, loopConfig("http://"+addr+"/hook"), WithAuthorizer(noAuth{}))
	d := testDelivery()
	d.URL = "http://" + addr + "/hook?access_token=SENTINEL-TOKEN"
	a := s.Send(t.Context(), d)
	if a.ErrorClass != harness.ErrRefused {
		t.Errorf("class %q (%s); want %q", a.ErrorClass, a.Error, harness.ErrRefused)
	}
	if strings.Contains(a.Error, "SENTINEL") || a.Error == "" {
		t.Errorf("error %q: want a description without the URL's query", a.Error)
	}
}
