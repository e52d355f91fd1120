package load

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// What the engine adds to each result it writes (Options.Results), in the
// Result's Headers field. vegeta's format has no field for the time a hit
// was scheduled, and Headers is the one field that holds arbitrary named
// values in every encoding (gob, JSON, CSV) while `vegeta report` and
// `vegeta plot` ignore it; the engine drops the response headers anyway
// (its fast transport reads none). The alternatives were worse: the attack
// name is one per attack (vegeta plot groups by it, so a per-hit value
// there would make one series per hit), and a side file can be lost or
// paired with the wrong results.
const (
	// ResultScheduleLag is how late the hit started against its schedule,
	// in nanoseconds: the scheduled send time is Timestamp minus it, and
	// the latency from the scheduled send (what LOAD-01 judges) is Latency
	// plus it. "0" at maximum rate, which has no schedule.
	ResultScheduleLag = "Hookproof-Schedule-Lag-Ns"
	// ResultRun is the run id (Options.RunID), so that a merge of results
	// files refuses files of different runs.
	ResultRun = "Hookproof-Run"
)

// recordHeaders is the reused Headers value of the results the engine
// writes; one per run, used by the one goroutine that encodes.
type recordHeaders struct {
	h   http.Header
	lag []string
	buf []byte
}

func newRecordHeaders(runID string) *recordHeaders {
	r := &recordHeaders{lag: make([]string, 1)}
	r.h = http.Header{ResultScheduleLag: r.lag, ResultRun: {runID}}
	return r
}

// with returns the headers carrying lag.
func (r *recordHeaders) with(lag time.Duration) http.Header {
	r.buf = strconv.AppendInt(r.buf[:0], int64(max(lag, 0)), 10)
	r.lag[0] = string(r.buf)
	return r.h
}

// recordOf reads what the engine added to a result: the schedule lag
// (ok false when the result does not carry it: a file vegeta attack wrote,
// or an older hookproof's) and the run id.
func recordOf(res *vegeta.Result) (lag time.Duration, runID string, ok bool, err error) {
	runID = res.Headers.Get(ResultRun)
	v := res.Headers.Get(ResultScheduleLag)
	if v == "" {
		return 0, runID, false, nil
	}
	n, perr := strconv.ParseInt(v, 10, 64)
	if perr != nil || n < 0 {
		return 0, runID, false, fmt.Errorf("%s: %q is not a lag ≥ 0 in ns", ResultScheduleLag, v)
	}
	return time.Duration(n), runID, true, nil
}

// NewRunID returns a fresh run id: 12 random hex digits.
func NewRunID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// LayoutRunID is the run id shards of one run agree on without being told:
// a digest of what every shard of the run shares (target, rate, duration,
// shard count, seed and the rest of the key). Two runs of the same layout
// get the same id, so a merge cannot tell them apart by it; give --run-id
// (a CI run number, say) to make it distinct.
func LayoutRunID(key ...any) string {
	h := fnv.New64a()
	for _, k := range key {
		fmt.Fprintf(h, "%v\x00", k)
	}
	return fmt.Sprintf("layout-%016x", h.Sum64())
}

// recordWriter buffers a results stream and writes it only in whole
// records: the encoder writes each record (and each gob type definition) in
// one Write, and recordWriter never splits one across two writes to the
// file, so a process killed between two flushes leaves a file that `vegeta
// report` reads to its last whole record.
type recordWriter struct {
	w   io.Writer
	buf []byte
	err error
}

// recordBuffer is what recordWriter holds between flushes.
const recordBuffer = 256 << 10

func newRecordWriter(w io.Writer) *recordWriter {
	return &recordWriter{w: w, buf: make([]byte, 0, recordBuffer)}
}

func (r *recordWriter) Write(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(r.buf)+len(p) > cap(r.buf) && len(r.buf) > 0 {
		if err := r.Flush(); err != nil {
			return 0, err
		}
	}
	if len(p) > cap(r.buf) {
		_, r.err = r.w.Write(p)
		return len(p), r.err
	}
	r.buf = append(r.buf, p...)
	return len(p), nil
}

// Flush writes what is buffered, then flushes w if it buffers too.
func (r *recordWriter) Flush() error {
	if r.err != nil {
		return r.err
	}
	if len(r.buf) > 0 {
		_, r.err = r.w.Write(r.buf)
		r.buf = r.buf[:0]
	}
	if f, ok := r.w.(interface{ Flush() error }); ok && r.err == nil {
		r.err = f.Flush()
	}
	return r.err
}
