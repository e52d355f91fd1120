package load

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// ErrNotResults is wrapped by SummarizeResults when a stream is not a vegeta
// results file (gob, as hookproof load --output writes, JSON or CSV).
var ErrNotResults = errors.New("not a vegeta results file (gob, JSON or CSV)")

// ErrSameAttack is wrapped by SummarizeResults when two files hold results
// of the same attack: shards of one run have distinct attack names
// (hookproof load --shard i/n), so these would be counted twice.
var ErrSameAttack = errors.New("shards of one run have distinct attack names (hookproof load --shard i/n)")

// ErrOtherRun is wrapped by SummarizeResults when the files hold results of
// different runs (their ResultRun differs): shards of one run share a run id.
var ErrOtherRun = errors.New("shards of one run share a run id (hookproof load --run-id)")

// ServiceLatencyNote says why a summary of results files has no latency from
// the scheduled send: a file written by vegeta attack (or an older
// hookproof) records when each hit actually started, not when the pacer
// meant it to.
const ServiceLatencyNote = "latency from the raw results is measured from the actual send (some files hold no schedule), so coordinated omission does not show in it"

// ScheduleNote says how a summary of results files that carry the schedule
// measures latency: as a single run does.
const ScheduleNote = "latency from the raw results is measured from the scheduled send (each result carries its schedule lag), as a single run measures it"

// ResultsFile is one vegeta results stream to summarise; Name labels it in
// errors (a path, usually).
type ResultsFile struct {
	Name string
	R    io.Reader
}

// ResultsSummary is the exact summary of the union of several results
// files: every result of every file went through one Metrics, so the
// percentiles are those of the union, not a bound derived from per-file ones.
type ResultsSummary struct {
	// Summary's latencies are service latencies; ResponseLatencyMS equals
	// LatencyMS (see ServiceLatencyNote). LostEvents and Duplicates are
	// empty: results hold no event_id.
	Summary *Summary
	// Attacks counts results per vegeta attack name (one per shard).
	Attacks map[string]uint64
	// Files counts results per ResultsFile name.
	Files map[string]uint64
	// URLs are the distinct request URLs seen, sorted.
	URLs []string
	// RunID is the run the results belong to ("" when no file names one).
	RunID string
	// Scheduled says every file carried the schedule, so Summary's
	// ResponseLatencyMS is from the scheduled send; otherwise it equals
	// LatencyMS and Summary.NoSchedule is set.
	Scheduled bool
}

// AttackNames returns the attack names seen, sorted.
func (s *ResultsSummary) AttackNames() []string {
	return slices.Sorted(maps.Keys(s.Attacks))
}

// resultsSource is one file being read: its decoder and its next result.
type resultsSource struct {
	name string
	dec  vegeta.Decoder
	head vegeta.Result
	// lag and run are what the engine added to head (recordOf);
	// scheduled says the file's first result carried a lag.
	lag       time.Duration
	run       string
	scheduled bool
	n         uint64
	done      bool
}

// SummarizeResults decodes every file and feeds its results into one
// Metrics built from cfg, in order of completion across files (a k-way
// merge: each file is already in completion order, as the engine writes
// results when they arrive), so that the latency-over-time series of the
// union is right too. Memory is bounded by the histograms and one pending
// result per file, whatever the files' length. A file that is empty or is
// not a results stream is an error naming it.
func SummarizeResults(cfg MetricsConfig, files ...ResultsFile) (*ResultsSummary, error) {
	if len(files) == 0 {
		return nil, errors.New("load: results: no files")
	}
	srcs := make([]*resultsSource, 0, len(files))
	var errs []error
	for _, f := range files {
		s, err := openResults(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		srcs = append(srcs, s)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := &ResultsSummary{Attacks: map[string]uint64{}, Files: map[string]uint64{}, Scheduled: true}
	var runFile *resultsSource
	for _, s := range srcs {
		out.Scheduled = out.Scheduled && s.scheduled
		switch {
		case s.run == "":
		case runFile == nil:
			runFile, out.RunID = s, s.run
		case s.run != out.RunID:
			errs = append(errs, fmt.Errorf("%s: run %q differs from run %q in %s: %w", s.name, s.run, out.RunID, runFile.name, ErrOtherRun))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	m := NewMetrics(cfg)
	urls := map[string]bool{}
	// An attack name in two files is one shard counted twice (the same file
	// given twice, or runs without --shard, all named "hookproof").
	attackFile := map[string]*resultsSource{}
	for {
		next := earliest(srcs)
		if next == nil {
			break
		}
		r := &next.head
		if f, ok := attackFile[r.Attack]; !ok {
			attackFile[r.Attack] = next
		} else if f != next {
			return nil, fmt.Errorf("%s: attack %q is also in %s: %w", next.name, r.Attack, f.name, ErrSameAttack)
		}
		// One measure for the whole union: from the schedule only if every
		// file carries it (ServiceLatencyNote otherwise).
		lag := time.Duration(0)
		if out.Scheduled {
			lag = next.lag
		}
		m.Add(r, lag)
		out.Attacks[r.Attack]++
		out.Files[next.name]++
		if r.URL != "" && len(urls) < maxURLs {
			urls[r.URL] = true
		}
		if err := next.advance(); err != nil {
			return nil, err
		}
	}
	out.Summary = m.Summary()
	out.Summary.Attack = strings.Join(out.AttackNames(), ",")
	out.Summary.RunID = out.RunID
	out.Summary.NoSchedule = !out.Scheduled
	out.URLs = slices.Sorted(maps.Keys(urls))
	return out, nil
}

// maxURLs bounds the URL set: a run has one target, and a file with more is
// reported as mixed without keeping every URL it names.
const maxURLs = 16

// openResults detects the file's format and reads its first result.
func openResults(f ResultsFile) (*resultsSource, error) {
	if f.R == nil {
		return nil, fmt.Errorf("%s: no reader", f.Name)
	}
	br := bufio.NewReader(f.R)
	if _, err := br.Peek(1); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty: it holds no results", f.Name)
		}
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	dec := vegeta.DecoderFor(br)
	if dec == nil {
		return nil, fmt.Errorf("%s: %w", f.Name, ErrNotResults)
	}
	s := &resultsSource{name: f.Name, dec: dec}
	if err := s.advance(); err != nil {
		return nil, err
	}
	_, _, s.scheduled, _ = recordOf(&s.head)
	if err := s.record(); err != nil {
		return nil, err
	}
	return s, nil
}

// advance reads the next result, marking the source done at the end.
func (s *resultsSource) advance() error {
	s.head = vegeta.Result{}
	err := s.dec.Decode(&s.head)
	switch {
	case errors.Is(err, io.EOF) && s.n > 0:
		s.done = true
		return nil
	case err != nil:
		return fmt.Errorf("%s: result %d: %w: %w", s.name, s.n+1, ErrNotResults, err)
	}
	s.n++
	// JSON decoding fills a Result from any object (a report.json, say),
	// so check that it is one: every hit has a start and a non-negative
	// latency.
	if s.head.Timestamp.IsZero() {
		return fmt.Errorf("%s: result %d: timestamp: missing: %w", s.name, s.n, ErrNotResults)
	}
	if s.head.Latency < 0 {
		return fmt.Errorf("%s: result %d: latency: %s is negative: %w", s.name, s.n, s.head.Latency, ErrNotResults)
	}
	// vegeta attack's files keep the body, and holding one per pending
	// result is needless.
	s.head.Body = nil
	if s.n > 1 {
		return s.record()
	}
	return nil
}

// record reads the schedule lag and run id of the pending result; a file
// whose first result carried them must carry them throughout, and one run
// only, or its latency would mix two measures.
func (s *resultsSource) record() error {
	lag, run, ok, err := recordOf(&s.head)
	switch {
	case err != nil:
		return fmt.Errorf("%s: result %d: %w", s.name, s.n, err)
	case ok != s.scheduled:
		return fmt.Errorf("%s: result %d: %s: present in some results only: %w", s.name, s.n, ResultScheduleLag, ErrNotResults)
	case s.n > 1 && run != s.run:
		return fmt.Errorf("%s: result %d: run %q differs from run %q earlier in the file: %w", s.name, s.n, run, s.run, ErrOtherRun)
	}
	s.lag, s.run = lag, run
	s.head.Headers = nil
	return nil
}

// earliest returns the live source whose pending result completed first.
func earliest(srcs []*resultsSource) *resultsSource {
	var best *resultsSource
	for _, s := range srcs {
		if s.done {
			continue
		}
		if best == nil || s.head.End().Before(best.head.End()) {
			best = s
		}
	}
	return best
}
