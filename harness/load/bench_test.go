package load

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// BenchmarkTargeter measures what each hit costs before the network
// (events/s = 1e9/ns/op): on vegeta's path (--transport net/http) a fresh
// event plus vegeta's request construction, on the fast path's attack loop a
// fresh event appended to the worker's reused buffer.
func BenchmarkTargeter(b *testing.B) {
	h := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer tok"}}
	hs, err := newHeaderSet(h)
	if err != nil {
		b.Fatal(err)
	}
	newTr := func() *targeter {
		tr := newTargeter("http://127.0.0.1:18080/hook", harness.EventTypeNames(), 0, 1, 1, defaultSource)
		tr.header.Store(hs)
		return tr
	}
	b.Run("vegeta", func(b *testing.B) {
		tr := newTr()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				var tgt vegeta.Target
				if err := tr.target(&tgt); err != nil {
					b.Fatal(err)
				}
				if _, err := tgt.Request(); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("attack_loop", func(b *testing.B) {
		tr := newTr()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			st, buf := tr.newSourceState(), make([]byte, 0, 1024)
			for pb.Next() {
				body, _ := tr.next(st, buf)
				buf = body[:0]
			}
		})
	})
}

// BenchmarkMetricsAdd measures the consumer's cost per result, which sits
// on vegeta's unbuffered results channel.
func BenchmarkMetricsAdd(b *testing.B) {
	m := NewMetrics(MetricsConfig{Start: t0})
	b.ReportAllocs()
	for i := range b.N {
		r := vegeta.Result{Seq: uint64(i), Timestamp: t0.Add(time.Duration(i) * 100 * time.Microsecond),
			Latency: time.Duration(i%10000) * time.Microsecond, Code: 200}
		m.Add(&r, time.Duration(i%7)*time.Microsecond)
	}
}

// BenchmarkEngine measures one event through the whole engine at maximum
// rate over loopback keep-alive, from the hit to the consumer's metrics:
// the fast path (the engine's attack loop over its HTTP/1.1 transport) and
// vegeta's Attacker over net/http (--transport net/http). The receiver is
// in the process but allocates nothing, so allocs/op are the engine's;
// with 2 cores shared with a real receiver, the generator's CPU per event
// is what bounds the rate (scripts/bench-load measures that).
func BenchmarkEngine(b *testing.B) {
	url := rawAckServer(b)
	for _, tr := range []string{TransportFast, TransportNetHTTP} {
		b.Run(strings.ReplaceAll(tr, "/", "_"), func(b *testing.B) {
			cfg := harness.DefaultConfig()
			cfg.Target = url
			cfg.Auth = harness.AuthConfig{Type: harness.AuthBearer, BearerToken: harness.Secret("tok_bench")}
			auth, err := harness.NewAuthorizer(cfg.Auth, nil)
			if err != nil {
				b.Fatal(err)
			}
			e, err := New(cfg, Options{Rate: 0, MaxRequests: uint64(b.N), Duration: time.Hour, MaxWorkers: 8, Transport: tr}, auth)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			s, err := e.Run(context.Background(), nil)
			if err != nil {
				b.Fatal(err)
			}
			if s.Acked != uint64(b.N) {
				b.Fatalf("acked %d of %d: %v", s.Acked, b.N, s.Errors)
			}
		})
	}
}

// BenchmarkH1Exchange measures the fast transport alone on one keep-alive
// connection: write the request, read the answer, release the connection.
// Its allocations per op are the transport's own (the request is built
// once), which the common path keeps at zero.
func BenchmarkH1Exchange(b *testing.B) {
	url := rawAckServer(b)
	hs, err := newHeaderSet(http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer tok"}})
	if err != nil {
		b.Fatal(err)
	}
	fast := newH1Transport((&net.Dialer{}).DialContext, http.DefaultTransport, 1, 5*time.Second)
	fast.headers = new(atomic.Pointer[headerSet])
	fast.headers.Store(hs)
	defer fast.closeIdle()
	body := []byte(`{"event_id":"0b7d7d3c-9a53-4b4e-a1b0-6f1c2f6f3c11","event_type":"case_status_updated"}`)
	rd := bytes.NewReader(body)
	req, err := http.NewRequest(http.MethodPost, url, io.NopCloser(rd))
	if err != nil {
		b.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	buf := make([]byte, 512)
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		resp, err := fast.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := resp.Body.Read(buf); err != nil {
				break
			}
		}
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		resp.Body.Close()
	}
}

// rawAckServer answers every request on loopback with a canned 200 and
// allocates nothing per request, so that a benchmark's allocations are the
// client's alone (an httptest server in the same process counts its own).
func rawAckServer(b testing.TB) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ack := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK")
	var wg sync.WaitGroup
	b.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					n := 0
					for {
						line, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(line) <= 2 {
							break
						}
						if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
							for _, d := range bytes.TrimSpace(v) {
								n = n*10 + int(d-'0')
							}
						}
					}
					if _, err := br.Discard(n); err != nil {
						return
					}
					if _, err := c.Write(ack); err != nil {
						return
					}
				}
			})
		}
	})
	return "http://" + ln.Addr().String() + "/hook"
}
