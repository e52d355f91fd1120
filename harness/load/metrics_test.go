package load

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// result is a synthetic vegeta result started at offset off.
func result(seq uint64, off, lat time.Duration, code uint16, errMsg string) *vegeta.Result {
	return &vegeta.Result{Seq: seq, Timestamp: t0.Add(off), Latency: lat, Code: code, Error: errMsg, BytesOut: 600}
}

func TestMetricsOnSyntheticStream(t *testing.T) {
	t.Parallel()
	m := NewMetrics(MetricsConfig{Start: t0})
	// 1000 hits at 100/s: latencies 1..1000 µs; 10 answered 503
	// (retryable), 5 answered 500 (lost), 3 connection refused (retryable by
	// default), 2 with a 301 (lost: RiskOS does not follow redirects).
	for i := range 1000 {
		code, msg := uint16(200), ""
		switch {
		case i < 10:
			code, msg = 503, "503 Service Unavailable"
		case i < 15:
			code, msg = 500, "500 Internal Server Error"
		case i < 18:
			code, msg = 0, `Post "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused`
		case i < 20:
			code, msg = 301, "301 Moved Permanently"
		}
		lag := time.Duration(0)
		if i == 999 {
			lag = 50 * time.Millisecond // one hit started late
		}
		m.Add(result(uint64(i), time.Duration(i)*10*time.Millisecond, time.Duration(i+1)*time.Microsecond, code, msg), lag)
	}
	s := m.Summary()
	if s.Requests != 1000 || s.Acked != 980 {
		t.Errorf("requests, acked = %d, %d; want 1000, 980", s.Requests, s.Acked)
	}
	if s.SuccessRatio != 0.98 {
		t.Errorf("success ratio = %g; want 0.98", s.SuccessRatio)
	}
	if s.Retryable != 13 || s.Lost != 7 {
		t.Errorf("retryable, lost = %d, %d; want 13, 7", s.Retryable, s.Lost)
	}
	wantCodes := map[string]uint64{"200": 980, "503": 10, "500": 5, "301": 2}
	for c, n := range wantCodes {
		if s.StatusCodes[c] != n {
			t.Errorf("status_codes[%s] = %d; want %d", c, s.StatusCodes[c], n)
		}
	}
	if len(s.StatusCodes) != len(wantCodes) {
		t.Errorf("status_codes = %v; want exactly %v", s.StatusCodes, wantCodes)
	}
	if s.Errors[string(harness.ErrRefused)] != 3 || len(s.Errors) != 1 {
		t.Errorf("errors = %v; want connection_refused: 3 only", s.Errors)
	}
	if math.Abs(s.SentRate-100) > 1e-9 {
		t.Errorf("sent rate = %g; want exactly 100", s.SentRate)
	}
	// 980 acked between the first start (0) and the last end (9.99 s + 1 ms).
	if want := 980 / 9.991; math.Abs(s.Throughput-want) > 1e-6 {
		t.Errorf("throughput = %g; want %g", s.Throughput, want)
	}
	within := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > want/128 {
			t.Errorf("%s = %g ms; want %g ms within 1/128", name, got, want)
		}
	}
	within("p50", s.LatencyMS.P50, 0.5)
	within("p90", s.LatencyMS.P90, 0.9)
	within("p99", s.LatencyMS.P99, 0.99)
	within("p999", s.LatencyMS.P999, 0.999)
	if s.LatencyMS.Max != 1 || s.LatencyMS.Min != 0.001 {
		t.Errorf("max, min = %g, %g ms; want 1, 0.001 exactly", s.LatencyMS.Max, s.LatencyMS.Min)
	}
	// The late hit shows in the response latency only.
	if s.ResponseLatencyMS.Max != 51 || s.MaxScheduleLagMS != 50 {
		t.Errorf("response max, max lag = %g, %g ms; want 51, 50", s.ResponseLatencyMS.Max, s.MaxScheduleLagMS)
	}
	if len(s.Series) != 10 {
		t.Fatalf("series has %d points; want 10 one-second windows", len(s.Series))
	}
	var n uint64
	for i, p := range s.Series {
		n += p.Requests
		if p.TS != float64(i) {
			t.Errorf("series[%d].t_s = %g; want %d", i, p.TS, i)
		}
	}
	if n != 1000 || s.Series[0].Errors != 20 || s.Series[0].OK != 80 {
		t.Errorf("series holds %d requests, first window %d ok %d errors; want 1000, 80, 20", n, s.Series[0].OK, s.Series[0].Errors)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	_ = json.Unmarshal(b, &keys)
	for _, k := range []string{"requested_rate", "throughput", "requests", "success_ratio", "latency_ms", "status_codes", "lost", "series", "histogram"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("summary JSON lacks %q (report.json's load section)", k)
		}
	}
	lat := keys["latency_ms"].(map[string]any)
	for _, k := range []string{"p50", "p90", "p95", "p99", "p999", "max"} {
		if _, ok := lat[k]; !ok {
			t.Errorf("latency_ms lacks %q", k)
		}
	}
}

func TestMetricsRetryPolicyDecidesLost(t *testing.T) {
	t.Parallel()
	p := harness.DefaultRetryPolicy()
	p.RetryNetworkErrors = false
	m := NewMetrics(MetricsConfig{Retry: &p})
	m.Add(result(0, 0, time.Millisecond, 0, "Post \"http://x/\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"), 0)
	m.Add(result(1, 0, time.Millisecond, 429, "429 Too Many Requests"), 0)
	s := m.Summary()
	if s.Lost != 1 || s.Retryable != 1 || s.Errors["timeout"] != 1 {
		t.Errorf("lost, retryable, errors = %d, %d, %v; want 1, 1, timeout: 1", s.Lost, s.Retryable, s.Errors)
	}
}

func TestMetricsCanceledKeptApart(t *testing.T) {
	t.Parallel()
	m := NewMetrics(MetricsConfig{})
	m.Add(result(0, 0, time.Millisecond, 200, ""), 0)
	m.AddCanceled()
	s := m.Summary()
	if s.Requests != 1 || s.Canceled != 1 || s.SuccessRatio != 1 {
		t.Errorf("requests, canceled, success = %d, %d, %g; want 1, 1, 1", s.Requests, s.Canceled, s.SuccessRatio)
	}
}

func TestMetricsMemoryBounded(t *testing.T) {
	t.Parallel()
	m := NewMetrics(MetricsConfig{Start: t0, SeriesPoints: 50})
	fine := len(m.service.counts)
	// 200k results over 2000 simulated seconds, 1 000 distinct status codes
	// and error strings: none of it may make the accumulator grow.
	for i := range 200_000 {
		code := uint16(200)
		if i%100 == 0 {
			code = uint16(500 + i%50)
		}
		msg := ""
		if i%1000 == 1 {
			code, msg = 0, "dial tcp 127.0.0.1:"+string(rune('0'+i%10))+": connect: connection refused"
		}
		m.Add(result(uint64(i), time.Duration(i)*10*time.Millisecond, time.Duration(i%5000)*time.Microsecond, code, msg), 0)
	}
	if len(m.service.counts) != fine || len(m.response.counts) != fine {
		t.Errorf("histograms grew: %d, %d buckets; want %d", len(m.service.counts), len(m.response.counts), fine)
	}
	if n := len(m.series.points); n > 50 {
		t.Errorf("series holds %d points; want at most 50", n)
	}
	if len(m.codes) > 51 || len(m.errors) > 1 {
		t.Errorf("codes, error classes = %d, %d; want ≤ 51, 1", len(m.codes), len(m.errors))
	}
	s := m.Summary()
	var n uint64
	for _, p := range s.Series {
		n += p.Requests
	}
	if n != 200_000 {
		t.Errorf("downsampled series holds %d requests; want all 200000", n)
	}
	if s.SeriesWidthS < 2000.0/50 {
		t.Errorf("series width %gs; want ≥ 40s after downsampling 2000s to 50 points", s.SeriesWidthS)
	}
}

func TestSeriesGapsAreEmptyPoints(t *testing.T) {
	t.Parallel()
	s := newSeries(t0, time.Second, 100)
	s.add(t0.Add(500*time.Millisecond), time.Millisecond, time.Millisecond, true)
	s.add(t0.Add(3500*time.Millisecond), 2*time.Millisecond, 2*time.Millisecond, false)
	pts, _ := s.snapshot()
	if len(pts) != 4 {
		t.Fatalf("got %d points; want 4 (a stall of 2 s is two empty windows)", len(pts))
	}
	if pts[0].Requests != 1 || pts[1].Requests != 0 || pts[2].Requests != 0 || pts[3].Errors != 1 {
		t.Errorf("points = %+v; want 1, 0, 0, 1 error", pts)
	}
}

func TestSeriesMergeKeepsTimeAligned(t *testing.T) {
	t.Parallel()
	s := newSeries(t0, time.Second, 4)
	for i := range 9 { // one completion per second for 9 s, into 4 points max
		s.add(t0.Add(time.Duration(i)*time.Second+time.Millisecond), time.Duration(i+1)*time.Millisecond, 0, true)
	}
	pts, w := s.snapshot()
	if w != 4*time.Second {
		t.Errorf("width = %s; want 4s after two halvings", w)
	}
	var n uint64
	for i, p := range pts {
		n += p.Requests
		if p.TS != float64(i)*w.Seconds() {
			t.Errorf("point %d at %gs; want %gs", i, p.TS, float64(i)*w.Seconds())
		}
	}
	if n != 9 || len(pts) != 3 || pts[0].Requests != 4 || pts[2].Requests != 1 {
		t.Errorf("points = %+v; want 4, 4, 1 requests", pts)
	}
}
