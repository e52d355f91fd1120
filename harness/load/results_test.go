package load

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

var resultsT0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// shardResults builds n results of one attack, one every 10 ms from start,
// with latency lat(i) and status code(i).
func shardResults(attack string, start time.Time, n int, lat func(int) time.Duration, code func(int) uint16) []vegeta.Result {
	out := make([]vegeta.Result, n)
	for i := range out {
		out[i] = vegeta.Result{Attack: attack, Seq: uint64(i), Code: code(i), Timestamp: start.Add(time.Duration(i) * 10 * time.Millisecond),
			Latency: lat(i), BytesOut: 100, Method: "POST", URL: "http://127.0.0.1:1/webhook"}
	}
	return out
}

func encode(t *testing.T, enc func(*bytes.Buffer) vegeta.Encoder, rs []vegeta.Result) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	e := enc(&buf)
	for i := range rs {
		if err := e.Encode(&rs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return &buf
}

func gobEnc(b *bytes.Buffer) vegeta.Encoder { return vegeta.NewEncoder(b) }

func ok200(int) uint16 { return 200 }

func TestSummarizeResultsIsExactOverTheUnion(t *testing.T) {
	// Shard A is fast except for 5 % slow hits; shard B is uniformly
	// medium. Each shard's p99 is a bound far from the union's: A's p99 is
	// slow (5 % > 1 %), but over the union the slow hits are 2.5 %, so the
	// union's p99 is still slow while its p90 is B's medium, which the max
	// of per-shard p90s (A's fast or slow) does not give.
	a := shardResults("hookproof-shard-0-of-2", resultsT0, 1000, func(i int) time.Duration {
		if i%20 == 0 {
			return 300 * time.Millisecond
		}
		return 2 * time.Millisecond
	}, ok200)
	b := shardResults("hookproof-shard-1-of-2", resultsT0.Add(5*time.Millisecond), 1000, func(i int) time.Duration {
		return 40 * time.Millisecond
	}, func(i int) uint16 {
		switch i {
		case 7:
			return 500 // lost
		case 8:
			return 503 // retryable
		}
		return 200
	})

	got, err := SummarizeResults(MetricsConfig{},
		ResultsFile{Name: "a.bin", R: encode(t, gobEnc, a)}, ResultsFile{Name: "b.bin", R: encode(t, gobEnc, b)})
	if err != nil {
		t.Fatal(err)
	}
	direct := NewMetrics(MetricsConfig{})
	for _, rs := range [][]vegeta.Result{a, b} {
		for i := range rs {
			direct.Add(&rs[i], 0)
		}
	}
	want := direct.Summary()
	s := got.Summary
	if s.LatencyMS != want.LatencyMS || s.ResponseLatencyMS != want.LatencyMS {
		t.Errorf("latency = %+v (response %+v); want the union's %+v for both", s.LatencyMS, s.ResponseLatencyMS, want.LatencyMS)
	}
	perShard := func(rs []vegeta.Result) Quantiles {
		m := NewMetrics(MetricsConfig{})
		for i := range rs {
			m.Add(&rs[i], 0)
		}
		return m.Summary().LatencyMS
	}
	qa, qb := perShard(a), perShard(b)
	if naive := max(qa.P90, qb.P90); s.LatencyMS.P90 == naive {
		t.Errorf("union p90 %g equals the naive max of shard p90s (%g, %g); the test data should tell them apart", s.LatencyMS.P90, qa.P90, qb.P90)
	}
	if s.LatencyMS.P90 < 39 || s.LatencyMS.P90 > 41 {
		t.Errorf("union p90 = %g ms; want ~40 (shard B's latency)", s.LatencyMS.P90)
	}
	if s.Requests != 2000 || s.Acked != 1998 || s.Lost != 1 || s.Retryable != 1 || s.StatusCodes["200"] != 1998 || s.StatusCodes["500"] != 1 || s.StatusCodes["503"] != 1 {
		t.Errorf("counts: requests %d acked %d lost %d retryable %d codes %v; want 2000 1998 1 1", s.Requests, s.Acked, s.Lost, s.Retryable, s.StatusCodes)
	}
	if !s.StartedAt.Equal(resultsT0) || s.BytesOut != 200000 {
		t.Errorf("started %s, bytes out %d; want %s, 200000", s.StartedAt, s.BytesOut, resultsT0)
	}
	// Both shards span ~10 s side by side: the union's rate is about 200/s,
	// not 100/s (one shard's) nor the time span of either alone.
	if s.SentRate < 190 || s.SentRate > 210 {
		t.Errorf("sent rate %g/s; want ~200 (both shards over the same 10 s)", s.SentRate)
	}
	if got.Attacks["hookproof-shard-0-of-2"] != 1000 || got.Attacks["hookproof-shard-1-of-2"] != 1000 || len(got.Attacks) != 2 {
		t.Errorf("attacks %v; want 1000 per shard", got.Attacks)
	}
	if s.Attack != "hookproof-shard-0-of-2,hookproof-shard-1-of-2" {
		t.Errorf("attack %q; want both names", s.Attack)
	}
	if got.Files["a.bin"] != 1000 || got.Files["b.bin"] != 1000 || len(got.URLs) != 1 {
		t.Errorf("files %v, urls %v; want 1000 each and one URL", got.Files, got.URLs)
	}
	// Results are fed in completion order across files: the series must
	// count every request once, with both shards in each second.
	var n uint64
	for _, p := range s.Series {
		n += p.Requests
	}
	if n != 2000 || len(s.Series) < 9 || s.Series[0].Requests < 150 {
		t.Errorf("series: %d requests over %d points (first %+v); want 2000 over ~10 windows of ~200", n, len(s.Series), s.Series[0])
	}
}

func TestSummarizeResultsReadsJSONAndCSV(t *testing.T) {
	rs := shardResults("hookproof", resultsT0, 50, func(int) time.Duration { return time.Millisecond }, ok200)
	for name, enc := range map[string]func(*bytes.Buffer) vegeta.Encoder{
		"json": func(b *bytes.Buffer) vegeta.Encoder { return vegeta.NewJSONEncoder(b) },
		"csv":  func(b *bytes.Buffer) vegeta.Encoder { return vegeta.NewCSVEncoder(b) },
	} {
		t.Run(name, func(t *testing.T) {
			got, err := SummarizeResults(MetricsConfig{}, ResultsFile{Name: "r." + name, R: encode(t, enc, rs)})
			if err != nil {
				t.Fatal(err)
			}
			if got.Summary.Requests != 50 || got.Summary.Acked != 50 {
				t.Errorf("requests %d acked %d; want 50, 50", got.Summary.Requests, got.Summary.Acked)
			}
		})
	}
}

func TestSummarizeResultsRefusesWhatIsNotResults(t *testing.T) {
	good := encode(t, gobEnc, shardResults("hookproof", resultsT0, 20, func(int) time.Duration { return time.Millisecond }, ok200)).Bytes()
	for _, tc := range []struct {
		name, data string
		want       []string
		notResults bool
	}{
		{"text", "hello, world\n", []string{"text.bin", "not a vegeta results file"}, true},
		{"empty", "", []string{"empty.bin", "empty"}, false},
		{"report json", "{\"verdict\": \"pass\", \"requirements\": []}\n", []string{"report json.bin", "not a vegeta results file"}, true},
		{"result-like json", "{\"code\": 200, \"latency\": 5}\n", []string{"result-like json.bin", "result 1: timestamp"}, true},
		{"truncated gob", string(good[:len(good)-7]), []string{"truncated gob.bin", "result 20"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := SummarizeResults(MetricsConfig{}, ResultsFile{Name: tc.name + ".bin", R: strings.NewReader(tc.data)})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if errors.Is(err, ErrNotResults) != tc.notResults {
				t.Errorf("errors.Is(err, ErrNotResults) = %v; want %v", !tc.notResults, tc.notResults)
			}
		})
	}
	_, err := SummarizeResults(MetricsConfig{}, ResultsFile{Name: "one.bin", R: bytes.NewReader(good)}, ResultsFile{Name: "again.bin", R: bytes.NewReader(good)})
	if !errors.Is(err, ErrSameAttack) || !strings.Contains(err.Error(), "again.bin") || !strings.Contains(err.Error(), "one.bin") {
		t.Errorf("the same file twice: %v; want ErrSameAttack naming both files", err)
	}
	if _, err := SummarizeResults(MetricsConfig{}); err == nil {
		t.Error("no files: no error")
	}
}
