package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookproof/hookproof/reports"
)

// hostileDeadline bounds every hostile run: a harness that hangs on a bad
// receiver shows up as an interrupted run (exit 130) and fails the test,
// instead of stalling the whole test binary.
const hostileDeadline = 45 * time.Second

const hostileToken = "hostile-bearer-5a9e"

// certifyHostile certifies target over the acknowledgement checks with one
// event type, a 2 s attempt timeout and compressed retry waits, so each
// hostile run takes seconds.
func certifyHostile(t *testing.T, target string, extra ...string) (*reports.Report, string, int) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), hostileDeadline)
	defer cancel()
	args := append([]string{"certify", "--target", target, "--auth", "bearer", "--bearer-token", hostileToken,
		"--label-filter", "area:ack", "--event-types", "decision_update", "--timeout", "2s",
		"--time-scale", "0.001", "--report-dir", dir, "--color", "never", "--seed", "3"}, extra...)
	start := time.Now()
	out, errOut, code := cliCtx(ctx, t, args...)
	if ctx.Err() != nil {
		t.Fatalf("certify hung: still running after %s\n%s%s", time.Since(start), out, errOut)
	}
	noStackTrace(t, out, errOut)
	rep, err := reports.Read(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatalf("report.json: %v (exit %d)\n%s%s", err, code, out, errOut)
	}
	return rep, out + errOut, code
}

// requirement returns id's result from rep.
func requirement(t *testing.T, rep *reports.Report, id string) reports.RequirementResult {
	t.Helper()
	for _, r := range rep.Requirements {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("%s not in the report", id)
	return reports.RequirementResult{}
}

// wantFailedWith asserts id failed and one evidence item names class as
// its transport error.
func wantFailedWith(t *testing.T, rep *reports.Report, id string, classes ...string) {
	t.Helper()
	r := requirement(t, rep, id)
	if r.Status != reports.StatusFailed {
		t.Fatalf("%s is %s; want failed (reason %q)", id, r.Status, r.Reason)
	}
	for _, e := range r.Evidence {
		for _, c := range classes {
			// Evidence spells an error "class: detail".
			if strings.HasPrefix(e.Error, c+":") || e.Error == c {
				return
			}
		}
	}
	t.Errorf("%s evidence names none of %v as its error: %+v", id, classes, r.Evidence)
}

// serve runs h on a loopback listener until the test ends.
func serve(t *testing.T, h http.HandlerFunc) (url string, _ struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/hook", struct{}{}
}

func drain(r *http.Request) { io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20)) }

// A receiver that resets every connection after reading the request: each
// attempt is a reset fed to the retry policy, never a latency sample, and
// the run ends with ACK-01 failed, not a crash or a hang.
func TestHostileResetsConnections(t *testing.T) {
	var n atomic.Int64
	url, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		n.Add(1)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // RST rather than FIN
		}
		conn.Close()
	})
	rep, out, code := certifyHostile(t, url)
	if code != exitFailed {
		t.Fatalf("exit %d; want 1\n%s", code, out)
	}
	wantFailedWith(t, rep, "ACK-01", "connection_reset")
	if n.Load() < 2 {
		t.Errorf("%d attempts reached the receiver; want retries after a reset", n.Load())
	}
}

// A receiver that reads the request and never answers: the preflight
// delivery times out, and the run ends with exit 3 and a report whose
// verdict is error, naming the timeout.
func TestHostileNeverAnswers(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	url, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	start := time.Now()
	rep, out, code := certifyHostile(t, url)
	if code != exitUnreachable {
		t.Fatalf("exit %d; want 3\n%s", code, out)
	}
	if rep.Verdict != reports.VerdictError || !strings.Contains(rep.Error, "timeout") {
		t.Errorf("verdict %q, error %q; want error naming the timeout", rep.Verdict, rep.Error)
	}
	t.Logf("never-answering receiver certified in %s", time.Since(start))
}

// A receiver that answers 200 at once, then trickles its body a byte at a
// time for ever: the attempt deadline covers the body, so the trickle is cut
// off at the timeout. The status stands (RiskOS decides on it, so ACK-01 may
// pass), but the delivery reached the timeout, which ACK-02 forbids.
func TestHostileTricklesResponse(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	url, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-release:
				return
			case <-r.Context().Done():
				return
			case <-tick.C:
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				if rc.Flush() != nil {
					return
				}
			}
		}
	})
	start := time.Now()
	rep, out, code := certifyHostile(t, url)
	if code != exitFailed {
		t.Fatalf("exit %d; want 1\n%s", code, out)
	}
	if r := requirement(t, rep, "ACK-02"); r.Status != reports.StatusFailed {
		t.Errorf("ACK-02 is %s; want failed: every delivery reached the timeout", r.Status)
	}
	if rep.Deliveries.StatusCodes["timeout"] == 0 && rep.Deliveries.StatusCodes["200"] == 0 {
		t.Errorf("deliveries %v: no attempt recorded", rep.Deliveries.StatusCodes)
	}
	// Two events, each cut at the 2 s attempt timeout, plus the run-wide
	// checks: an unbounded read would never finish.
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %s; the attempt timeout does not bound the body read", d)
	}
}

// A receiver answering 200 with a gigabyte body: the sender reads a bounded
// amount, so the run goes on quickly and memory stays far below the body.
func TestHostileGigabyteBody(t *testing.T) {
	const gig = 1 << 30
	var served atomic.Int64
	url, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		w.Header().Set("Content-Length", "1073741824")
		w.WriteHeader(http.StatusOK)
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for sent := 0; sent < gig; sent += len(chunk) {
			n, err := w.Write(chunk)
			served.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	rep, out, _ := certifyHostile(t, url)
	runtime.ReadMemStats(&after)
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %s: the sender seems to read the whole body", d)
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 256<<20 {
		t.Errorf("heap grew by %d MiB", grew>>20)
	}
	if s := served.Load(); s >= gig {
		t.Errorf("the receiver wrote all %d bytes: the sender read the whole body", s)
	}
	r := requirement(t, rep, "ACK-01")
	if r.Status == reports.StatusSkipped {
		t.Fatalf("ACK-01 skipped: %s\n%s", r.Reason, out)
	}
	if rep.Deliveries.Total == 0 {
		t.Errorf("no deliveries recorded: %+v", rep.Deliveries)
	}
	t.Logf("ACK-01 %s after %d body bytes served, %s", r.Status, served.Load(), time.Since(start))
}

// A receiver redirecting to another host: the redirect is the answer (a
// 3xx fails ACK-01), and the other host is never contacted, let alone sent
// the credentials.
func TestHostileRedirectElsewhere(t *testing.T) {
	var contacted, gotAuth atomic.Bool
	other, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		contacted.Store(true)
		if r.Header.Get("Authorization") != "" {
			gotAuth.Store(true)
		}
		drain(r)
	})
	url, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		http.Redirect(w, r, strings.Replace(other, "127.0.0.1", "localhost", 1), http.StatusTemporaryRedirect)
	})
	rep, out, code := certifyHostile(t, url)
	if code != exitFailed {
		t.Fatalf("exit %d; want 1\n%s", code, out)
	}
	r := requirement(t, rep, "ACK-01")
	if r.Status != reports.StatusFailed {
		t.Fatalf("ACK-01 is %s; want failed", r.Status)
	}
	saw307 := false
	for _, e := range r.Evidence {
		saw307 = saw307 || e.Status == http.StatusTemporaryRedirect
	}
	if !saw307 {
		t.Errorf("ACK-01 evidence does not show the 307: %+v", r.Evidence)
	}
	if contacted.Load() || gotAuth.Load() {
		t.Errorf("redirect target contacted=%v, got Authorization=%v; want neither", contacted.Load(), gotAuth.Load())
	}
}

// A TLS endpoint that reads the ClientHello and hangs up: every attempt
// fails fast with a TLS or reset class, ACK-01 fails, nothing hangs.
func TestHostileClosesTLSMidHandshake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 5) // the TLS record header of the ClientHello
				io.ReadFull(c, buf)
			}()
		}
	}()
	rep, out, code := certifyHostile(t, "https://"+ln.Addr().String()+"/hook")
	if code != exitFailed {
		t.Fatalf("exit %d; want 1\n%s", code, out)
	}
	wantFailedWith(t, rep, "ACK-01", "tls", "connection_reset")
}
