package load

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// withRecord adds what the engine writes to each result: a lag and a run.
func withRecord(rs []vegeta.Result, run string, lag func(int) time.Duration) []vegeta.Result {
	for i := range rs {
		rs[i].Headers = newRecordHeaders(run).with(lag(i)).Clone()
	}
	return rs
}

// writesRecorder keeps what reached the file, write by write.
type writesRecorder struct {
	file   bytes.Buffer
	writes []int // file length after each write
}

func (w *writesRecorder) Write(p []byte) (int, error) {
	w.file.Write(p)
	w.writes = append(w.writes, w.file.Len())
	return len(p), nil
}

// Whatever a kill leaves between two writes is whole results: every
// prefix of the file that ends at a write decodes to its end.
func TestRecordWriterWritesWholeResults(t *testing.T) {
	t.Parallel()
	var w writesRecorder
	rw := newRecordWriter(&w)
	rw.buf = make([]byte, 0, 1000) // a few results per write
	enc := vegeta.NewEncoder(rw)
	rs := withRecord(shardResults("hookproof", t0, 200, func(i int) time.Duration { return time.Duration(i) * time.Millisecond }, ok200),
		"run-1", func(i int) time.Duration { return time.Duration(i) })
	for i := range rs {
		if err := enc.Encode(&rs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(w.writes) < 10 {
		t.Fatalf("%d writes; want many, the buffer holds a few results", len(w.writes))
	}
	for _, n := range w.writes {
		dec := vegeta.NewDecoder(bytes.NewReader(w.file.Bytes()[:n]))
		for k := 0; ; k++ {
			var r vegeta.Result
			err := dec.Decode(&r)
			if err != nil {
				if k == 0 || !errors.Is(err, io.EOF) {
					t.Fatalf("the file's first %d bytes: result %d: %v; want whole results to the end", n, k, err)
				}
				break
			}
		}
	}
	got := decodeAll(t, w.file.Bytes())
	if len(got) != 200 {
		t.Fatalf("%d results; want 200", len(got))
	}
	if lag, run, ok, err := recordOf(&got[150]); err != nil || !ok || lag != 150 || run != "run-1" {
		t.Errorf("result 150 carries lag %s, run %q (%v, %v); want 150ns, run-1", lag, run, ok, err)
	}
}

// The files of a merge must be of one run and carry one latency measure.
func TestSummarizeResultsRefusesOtherRunsAndMixedSchedules(t *testing.T) {
	t.Parallel()
	lat := func(int) time.Duration { return time.Millisecond }
	lag := func(i int) time.Duration { return time.Duration(i) * time.Millisecond }
	a := encode(t, gobEnc, withRecord(shardResults("hookproof-shard-0-of-2", t0, 50, lat, ok200), "run-1", lag))
	b := encode(t, gobEnc, withRecord(shardResults("hookproof-shard-1-of-2", t0, 50, lat, ok200), "run-2", lag))
	if _, err := SummarizeResults(MetricsConfig{}, ResultsFile{"a", a}, ResultsFile{"b", b}); !errors.Is(err, ErrOtherRun) {
		t.Errorf("two runs: %v; want ErrOtherRun", err)
	}

	a = encode(t, gobEnc, withRecord(shardResults("hookproof-shard-0-of-2", t0, 50, lat, ok200), "run-1", lag))
	plain := encode(t, gobEnc, shardResults("hookproof-shard-1-of-2", t0, 50, lat, ok200))
	rs, err := SummarizeResults(MetricsConfig{}, ResultsFile{"a", a}, ResultsFile{"plain", plain})
	if err != nil {
		t.Fatal(err)
	}
	// One file without a schedule makes the whole union one measure: from
	// the actual send, said by NoSchedule.
	if rs.Scheduled || !rs.Summary.NoSchedule || rs.Summary.ResponseLatencyMS != rs.Summary.LatencyMS {
		t.Errorf("scheduled %v, no schedule %v, latencies %+v and %+v; want one measure, from the send", rs.Scheduled, rs.Summary.NoSchedule, rs.Summary.ResponseLatencyMS, rs.Summary.LatencyMS)
	}

	a = encode(t, gobEnc, withRecord(shardResults("hookproof-shard-0-of-2", t0, 50, lat, ok200), "run-1", lag))
	rs, err = SummarizeResults(MetricsConfig{}, ResultsFile{"a", a})
	if err != nil {
		t.Fatal(err)
	}
	if !rs.Scheduled || rs.RunID != "run-1" || rs.Summary.ResponseLatencyMS.Max < 49 {
		t.Errorf("scheduled %v, run %q, max from the schedule %g ms; want true, run-1, about 50 ms (1 ms + a 49 ms lag)", rs.Scheduled, rs.RunID, rs.Summary.ResponseLatencyMS.Max)
	}
}
