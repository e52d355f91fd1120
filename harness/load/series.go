package load

import "time"

// SeriesPoint is one window of the latency-over-time series: what completed
// in [T, T+width) after the start of the run.
type SeriesPoint struct {
	// TS is the offset of the window from the start of the run, in seconds.
	TS       float64 `json:"t_s"`
	Requests uint64  `json:"requests"`
	OK       uint64  `json:"ok"`
	Errors   uint64  `json:"errors"`
	// P50MS, P99MS and MaxMS are service latencies; ResponseP99MS is measured
	// from the scheduled send time. After windows are merged (see series) the
	// quantiles are the larger of the merged windows', an upper bound.
	P50MS         float64 `json:"p50_ms"`
	P99MS         float64 `json:"p99_ms"`
	MaxMS         float64 `json:"max_ms"`
	ResponseP99MS float64 `json:"response_p99_ms"`
}

// merge folds o, the window right after p, into p.
func (p *SeriesPoint) merge(o SeriesPoint) {
	p.Requests += o.Requests
	p.OK += o.OK
	p.Errors += o.Errors
	p.P50MS = max(p.P50MS, o.P50MS)
	p.P99MS = max(p.P99MS, o.P99MS)
	p.MaxMS = max(p.MaxMS, o.MaxMS)
	p.ResponseP99MS = max(p.ResponseP99MS, o.ResponseP99MS)
}

// series downsamples a run into at most maxPoints windows. Results are
// bucketed by completion time, which is the order they arrive in; a result
// that completes in an already closed window (rare: results overtake each
// other by microseconds) is counted in the open one. When the point count
// would exceed the cap, adjacent windows are merged pairwise and the width
// doubles, so memory is bounded whatever the run length.
type series struct {
	start     time.Time
	width     time.Duration
	maxPoints int

	points []SeriesPoint
	// carry is a closed window that belongs to the same (doubled) window as
	// the open one after a merge; it is folded in when the open one closes.
	carry *SeriesPoint
	// open is the index of the open window, in units of width; it is always
	// len(points), since closed windows are contiguous from 0.
	open     int
	svc, rsp *Histogram
	ok, errs uint64
}

func newSeries(start time.Time, width time.Duration, maxPoints int) *series {
	return &series{
		start: start, width: max(width, time.Millisecond), maxPoints: max(maxPoints, 2),
		svc: NewHistogram(coarseBits), rsp: NewHistogram(coarseBits),
	}
}

// add counts one completed request.
func (s *series) add(end time.Time, service, response time.Duration, ok bool) {
	// Windows in which nothing completed become empty points: a stall is data.
	for s.index(end) > s.open {
		s.close()
	}
	s.svc.Record(service)
	s.rsp.Record(response)
	if ok {
		s.ok++
	} else {
		s.errs++
	}
}

// index is the window, in units of the current width, that end falls in.
func (s *series) index(end time.Time) int { return int(max(end.Sub(s.start), 0) / s.width) }

func (s *series) offset(k int) float64 { return (time.Duration(k) * s.width).Seconds() }

// close turns the open window into a point and opens the next one.
func (s *series) close() {
	p := SeriesPoint{
		TS: s.offset(s.open), Requests: s.svc.Count(), OK: s.ok, Errors: s.errs,
		P50MS: ms(s.svc.Quantile(0.5)), P99MS: ms(s.svc.Quantile(0.99)), MaxMS: ms(s.svc.Max()),
		ResponseP99MS: ms(s.rsp.Quantile(0.99)),
	}
	if s.carry != nil {
		c := *s.carry
		c.merge(p)
		p, s.carry = c, nil
	}
	s.svc.Reset()
	s.rsp.Reset()
	s.ok, s.errs = 0, 0
	s.push(p)
	s.open = len(s.points)
}

// push appends a closed point, halving the resolution when over the cap.
func (s *series) push(p SeriesPoint) {
	s.points = append(s.points, p)
	// Closed points stay below the cap, so with the open window a
	// snapshot holds at most maxPoints.
	if len(s.points) < s.maxPoints {
		return
	}
	merged := s.points[:0]
	for i := 0; i+1 < len(s.points); i += 2 {
		a := s.points[i]
		a.merge(s.points[i+1])
		merged = append(merged, a)
	}
	if len(s.points)%2 == 1 {
		last := s.points[len(s.points)-1]
		s.carry = &last
	}
	s.points = merged
	s.width *= 2
}

// snapshot returns the closed points plus the open window, without closing
// it, so a live view can chart a run in progress.
func (s *series) snapshot() (points []SeriesPoint, width time.Duration) {
	points = append([]SeriesPoint(nil), s.points...)
	if s.svc.Count() > 0 || s.carry != nil {
		p := SeriesPoint{
			TS: s.offset(s.open), Requests: s.svc.Count(), OK: s.ok, Errors: s.errs,
			P50MS: ms(s.svc.Quantile(0.5)), P99MS: ms(s.svc.Quantile(0.99)), MaxMS: ms(s.svc.Max()),
			ResponseP99MS: ms(s.rsp.Quantile(0.99)),
		}
		if s.carry != nil {
			c := *s.carry
			c.merge(p)
			p = c
		}
		points = append(points, p)
	}
	return points, s.width
}
