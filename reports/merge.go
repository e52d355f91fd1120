package reports

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Merge combines the reports of shards of one run (a CI matrix, an Indexed
// Job) into one report with one verdict:
//   - requirement statuses merge per ID, failed over passed over skipped,
//     keeping every shard's evidence;
//   - counts, rates and status codes add up; success ratios are weighted by
//     requests;
//   - percentiles cannot be merged from summaries, so each merged
//     percentile is the maximum over the shards: an upper bound, which a
//     note says; an exact figure needs the raw results;
//   - the verdict fails if any shard failed, was interrupted, or the merged
//     requirements fail (see Verdict).
//
// Reports must share profile and target: merging runs against different
// receivers would certify neither. The inputs are not modified.
func Merge(reports ...*Report) (*Report, error) {
	return MergeNamed(nil, reports...)
}

// MergeNamed is Merge with the reports' names (their files, usually), so
// that a refusal says which file differs; without a name per report the
// refusal names the index.
// A single report is returned as it is: there is nothing to merge.
func MergeNamed(names []string, reports ...*Report) (*Report, error) {
	if len(reports) == 0 {
		return nil, errors.New("reports: merge: no reports")
	}
	// A file's field reads "a.json: target", an index's "reports[1].target".
	name, field := func(i int) string { return fmt.Sprintf("reports: merge: reports[%d]", i) }, "."
	if len(names) == len(reports) {
		name, field = func(i int) string { return names[i] }, ": "
	}
	for i, r := range reports {
		if r == nil {
			return nil, fmt.Errorf("%s: nil", name(i))
		}
	}
	if len(reports) == 1 {
		return reports[0], nil
	}
	first := reports[0]
	var errs []error
	for i, r := range reports[1:] {
		if r.Target != first.Target {
			errs = append(errs, fmt.Errorf("%s%starget: %q differs from %q in %s; shards of one run share a target", name(i+1), field, r.Target, first.Target, name(0)))
		}
		if r.Profile != first.Profile {
			errs = append(errs, fmt.Errorf("%s%sprofile: %q differs from %q in %s; shards of one run share a profile", name(i+1), field, r.Profile, first.Profile, name(0)))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := &Report{Tool: first.Tool, Profile: first.Profile, Target: first.Target, Config: first.Config}
	// Shards of one run share its kind and seed; a filter of any shard
	// makes the merge partial too.
	out.Kind, out.Seed = first.Kind, first.Seed
	var filters []string
	for _, r := range reports {
		if r.Kind != out.Kind {
			out.Kind = ""
		}
		if r.Seed != out.Seed {
			out.Seed = 0
		}
		if r.Filter != "" && !slices.Contains(filters, r.Filter) {
			filters = append(filters, r.Filter)
		}
	}
	out.Filter = strings.Join(filters, "; ")
	byID := map[string]int{}
	anyFail := false
	for i, r := range reports {
		if out.StartedAt.IsZero() || (!r.StartedAt.IsZero() && r.StartedAt.Before(out.StartedAt)) {
			out.StartedAt = r.StartedAt
		}
		if r.FinishedAt.After(out.FinishedAt) {
			out.FinishedAt = r.FinishedAt
		}
		out.Strict = out.Strict || r.Strict
		out.Interrupted = out.Interrupted || r.Interrupted
		out.Insecure = out.Insecure || r.Insecure
		anyFail = anyFail || r.Verdict != VerdictPass
		if r.Error != "" && out.Error == "" {
			// A shard that could not judge its receiver makes the whole
			// run unjudged, not failed.
			out.Error = name(i) + field + r.Error
		}
		if out.Config == nil {
			out.Config = r.Config
		}
		for _, n := range r.Notes {
			if n == mergeNote(r.MergedFrom, r.LoadExact) {
				continue // a merge of merges says it once, below
			}
			if !slices.Contains(out.Notes, n) {
				out.Notes = append(out.Notes, n)
			}
		}
		for _, q := range r.Requirements {
			q.Evidence = slices.Clone(q.Evidence)
			if i, ok := byID[q.ID]; ok {
				out.Requirements[i] = combine(out.Requirements[i], q)
				continue
			}
			byID[q.ID] = len(out.Requirements)
			out.Requirements = append(out.Requirements, q)
		}
		out.Deliveries = mergeDeliveries(out.Deliveries, r.Deliveries)
		l, err := mergeLoad(out.Load, r.Load)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s%sload: %w", name(i), field, err))
			continue
		}
		out.Load = l
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out.MergedFrom = len(reports)
	out.Notes = append(out.Notes, mergeNote(out.MergedFrom, false))
	out.Decide(out.Strict)
	if anyFail && out.Verdict != VerdictError {
		out.Verdict = VerdictFail
	}
	return out, nil
}

func maxPercentiles(a, b Percentiles) Percentiles {
	return Percentiles{Count: a.Count + b.Count, P50: max(a.P50, b.P50), P90: max(a.P90, b.P90), P95: max(a.P95, b.P95), P99: max(a.P99, b.P99), Max: max(a.Max, b.Max)}
}

func maxLatency(a, b LatencyMS) LatencyMS {
	return LatencyMS{P50: max(a.P50, b.P50), P90: max(a.P90, b.P90), P95: max(a.P95, b.P95), P99: max(a.P99, b.P99), P999: max(a.P999, b.P999), Max: max(a.Max, b.Max)}
}

func addCounts[V int | uint64](dst, src map[string]V) map[string]V {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = map[string]V{}
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}

// mergeBuckets adds histograms bucket by bucket. Shards bucket on the same
// bounds (the defaults plus one ack budget), so the union of bounds is exact.
func mergeBuckets(a, b []Bucket) []Bucket {
	if len(a) == 0 {
		return slices.Clone(b)
	}
	counts := map[float64]int{}
	for _, x := range append(slices.Clone(a), b...) {
		counts[x.UpperMS] += x.Count
	}
	out := make([]Bucket, 0, len(counts))
	for ub, n := range counts {
		out = append(out, Bucket{UpperMS: ub, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UpperMS < out[j].UpperMS })
	return out
}

func mergeDeliveries(a, b *DeliveryStats) *DeliveryStats {
	if b == nil {
		return a
	}
	if a == nil {
		a = &DeliveryStats{}
	}
	out := &DeliveryStats{
		Total:        a.Total + b.Total,
		StatusCodes:  addCounts(addCounts(nil, a.StatusCodes), b.StatusCodes),
		AckLatencyMS: maxPercentiles(a.AckLatencyMS, b.AckLatencyMS),
		AckBudgetMS:  max(a.AckBudgetMS, b.AckBudgetMS),
		OverBudget:   a.OverBudget + b.OverBudget,
		Histogram:    mergeBuckets(a.Histogram, b.Histogram),
	}
	if out.StatusCodes == nil {
		out.StatusCodes = map[string]int{}
	}
	if len(a.PerEventType)+len(b.PerEventType) > 0 {
		out.PerEventType = map[string]Percentiles{}
		for _, m := range []map[string]Percentiles{a.PerEventType, b.PerEventType} {
			for t, p := range m {
				out.PerEventType[t] = maxPercentiles(out.PerEventType[t], p)
			}
		}
	}
	return out
}

// ErrSameShard is wrapped by Merge when two reports' load sections cover the
// same shard of one run (the same report given twice): its requests would
// be counted twice.
var ErrSameShard = errors.New("the same shard of one run is in two reports")

// ErrOtherLoadRun is wrapped by Merge when load sections are shards of
// different runs, or of runs split differently: their sum describes no run.
var ErrOtherLoadRun = errors.New("load sections of different runs or shard layouts")

// checkLoad says whether b may be added to a: rates and counts add only
// over distinct shards of one run (or over distinct unsharded runs, each a
// generator of its own), on one latency measure. whole reports whether the
// sections are shards of one run, whose requested rate is the run's, not
// a sum.
func checkLoad(a, b *LoadSection) (whole bool, err error) {
	if a.LatencyFrom != b.LatencyFrom && a.latencyFrom() != b.latencyFrom() {
		return false, fmt.Errorf("latency %s cannot be merged with latency %s: LOAD-01 is judged on one measure", b.LatencyBasis(), a.LatencyBasis())
	}
	na, nb := shardCount(a.ShardSet), shardCount(b.ShardSet)
	if na <= 1 && nb <= 1 {
		if a.RunID != "" && a.RunID == b.RunID {
			return false, fmt.Errorf("run %q: %w", b.RunID, ErrSameShard)
		}
		return false, nil
	}
	switch {
	case na != nb:
		return false, fmt.Errorf("shards %s cannot be merged with shards %s: %w", strings.Join(b.ShardSet, ","), strings.Join(a.ShardSet, ","), ErrOtherLoadRun)
	case a.RunID != b.RunID:
		return false, fmt.Errorf("run %q differs from run %q: %w", b.RunID, a.RunID, ErrOtherLoadRun)
	case a.RequestedRate != b.RequestedRate:
		return false, fmt.Errorf("requested rate %g/s differs from %g/s in run %q: %w", b.RequestedRate, a.RequestedRate, a.RunID, ErrOtherLoadRun)
	}
	for _, s := range b.ShardSet {
		if slices.Contains(a.ShardSet, s) {
			return false, fmt.Errorf("shard %s of run %q: %w", s, b.RunID, ErrSameShard)
		}
	}
	return true, nil
}

func (l *LoadSection) latencyFrom() string {
	if l.LatencyFrom == "" {
		return LatencyFromSchedule
	}
	return l.LatencyFrom
}

// shardCount is the n of a shard set's "i/n" entries (0 without any; -1
// when they disagree, which no single run writes).
func shardCount(set []string) int {
	n := 0
	for _, s := range set {
		var i, m int
		if _, err := fmt.Sscanf(s, "%d/%d", &i, &m); err != nil || (n != 0 && m != n) {
			return -1
		}
		n = m
	}
	return n
}

// addWorkers adds two shards' workers: they run side by side, so the sum
// of their peaks bounds the run's concurrency from above. A shard that did
// not count its peak (vegeta's loop) leaves the sum's peak unknown (0); nil
// is the merge's empty starting value.
func addWorkers(a, b *Workers) *Workers {
	switch {
	case a == nil && b == nil:
		return nil
	case a == nil:
		c := *b
		return &c
	case b == nil:
		c := *a
		return &c
	}
	sum := &Workers{Peak: a.Peak + b.Peak, Bound: a.Bound + b.Bound}
	if a.Peak == 0 || b.Peak == 0 {
		sum.Peak = 0
	}
	return sum
}

func mergeLoad(a, b *LoadSection) (*LoadSection, error) {
	if b == nil {
		return a, nil
	}
	whole := false
	if a == nil {
		a = &LoadSection{LatencyFrom: b.LatencyFrom, RunID: b.RunID, Transport: b.Transport}
	} else {
		var err error
		if whole, err = checkLoad(a, b); err != nil {
			return nil, err
		}
	}
	requested := a.RequestedRate + b.RequestedRate
	if whole {
		requested = a.RequestedRate // the run's rate, which every shard records
	}
	shards := func(l *LoadSection) int {
		if l.Requests == 0 && l.Shards == 0 {
			return 0 // the empty starting value
		}
		return max(1, l.Shards)
	}
	out := &LoadSection{
		RequestedRate: requested,
		LatencyFrom:   a.LatencyFrom,
		BytesOut:      a.BytesOut + b.BytesOut,
		BytesIn:       a.BytesIn + b.BytesIn,
		Transport:     a.Transport,
		SentRate:      a.SentRate + b.SentRate,
		Throughput:    a.Throughput + b.Throughput,
		Requests:      a.Requests + b.Requests,
		LatencyMS:     maxLatency(a.LatencyMS, b.LatencyMS),
		StatusCodes:   addCounts(addCounts(nil, a.StatusCodes), b.StatusCodes),
		Errors:        addCounts(addCounts(nil, a.Errors), b.Errors),
		Retryable:     a.Retryable + b.Retryable,
		Lost:          a.Lost + b.Lost,
		LostEvents:    append(slices.Clone(a.LostEvents), b.LostEvents...),
		DurationS:     max(a.DurationS, b.DurationS),
		Histogram:     mergeBuckets(a.Histogram, b.Histogram),
		Shards:        shards(a) + shards(b),
		Workers:       addWorkers(a.Workers, b.Workers),
	}
	if out.Requests > 0 {
		out.SuccessRatio = (a.SuccessRatio*float64(a.Requests) + b.SuccessRatio*float64(b.Requests)) / float64(out.Requests)
	}
	if a.ServiceLatencyMS != nil || b.ServiceLatencyMS != nil {
		var x, y LatencyMS
		if a.ServiceLatencyMS != nil {
			x = *a.ServiceLatencyMS
		}
		if b.ServiceLatencyMS != nil {
			y = *b.ServiceLatencyMS
		}
		m := maxLatency(x, y)
		out.ServiceLatencyMS = &m
	}
	// Shards run side by side, so their capacities add up to what the
	// receiver took from all of them together.
	if a.CapacityRPS != nil || b.CapacityRPS != nil {
		var c float64
		for _, p := range []*float64{a.CapacityRPS, b.CapacityRPS} {
			if p != nil {
				c += *p
			}
		}
		out.CapacityRPS = &c
	}
	if out.StatusCodes == nil {
		out.StatusCodes = map[string]uint64{}
	}
	out.Series = mergeSeries(a.Series, b.Series)
	if a.Transport != b.Transport {
		out.Transport = "mixed"
	}
	if a.RunID == b.RunID {
		out.RunID = a.RunID
	}
	if whole || len(a.ShardSet) == 0 && a.Requests == 0 {
		out.ShardSet = slices.Sorted(slices.Values(append(slices.Clone(a.ShardSet), b.ShardSet...)))
	}
	return out, nil
}

// mergeSeries aligns points on T: rates and errors add up, percentiles
// take the maximum.
func mergeSeries(a, b []SeriesPoint) []SeriesPoint {
	if len(a) == 0 {
		return slices.Clone(b)
	}
	byT := map[float64]SeriesPoint{}
	for _, p := range append(slices.Clone(a), b...) {
		q := byT[p.T]
		byT[p.T] = SeriesPoint{T: p.T, Rate: q.Rate + p.Rate, P50: max(q.P50, p.P50), P99: max(q.P99, p.P99), Errors: q.Errors + p.Errors}
	}
	out := make([]SeriesPoint, 0, len(byT))
	for _, p := range byT {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].T < out[j].T })
	return out
}

// mergeNote is the caveat a merged report carries, "" when it is no merge.
func mergeNote(n int, loadExact bool) string {
	switch {
	case n < 2:
		return ""
	case loadExact:
		return fmt.Sprintf("merged from %d reports: delivery percentiles are the maximum over the shards, an upper bound; the load section is exact", n)
	}
	return fmt.Sprintf("merged from %d reports: latency percentiles are the maximum over the shards, an upper bound; an exact merge needs the raw results", n)
}

// ReplaceLoad puts a load section built from the whole run (the union of
// its shards' raw results) into r, with the LOAD-01 result judged on it
// and a note saying how it was built, in place of the load section and
// LOAD-01 result the shard reports had: those were judged on a part of
// the run. The merge note then says the load section is exact. r is
// decided again.
func (r *Report) ReplaceLoad(sec *LoadSection, load01 RequirementResult, note string) {
	reqs := make([]RequirementResult, 0, len(r.Requirements)+1)
	for _, q := range r.Requirements {
		if q.ID != load01.ID {
			reqs = append(reqs, q)
		}
	}
	r.Requirements = Complete(append(reqs, load01), r.Profile, "not judged from raw load results")
	r.Load = sec
	notes := []string{note}
	old := mergeNote(r.MergedFrom, r.LoadExact)
	r.LoadExact = true
	for _, n := range r.Notes {
		if old != "" && n == old {
			n = mergeNote(r.MergedFrom, true)
		}
		notes = append(notes, n)
	}
	r.Notes = notes
	r.Decide(r.Strict)
}
