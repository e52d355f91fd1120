package receiver

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/internal/devca"
	"github.com/hookproof/hookproof/internal/fakeclock"
)

var clockStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// workClock is a fake clock on which work takes no real time: Sleep
// advances it. If gate is set, Sleep first waits for it to close, which
// holds the worker on its first event.
type workClock struct {
	*fakeclock.Clock
	gate chan struct{}
}

func newWorkClock() *workClock { return &workClock{Clock: fakeclock.New(clockStart)} }

func (c *workClock) Sleep(d time.Duration) {
	if c.gate != nil {
		<-c.gate
	}
	c.Advance(d)
}

// wantAck stops the test unless r acknowledged with status and an ack body
// saying kind (accepted or duplicate).
func wantAck(t *testing.T, what string, r result, status int, kind string) {
	t.Helper()
	if r.status != status || !strings.Contains(r.body, `"status":"`+kind+`"`) {
		t.Fatalf("%s = %d %s; want %d %s", what, r.status, r.body, status, kind)
	}
}

func variantServer(t *testing.T, c Clock, faults ...Fault) *Server {
	t.Helper()
	o := authOptions(harness.AuthBearer)
	o.Faults = faults
	// No simulated work: on a workClock it would move the time these
	// tests set by hand.
	o.Clock, o.WorkDuration = c, -1
	return startServer(t, o)
}

func TestRateLimitShedsAboveTheRateWith503AndRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fault      Fault
		retryAfter string
	}{
		{VariantRateLimit, "1"},
		{Fault503NoRetryAfter, ""},
	} {
		t.Run(string(tc.fault), func(t *testing.T) {
			t.Parallel()
			c := newWorkClock()
			s := variantServer(t, c, tc.fault)
			o := s.Receiver().Options()
			if o.RateLimit != DefaultRateLimit || o.RateBurst != int(DefaultRateLimit/2) {
				t.Fatalf("rate %g burst %d; want %g and %d", o.RateLimit, o.RateBurst, DefaultRateLimit, int(DefaultRateLimit/2))
			}
			// The clock stands still: the bucket's depth is all there is.
			for i := range o.RateBurst {
				if r := deliver(t, s, validEvent(newID())); r.status != http.StatusOK {
					t.Fatalf("event %d within the burst = %d; want 200", i, r.status)
				}
			}
			shed := newID()
			r := deliver(t, s, validEvent(shed))
			if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != tc.retryAfter {
				t.Fatalf("event beyond the burst = %d Retry-After %q; want 503 with Retry-After %q", r.status, r.header.Get("Retry-After"), tc.retryAfter)
			}
			if n := probeCount(t, s, shed); n != 0 {
				t.Fatalf("the shed event was processed %d times; want 0", n)
			}
			// One second refills RateLimit tokens, capped at the burst: a
			// sender at RateLimit/s is served, one above it is shed.
			c.Advance(10 * time.Millisecond) // one token at 100/s
			wantAck(t, "retry of the shed event", deliver(t, s, validEvent(shed)), http.StatusOK, "accepted")
			if n := probeCount(t, s, shed); n != 1 {
				t.Fatalf("the retried event was processed %d times; want 1", n)
			}
			accepted := 0
			for range 10 { // 10 × 100 ms at 12 events each = 120 events/s
				c.Advance(100 * time.Millisecond)
				for range 12 {
					if deliver(t, s, validEvent(newID())).status == http.StatusOK {
						accepted++
					}
				}
			}
			if accepted != int(DefaultRateLimit) {
				t.Errorf("over 1 s at 120 events/s, %d accepted; want %g", accepted, DefaultRateLimit)
			}
		})
	}
}

func TestRateLimitIsConfigurable(t *testing.T) {
	t.Parallel()
	o := authOptions(harness.AuthBearer)
	o.RateLimit, o.Clock, o.WorkDuration = 4, newWorkClock(), -1
	s := startServer(t, o)
	if got := s.Receiver().Options().RateBurst; got != 2 {
		t.Fatalf("burst = %d; want 2 (half a second at 4/s)", got)
	}
	var codes []int
	for range 3 {
		codes = append(codes, deliver(t, s, validEvent(newID())).status)
	}
	if fmt.Sprint(codes) != "[200 200 503]" {
		t.Errorf("statuses = %v; want [200 200 503]", codes)
	}
	if _, err := New(Options{RateLimit: -1, RateBurst: -1, WorkerRate: -1, DedupeMemory: -1}); err == nil ||
		!strings.Contains(err.Error(), "rate_limit") || !strings.Contains(err.Error(), "rate_burst") ||
		!strings.Contains(err.Error(), "worker_rate") || !strings.Contains(err.Error(), "dedupe_memory") {
		t.Errorf("negative parameters: error %v; want each field named", err)
	}
}

func TestInFlight409AnswersCopiesOfAnEventStillBeingProcessed(t *testing.T) {
	t.Parallel()
	started := make(chan string, 1)
	release := make(chan struct{})
	o := authOptions(harness.AuthBearer)
	o.Faults = []Fault{VariantInFlight409}
	o.Work = blockingWork(started, release)
	s := startServer(t, o)

	id := newID()
	first := make(chan result, 1)
	go func() { first <- deliver(t, s, validEvent(id)) }()
	if got := <-started; got != id {
		t.Fatalf("processing started for %s; want %s", got, id)
	}
	r := deliver(t, s, validEvent(id))
	if r.status != http.StatusConflict || r.header.Get("Retry-After") != "1" {
		t.Fatalf("copy while in flight = %d Retry-After %q; want 409 with Retry-After 1", r.status, r.header.Get("Retry-After"))
	}
	close(release)
	// The first copy is acknowledged only once processed.
	wantAck(t, "first copy", <-first, http.StatusOK, "accepted")
	wantAck(t, "copy after processing", deliver(t, s, validEvent(id)), http.StatusOK, "duplicate")
	if n := probeCount(t, s, id); n != 1 {
		t.Errorf("processed %d times; want 1", n)
	}
}

func TestSlowWorkerAcksAtOnceNeverRefusesAndProcessesAtItsRate(t *testing.T) {
	t.Parallel()
	c := newWorkClock()
	c.gate = make(chan struct{})
	o := authOptions(harness.AuthBearer)
	o.Faults, o.Clock = []Fault{VariantSlowWorker}, c
	o.Workers, o.QueueSize = 8, 5 // overridden: one worker, no bound
	s := startServer(t, o)
	got := s.Receiver().Options()
	if got.Workers != 1 || got.WorkerRate != DefaultWorkerRate {
		t.Fatalf("workers %d rate %g; want 1 worker at %g/s", got.Workers, got.WorkerRate, DefaultWorkerRate)
	}

	// The worker is held on its first event: everything else queues, far
	// beyond QueueSize, and is still acknowledged.
	const n = 130
	for i := range n {
		if r := deliver(t, s, validEvent(newID())); r.status != http.StatusOK {
			t.Fatalf("event %d with the worker busy = %d; want 200", i, r.status)
		}
	}
	if p := s.Receiver().Processed(); p != 0 {
		t.Fatalf("%d processed while the worker was held; want 0", p)
	}
	close(c.gate)
	s.Receiver().settle()
	if p := s.Receiver().Processed(); p != n {
		t.Fatalf("processed %d; want %d", p, n)
	}
	spent := c.Now().Sub(clockStart)
	if rate := n / spent.Seconds(); rate < DefaultWorkerRate*0.999 || rate > DefaultWorkerRate*1.001 {
		t.Errorf("%d events took %s of work: %.2f events/s; want %g", n, spent, rate, DefaultWorkerRate)
	}
}

func TestAck202AcknowledgesWith202(t *testing.T) {
	t.Parallel()
	s := variantServer(t, nil, VariantAck202)
	id := newID()
	wantAck(t, "new event", deliver(t, s, validEvent(id)), http.StatusAccepted, "accepted")
	wantAck(t, "duplicate", deliver(t, s, validEvent(id)), http.StatusAccepted, "duplicate")
	if n := probeCount(t, s, id); n != 1 {
		t.Errorf("processed %d times; want 1", n)
	}
}

// rawRequest is an HTTP/1.1 POST of body with the server's credentials and
// extra header lines, for tests that need to own the connection.
func rawRequest(s *Server, body []byte, extra string) string {
	u, _ := url.Parse(s.WebhookURL())
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s",
		u.Path, u.Host, goodAuth(s.Receiver().opts), len(body), extra, body)
}

func Test431DropAnswersAndThenDropsThePooledConnection(t *testing.T) {
	t.Parallel()
	s := variantServer(t, nil, Variant431Drop)
	u, _ := url.Parse(s.WebhookURL())
	conn, err := net.DialTimeout("tcp", u.Host, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(testTimeout))
	br := bufio.NewReader(conn)

	// An ordinary request first: the connection is a reusable one.
	if _, err := fmt.Fprint(conn, rawRequest(s, validEvent(newID()), "")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("ordinary request: %v %v (close %v); want 200 keep-alive", resp, err, resp != nil && resp.Close)
	}
	resp.Body.Close()

	big := newID()
	if _, err := fmt.Fprint(conn, rawRequest(s, validEvent(big), "X-Padding: "+strings.Repeat("a", 64<<10)+"\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("oversized header: %v; want a 431 answer", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || resp.Close || resp.Header.Get("Connection") != "" {
		t.Fatalf("oversized header = %d, Connection %q (close %v); want 431 that does not announce the close",
			resp.StatusCode, resp.Header.Get("Connection"), resp.Close)
	}
	// A client that trusts the answer reuses the connection, and loses the
	// request: the server has closed it.
	_, _ = fmt.Fprint(conn, rawRequest(s, validEvent(newID()), ""))
	if resp, err := http.ReadResponse(br, nil); err == nil {
		resp.Body.Close()
		t.Fatalf("second request on the same connection = %d; want the connection dropped", resp.StatusCode)
	}
	if n := probeCount(t, s, big); n != 0 {
		t.Errorf("the 431'd event was processed %d times; want 0", n)
	}
	// A fresh connection is served as usual, JWT-sized credentials included.
	if r := send(t, s.WebhookURL(), goodAuth(s.Receiver().opts), "application/json", validEvent(newID()),
		"X-Trace: "+strings.Repeat("b", 2<<10)); r.status != http.StatusOK {
		t.Errorf("new connection after the drop = %d; want 200", r.status)
	}
}

func TestShortDedupeMemoryForgetsAfterItsTTL(t *testing.T) {
	t.Parallel()
	c := newWorkClock()
	s := variantServer(t, c, FaultShortDedupeMemory)
	id := newID()
	wantAck(t, "first delivery", deliver(t, s, validEvent(id)), http.StatusOK, "accepted")
	c.Advance(ShortDedupeMemory - time.Millisecond)
	wantAck(t, "redelivery within the memory", deliver(t, s, validEvent(id)), http.StatusOK, "duplicate")
	// RiskOS's first retry comes 2 s after the lost ack: forgotten by then.
	c.Advance(2*time.Second - ShortDedupeMemory + time.Millisecond)
	wantAck(t, "redelivery after 2 s", deliver(t, s, validEvent(id)), http.StatusOK, "accepted")
	if n := probeCount(t, s, id); n != 2 {
		t.Errorf("processed %d times; want 2", n)
	}
}

func TestStrictVariantsRejectsDocumentedSpellings(t *testing.T) {
	t.Parallel()
	s := variantServer(t, nil, FaultStrictVariants)
	for data, want := range map[string]int{
		`{"status":"ON HOLD"}`:                     http.StatusBadRequest,
		`{"status":"On Hold"}`:                     http.StatusBadRequest,
		`{"status":"ON_HOLD"}`:                     http.StatusOK,
		`{"status":"CLOSED"}`:                      http.StatusOK,
		`{"decision":"ACCEPT"}`:                    http.StatusOK, // no status: nothing to check
		`{"status":"OPEN","extra":{"status":"x"}}`: http.StatusOK,
	} {
		id := newID()
		if r := deliver(t, s, withData(id, data)); r.status != want {
			t.Errorf("data %s = %d %s; want %d", data, r.status, r.body, want)
		}
		if want != http.StatusOK {
			if n := probeCount(t, s, id); n != 0 {
				t.Errorf("data %s was rejected but processed %d times", data, n)
			}
		}
	}
}

// Over HTTP/2 a handler cannot hijack; the variant closes the connection
// itself, so the client must dial again for its next request.
func Test431DropClosesTheHTTP2Connection(t *testing.T) {
	t.Parallel()
	ca, err := devca.New("431-drop test CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	o := authOptions(harness.AuthBearer)
	o.Faults = []Fault{Variant431Drop}
	s, err := NewUnstartedServer(o)
	if err != nil {
		t.Fatal(err)
	}
	s.StartTLS(leaf)
	t.Cleanup(s.Close)
	var dials atomic.Int32
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, ForceAttemptHTTP2: true}
	dial := &net.Dialer{Timeout: testTimeout}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dial.DialContext(ctx, network, addr)
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: testTimeout}
	post := func(extra string) (int, string, error) {
		req, _ := http.NewRequest(http.MethodPost, s.WebhookURL(), strings.NewReader(string(validEvent(newID()))))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", goodAuth(o))
		if extra != "" {
			req.Header.Set("X-Padding", extra)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Proto, nil
	}
	if code, proto, err := post(""); err != nil || code != http.StatusOK || proto != "HTTP/2.0" {
		t.Fatalf("ordinary request = %d %s %v; want 200 over HTTP/2", code, proto, err)
	}
	// The answer may or may not reach the client before the close.
	if code, _, err := post(strings.Repeat("a", 64<<10)); err == nil && code != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversized header = %d; want 431 or a dropped connection", code)
	}
	if code, _, err := post(""); err != nil || code != http.StatusOK {
		t.Fatalf("request after the drop = %d %v; want 200", code, err)
	}
	if n := dials.Load(); n != 2 {
		t.Errorf("%d connections dialled; want 2 (the first was dropped after the 431)", n)
	}
}
