package load

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// newTestH1 returns a fast transport over a plain dialer.
func newTestH1(t *testing.T, maxConns int, timeout time.Duration) *h1Transport {
	t.Helper()
	fast := newH1Transport((&net.Dialer{}).DialContext, http.DefaultTransport, maxConns, timeout)
	t.Cleanup(fast.closeIdle)
	return fast
}

// countConns counts the connections a test server accepted.
func countConns(srv *httptest.Server) *atomic.Int32 {
	var n atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	return &n
}

// post sends body through rt and returns the status and the response body.
func post(t *testing.T, rt http.RoundTripper, url, body string, hdr http.Header) (int, string, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestH1TransportSendsWhatNetHTTPWouldAndReusesTheConnection(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, uri, host, auth, ctype, body string
		length                               int64
	}
	got := make(chan seen, 2)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.RequestURI, r.Host, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b), r.ContentLength}
		w.(http.Flusher).Flush() // a chunked answer, so both framings are read
		_, _ = io.WriteString(w, "accepted")
	}))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	fast := newTestH1(t, 4, 5*time.Second)
	hdr := http.Header{"Authorization": {"Bearer tok"}, "Content-Type": {"application/json"}}
	for i := range 2 {
		code, body, err := post(t, fast, srv.URL+"/hook?x=1", `{"event_id":"e1"}`, hdr)
		if err != nil || code != 200 || body != "accepted" {
			t.Fatalf("request %d: %d %q %v; want 200 \"accepted\"", i, code, body, err)
		}
		s := <-got
		want := seen{"POST", "/hook?x=1", strings.TrimPrefix(srv.URL, "http://"), "Bearer tok", "application/json", `{"event_id":"e1"}`, 17}
		if s != want {
			t.Errorf("request %d: server saw %+v; want %+v", i, s, want)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for two sequential requests; want 1 (keep-alive)", n)
	}
}

func TestH1TransportHonoursConnectionClose(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	fast := newTestH1(t, 4, 5*time.Second)
	for i := range 3 {
		if code, _, err := post(t, fast, srv.URL, "{}", nil); err != nil || code != 503 {
			t.Fatalf("request %d: %d %v; want 503", i, code, err)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections; want 3 (the server closes each)", n)
	}
}

// oneShotServer answers one request per connection and then closes it, as
// a server whose keep-alive timeout expired would. closed receives once a
// connection is closed.
func oneShotServer(t *testing.T) (url string, closed <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			req, err := http.ReadRequest(bufio.NewReader(c))
			if err == nil {
				_, _ = io.Copy(io.Discard, req.Body)
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")
			}
			c.Close()
			ch <- struct{}{}
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return "http://" + ln.Addr().String() + "/", ch
}

func TestH1TransportReplacesAnIdleConnectionThePeerClosed(t *testing.T) {
	t.Parallel()
	url, closed := oneShotServer(t)
	fast := newTestH1(t, 1, 5*time.Second)
	for i := range 3 {
		if code, body, err := post(t, fast, url, "{}", nil); err != nil || code != 200 || body != "OK" {
			t.Fatalf("request %d: %d %q %v; want 200 OK on a fresh connection", i, code, body, err)
		}
		<-closed // the server has closed the pooled connection before the next request
	}
}

func TestH1TransportKeepsAnOpenIdleConnectionWhoseDeadlinePassed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	fast := newTestH1(t, 1, 5*time.Second)
	for i := range 3 {
		if code, _, err := post(t, fast, srv.URL, "{}", nil); err != nil || code != 200 {
			t.Fatalf("request %d: %d %v; want 200", i, code, err)
		}
		// As after a long idle period: the last exchange's deadline is over.
		c := <-fast.idle
		_ = c.conn.SetDeadline(time.Unix(1, 0))
		fast.idle <- c
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections; want 1: a quiet open connection must pass the probe", n)
	}
}

func TestH1TransportTimeoutBoundsTheExchangeAndFreesTheSlot(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	defer close(release)
	fast := newTestH1(t, 1, 100*time.Millisecond)
	_, _, err := post(t, fast, srv.URL+"/slow", "{}", nil)
	if c := harness.ClassifyError(err); c != harness.ErrTimeout {
		t.Fatalf("slow answer: error %v (class %s); want a timeout", err, c)
	}
	// The single slot must be free again, or this would block.
	if code, _, err := post(t, fast, srv.URL+"/fast", "{}", nil); err != nil || code != 200 {
		t.Fatalf("after the timeout: %d %v; want 200", code, err)
	}
}

func TestH1TransportContextCancelAbortsAWaitingRequest(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so the server notices the close
		close(arrived)
		<-r.Context().Done()
	}))
	defer srv.Close()
	fast := newTestH1(t, 1, 0)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader("{}"))
	_, err := fast.RoundTrip(req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v; want context.Canceled", err)
	}
}

// recordingRT is a fallback that records what reached it.
type recordingRT struct{ n atomic.Int32 }

func (r *recordingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	r.n.Add(1)
	closeBody(req)
	return &http.Response{StatusCode: 204, Body: http.NoBody, Request: req}, nil
}

func TestH1TransportFallsBackForWhatItDoesNotHandle(t *testing.T) {
	t.Parallel()
	fb := &recordingRT{}
	fast := newH1Transport((&net.Dialer{}).DialContext, fb, 1, time.Second)
	unknownLength, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", io.NopCloser(strings.NewReader("x")))
	tls, _ := http.NewRequest(http.MethodPost, "https://127.0.0.1:1/", strings.NewReader("x"))
	for _, req := range []*http.Request{unknownLength, tls} {
		resp, err := fast.RoundTrip(req)
		if err != nil || resp.StatusCode != 204 {
			t.Fatalf("%s: %v %v; want the fallback's 204", req.URL, resp, err)
		}
		resp.Body.Close()
	}
	if fb.n.Load() != 2 {
		t.Errorf("fallback saw %d requests; want 2", fb.n.Load())
	}
}

func TestH1TransportRefusesHeaderInjection(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request with a CRLF in a header value reached the server: %v", r.Header)
	}))
	defer srv.Close()
	fast := newTestH1(t, 1, time.Second)
	_, _, err := post(t, fast, srv.URL, "{}", http.Header{"X-Evil": {"a\r\nX-Injected: 1"}})
	if err == nil || !strings.Contains(err.Error(), "X-Evil") {
		t.Fatalf("error %v; want one naming the header", err)
	}
}

func TestH1TransportWritesTheRunHeadersOverTheRequests(t *testing.T) {
	t.Parallel()
	type seen struct{ auth, tenant, seq string }
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got <- seen{r.Header.Get("Authorization"), r.Header.Get("X-Tenant"), r.Header.Get("X-Vegeta-Seq")}
	}))
	defer srv.Close()
	hs, err := newHeaderSet(http.Header{"Authorization": {"Bearer run"}, "X-Tenant": {"acme"}})
	if err != nil {
		t.Fatal(err)
	}
	fast := newTestH1(t, 1, time.Second)
	fast.headers = new(atomic.Pointer[headerSet])
	fast.headers.Store(hs)
	hdr := http.Header{"Authorization": {"Bearer stale"}, "X-Vegeta-Seq": {"7"}}
	if code, _, err := post(t, fast, srv.URL, "{}", hdr); err != nil || code != 200 {
		t.Fatalf("%d %v; want 200", code, err)
	}
	if s := <-got; s != (seen{"Bearer run", "acme", "7"}) {
		t.Errorf("server saw %+v; want the run's credentials once, its static header and the request's own", s)
	}

	var fbSaw http.Header
	fb := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		fbSaw = req.Header
		return &http.Response{StatusCode: 204, Body: http.NoBody, Request: req}, nil
	})
	fast.fallback = fb
	req, _ := http.NewRequest(http.MethodPost, "https://127.0.0.1:1/", strings.NewReader("{}"))
	resp, err := fast.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if fbSaw.Get("Authorization") != "Bearer run" || req.Header.Get("Authorization") != "" {
		t.Errorf("fallback saw %v, caller's request now %v; want the run headers on a copy only", fbSaw, req.Header)
	}
}

func TestNewHeaderSetRefusesLineBreaksWithoutEchoingTheValue(t *testing.T) {
	t.Parallel()
	_, err := newHeaderSet(http.Header{"Authorization": {"Bearer s3cret\r\nX-Injected: 1"}})
	if err == nil || !strings.Contains(err.Error(), "Authorization") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error %v; want one naming the header, not its value", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
