package load

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// ack72 is a receiver's 72-byte JSON answer, so that bytes in is not 0.
var ack72 = []byte(`{"received":true,"event":"0b7d7d3c-9a53-4b4e-a1b0-6f1c2f6f3c11","ok":1}`)

// ackServer answers every POST with ack72 after delay(n) for the n-th
// request, simulating a receiver's processing time.
func ackServer(t *testing.T, delay func(n int) time.Duration) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		d := delay(n)
		n++
		mu.Unlock()
		if d > 0 {
			time.Sleep(d) // the receiver's service time, not synchronisation
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(ack72)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// vegetaCLI builds the vegeta command at the version go.mod pins, or skips
// the test when it cannot be built (offline without a module cache).
func vegetaCLI(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the vegeta CLI")
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/tsenart/vegeta/v12").Output()
	if err != nil {
		t.Skipf("cannot read the pinned vegeta version: %v", err)
	}
	version := strings.TrimSpace(string(out))
	bin := t.TempDir()
	cmd := exec.Command("go", "install", "github.com/tsenart/vegeta/v12@"+version)
	// Outside the module, so that go.mod and go.sum are not touched; with
	// GOFLAGS=-mod=mod cleared for the same reason.
	cmd.Dir = bin
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build vegeta %s (offline?): %v\n%s", version, err, b)
	}
	return filepath.Join(bin, "vegeta")
}

// vegetaJSON is the part of `vegeta report -type=json` compared.
type vegetaJSON struct {
	Requests  uint64  `json:"requests"`
	Success   float64 `json:"success"`
	Latencies struct {
		P50 time.Duration `json:"50th"`
		P90 time.Duration `json:"90th"`
		P95 time.Duration `json:"95th"`
		P99 time.Duration `json:"99th"`
		Max time.Duration `json:"max"`
	} `json:"latencies"`
	BytesIn struct {
		Total uint64 `json:"total"`
	} `json:"bytes_in"`
	BytesOut struct {
		Total uint64 `json:"total"`
	} `json:"bytes_out"`
}

// decodeAll reads every result of a gob results file.
func decodeAll(t *testing.T, b []byte) []vegeta.Result {
	t.Helper()
	dec := vegeta.NewDecoder(bytes.NewReader(b))
	var out []vegeta.Result
	for {
		var r vegeta.Result
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("result %d: %v", len(out), err)
		}
		out = append(out, r)
	}
}

// rankBounds is the range an estimate of the q-quantile of sorted may fall
// in: the samples within 1 % of the ranks (at least one) around q·n, widened
// by the histogram's relative error (under 1 %).
func rankBounds(sorted []time.Duration, q float64) (lo, hi float64) {
	n := len(sorted)
	d := max(1, n/100)
	i := int(math.Floor(q*float64(n))) - d
	j := int(math.Ceil(q*float64(n))) + d
	lo = ms(sorted[max(i, 0)]) * 0.99
	hi = ms(sorted[min(j, n-1)]) * 1.01
	return lo, hi
}

// The results file of a run, read by the real vegeta CLI, tells the same
// story as hookproof's summary: count, success ratio, bytes in and out, and
// the latency percentiles from the actual send, within what separates
// vegeta's t-digest from hookproof's histogram (both are checked against
// the exact percentiles of the file).
func TestVegetaReportAgreesWithSummary(t *testing.T) {
	t.Parallel()
	veg := vegetaCLI(t)
	srv := ackServer(t, func(n int) time.Duration {
		if n%10 == 0 {
			return 2 * time.Millisecond // a spread of latencies, so percentiles differ
		}
		return 0
	})
	cfg := testConfig(srv.URL)
	var buf bytes.Buffer
	e, err := New(cfg, Options{Rate: 500, Duration: 2 * time.Second, Results: &buf}, testAuth(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "results.bin")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(veg, "report", "-type=json", path).Output()
	if err != nil {
		t.Fatalf("vegeta report: %v", err)
	}
	var v vegetaJSON
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("vegeta report: %v\n%s", err, out)
	}

	if v.Requests != s.Requests || v.Requests < 900 {
		t.Errorf("vegeta counts %d requests, hookproof %d; want the same, about 1000", v.Requests, s.Requests)
	}
	if v.Success != s.SuccessRatio || v.Success != 1 {
		t.Errorf("success ratio: vegeta %g, hookproof %g; want both 1", v.Success, s.SuccessRatio)
	}
	if want := uint64(len(ack72)) * s.Requests; v.BytesIn.Total != want || s.BytesIn != want {
		t.Errorf("bytes in: vegeta %d, hookproof %d; want %d (72 per answer)", v.BytesIn.Total, s.BytesIn, want)
	}
	if v.BytesOut.Total != s.BytesOut || s.BytesOut == 0 {
		t.Errorf("bytes out: vegeta %d, hookproof %d; want the same, not 0", v.BytesOut.Total, s.BytesOut)
	}

	var lat []time.Duration
	for _, r := range decodeAll(t, buf.Bytes()) {
		lat = append(lat, r.Latency)
	}
	slices.Sort(lat)
	for _, c := range []struct {
		name     string
		q        float64
		veg, hkp float64
	}{
		{"p50", 0.5, ms(v.Latencies.P50), s.LatencyMS.P50},
		{"p90", 0.9, ms(v.Latencies.P90), s.LatencyMS.P90},
		{"p95", 0.95, ms(v.Latencies.P95), s.LatencyMS.P95},
		{"p99", 0.99, ms(v.Latencies.P99), s.LatencyMS.P99},
	} {
		lo, hi := rankBounds(lat, c.q)
		if c.veg < lo || c.veg > hi || c.hkp < lo || c.hkp > hi {
			t.Errorf("%s: vegeta %.3f ms, hookproof %.3f ms; want both within [%.3f, %.3f] ms, the file's own", c.name, c.veg, c.hkp, lo, hi)
		}
	}
	if got, want := ms(v.Latencies.Max), s.LatencyMS.Max; math.Abs(got-want) > want*0.01 {
		t.Errorf("max: vegeta %.3f ms, hookproof %.3f ms; want the same", got, want)
	}
}

// A receiver slow enough that one worker falls behind the schedule: its
// latency from the scheduled send is far above the latency from the actual
// send. The results files carry the schedule, so their merge judges LOAD-01
// on the latency a single run judges, and fails where the send-time p99
// alone would pass.
func TestMergedShardsJudgeLikeASingleRun(t *testing.T) {
	t.Parallel()
	srv := ackServer(t, func(int) time.Duration { return 4 * time.Millisecond })
	cfg := testConfig(srv.URL)
	bounds := Bounds{MinSuccess: MinSuccessRatio, MaxP99: 100 * time.Millisecond}

	run := func(shard Shard) (*Summary, []byte) {
		var buf bytes.Buffer
		// 400/s per shard for one worker that manages about 200/s: the
		// run ends with hits hundreds of ms behind their schedule.
		e, err := New(cfg, Options{Rate: 400 * float64(shard.N), Duration: time.Second, MaxWorkers: 1, Results: &buf, Shard: shard, RunID: "merge-test"}, testAuth(t, cfg))
		if err != nil {
			t.Fatal(err)
		}
		s, err := e.Run(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s, buf.Bytes()
	}

	t.Run("one shard", func(t *testing.T) {
		t.Parallel()
		single, file := run(Shard{I: 0, N: 1})
		rs, err := SummarizeResults(MetricsConfig{}, ResultsFile{Name: "single", R: bytes.NewReader(file)})
		if err != nil {
			t.Fatal(err)
		}
		if !rs.Scheduled || rs.RunID != "merge-test" {
			t.Fatalf("scheduled %v, run %q; want true, merge-test", rs.Scheduled, rs.RunID)
		}
		// Same results, same lags, same histogram: the same figures.
		if got, want := rs.Summary.ResponseLatencyMS, single.ResponseLatencyMS; got.P50 != want.P50 || got.P99 != want.P99 || got.Max != want.Max {
			t.Errorf("from the file: latency from the schedule %+v; the run said %+v", got, want)
		}
		if single.ResponseLatencyMS.P99 < 2*single.LatencyMS.P99 || single.ResponseLatencyMS.P99 < ms(bounds.MaxP99) {
			t.Fatalf("p99 from the schedule %.1f ms, from the send %.1f ms; the receiver should have made the run fall behind", single.ResponseLatencyMS.P99, single.LatencyMS.P99)
		}
		ok, _ := bounds.Check(single)
		okFile, _ := bounds.Check(rs.Summary)
		if ok || okFile {
			t.Errorf("LOAD-01 passes: run %v, file %v; want both failed on the p99 from the schedule", ok, okFile)
		}
	})

	t.Run("three shards", func(t *testing.T) {
		t.Parallel()
		var shards []*Summary
		var files []ResultsFile
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Go(func() {
				s, f := run(Shard{I: i, N: 3})
				mu.Lock()
				defer mu.Unlock()
				shards = append(shards, s)
				files = append(files, ResultsFile{Name: s.Shard.String(), R: bytes.NewReader(f)})
			})
		}
		wg.Wait()
		rs, err := SummarizeResults(MetricsConfig{}, files...)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := MergeResults(nil, rs, bounds, 1200)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := math.Inf(1), 0.0
		var requests uint64
		for _, s := range shards {
			lo, hi = min(lo, s.ResponseLatencyMS.P99), max(hi, s.ResponseLatencyMS.P99)
			requests += s.Requests
		}
		l := rep.Load
		if l.Requests != requests || l.LatencyMS.P99 < lo*0.99 || l.LatencyMS.P99 > hi*1.01 {
			t.Errorf("merged: %d requests, p99 %.1f ms; want %d, within the shards' p99 from the schedule [%.1f, %.1f]", l.Requests, l.LatencyMS.P99, requests, lo, hi)
		}
		if l.ServiceLatencyMS == nil || l.ServiceLatencyMS.P99 >= ms(bounds.MaxP99) || l.LatencyFrom != "scheduled send" {
			t.Errorf("merged: service latency %+v, latency from %q; want a send-time p99 under the bound, latency from the schedule", l.ServiceLatencyMS, l.LatencyFrom)
		}
		var load01 string
		for _, q := range rep.Requirements {
			if q.ID == "LOAD-01" {
				load01 = q.Status + ": " + q.Reason
			}
		}
		if !strings.HasPrefix(load01, "failed") || !strings.Contains(load01, "from the scheduled send") {
			t.Errorf("merged LOAD-01 %q; want failed on the p99 from the scheduled send, as each shard", load01)
		}
		for _, s := range shards {
			if ok, _ := bounds.Check(s); ok {
				t.Errorf("shard %s passes LOAD-01 on its own; the merge failed it", s.Shard)
			}
		}
	})
}

// Results are flushed while the run goes, so a run killed midway leaves
// what it measured in the file.
func TestRunFlushesResultsAsItGoes(t *testing.T) {
	t.Parallel()
	g := gomega.NewWithT(t)
	srv := ackServer(t, func(int) time.Duration { return 0 })
	cfg := testConfig(srv.URL)
	path := filepath.Join(t.TempDir(), "results.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := New(cfg, Options{Rate: 200, Duration: 30 * time.Second, Results: bufio.NewWriterSize(f, 1<<20)}, testAuth(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = e.Run(ctx, nil)
	}()
	defer func() { cancel(); <-done }()
	// A 1 MiB buffer holds thousands of results: they reach the file only
	// through the periodic flush, while the run is still going.
	g.Eventually(func() int {
		b, err := os.ReadFile(path)
		if err != nil || len(b) == 0 {
			return 0
		}
		return len(decodeAll(t, b))
	}, 5*time.Second, 50*time.Millisecond).Should(gomega.BeNumerically(">=", 100))
	g.Expect(done).NotTo(gomega.BeClosed(), "the run ended before its results were read")
}
