package load

import (
	"math"

	"github.com/hookproof/hookproof/reports"
)

// Section is report.json's load part for the run, for certify's report,
// hookproof load's and a merge of shard results alike. The section's main
// latency is the one measured from the scheduled send, so a receiver that
// makes the generator fall behind shows it. The section type belongs to
// reports (it is report data, and reports does not import the engine); the
// engine fills it because only the engine knows its own summary.
func (s *Summary) Section() *reports.LoadSection {
	sec := &reports.LoadSection{
		RequestedRate: s.RequestedRate, SentRate: s.SentRate, Throughput: s.Throughput, Requests: s.Requests,
		SuccessRatio: s.SuccessRatio, LatencyMS: latencyOf(s.ResponseLatencyMS), StatusCodes: s.StatusCodes,
		Errors: s.Errors, Retryable: s.Retryable, Lost: s.Lost, DurationS: s.DurationS,
		LatencyFrom: s.latencyFrom(), RunID: s.RunID, Transport: s.Transport,
		BytesOut: s.BytesOut, BytesIn: s.BytesIn, Workers: s.Workers,
	}
	if s.Shard.N > 0 {
		sec.ShardSet = []string{s.Shard.String()}
	}
	service := latencyOf(s.LatencyMS)
	sec.ServiceLatencyMS = &service
	if sec.StatusCodes == nil {
		sec.StatusCodes = map[string]uint64{}
	}
	if s.CapacityRPS > 0 {
		c := s.CapacityRPS
		sec.CapacityRPS = &c
	}
	for _, l := range s.LostEvents {
		sec.LostEvents = append(sec.LostEvents, reports.LostEvent{EventID: l.EventID, Status: l.Status, Error: l.ErrorClass, BodyExcerpt: l.BodyExcerpt, AnswerExcerpt: l.AnswerExcerpt})
	}
	width := s.SeriesWidthS
	for _, p := range s.Series {
		rate := 0.0
		if width > 0 {
			rate = float64(p.Requests) / width
		}
		sec.Series = append(sec.Series, reports.SeriesPoint{T: p.TS, Rate: rate, P50: p.P50MS, P99: p.ResponseP99MS, Errors: p.Errors})
	}
	for _, b := range s.Histogram {
		sec.Histogram = append(sec.Histogram, reports.Bucket{UpperMS: b.ToMS, Count: int(min(b.Count, math.MaxInt32))})
	}
	return sec
}

func latencyOf(q Quantiles) reports.LatencyMS {
	return reports.LatencyMS{P50: q.P50, P90: q.P90, P95: q.P95, P99: q.P99, P999: q.P999, Max: q.Max}
}

// latencyFrom is what ResponseLatencyMS is measured from: the schedule,
// unless the summary was built from raw results that hold none.
func (s *Summary) latencyFrom() string {
	if s.NoSchedule {
		return reports.LatencyFromSend
	}
	return reports.LatencyFromSchedule
}
