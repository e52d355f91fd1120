package load

import (
	"math"
	"math/bits"
	"time"
)

// Histogram is a log-bucketed latency histogram in the spirit of HDR
// Histogram: values below 2^subBits ns are counted exactly, larger ones in
// buckets whose width is a 2^-subBits fraction of their lower bound, so every
// quantile it reports is within that relative error. Its size is fixed at
// construction and does not grow with the number of observations; two
// histograms of the same precision merge exactly, which t-digests do not.
//
// A Histogram is not safe for concurrent use.
type Histogram struct {
	subBits uint
	counts  []uint64
	total   uint64
	sum     float64 // ns; float so that long runs cannot overflow
	min     time.Duration
	max     time.Duration
}

// maxTrackable is the largest latency a histogram distinguishes (about 18
// minutes); larger values are counted in the top bucket and still reported
// exactly as max. No bounded load run waits that long for one answer.
const maxTrackable = time.Duration(1)<<40 - 1

// Precision of the histograms the engine keeps: the summary's quantiles are
// within 1/128 (0.8 %); the per-window series within 1/16 (6 %), which is
// plenty for a chart and keeps a window at ~5 KB.
const (
	fineBits   = 7
	coarseBits = 4
)

// NewHistogram returns an empty histogram whose quantiles are within a
// relative error of 2^-subBits (subBits is clamped to 1..10).
func NewHistogram(subBits int) *Histogram {
	subBits = min(max(subBits, 1), 10)
	h := &Histogram{subBits: uint(subBits)}
	h.counts = make([]uint64, h.index(maxTrackable)+1)
	return h
}

// index maps a latency to its bucket.
func (h *Histogram) index(d time.Duration) int {
	v := uint64(max(d, 0))
	if v > uint64(maxTrackable) {
		v = uint64(maxTrackable)
	}
	sub := uint64(1) << h.subBits
	if v < sub {
		return int(v)
	}
	shift := uint(bits.Len64(v)) - h.subBits - 1
	return int(sub + uint64(shift)*sub + (v>>shift - sub))
}

// bounds returns the half-open latency interval [lo, hi) of bucket i.
func (h *Histogram) bounds(i int) (lo, hi time.Duration) {
	sub := 1 << h.subBits
	if i < sub {
		return time.Duration(i), time.Duration(i + 1)
	}
	shift := uint((i - sub) / sub)
	m := uint64(sub + (i-sub)%sub)
	return time.Duration(m << shift), time.Duration((m + 1) << shift)
}

// Record counts one latency.
func (h *Histogram) Record(d time.Duration) {
	if h.total == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.counts[h.index(d)]++
	h.total++
	h.sum += float64(d)
}

// Count returns how many latencies were recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Max returns the largest latency recorded, exactly.
func (h *Histogram) Max() time.Duration { return h.max }

// Min returns the smallest latency recorded, exactly.
func (h *Histogram) Min() time.Duration { return h.min }

// Mean returns the mean latency, exactly up to float rounding.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.total))
}

// Quantile returns the latency at quantile q in [0, 1]: the midpoint of the
// bucket holding the ceil(q·n)-th smallest value, clamped to [Min, Max] so
// that p100 is the exact maximum.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 || math.IsNaN(q) {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		seen += c
		if seen >= rank {
			lo, hi := h.bounds(i)
			mid := lo + (hi-lo)/2
			return min(max(mid, h.min), h.max)
		}
	}
	return h.max
}

// Merge adds every observation of o into h. Both must have the same
// precision; a mismatch is a programming error and merges nothing.
func (h *Histogram) Merge(o *Histogram) bool {
	if o == nil || o.subBits != h.subBits {
		return false
	}
	if o.total == 0 {
		return true
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	return true
}

// Reset empties the histogram, keeping its buckets allocated.
func (h *Histogram) Reset() {
	clear(h.counts)
	h.total, h.sum, h.min, h.max = 0, 0, 0, 0
}

// HistogramBucket is one bar of a latency histogram chart.
type HistogramBucket struct {
	FromMS float64 `json:"from_ms"`
	ToMS   float64 `json:"to_ms"`
	Count  uint64  `json:"count"`
}

// Buckets returns the non-empty buckets coarsened to perOctave bars per
// doubling of latency (a power of two, at most 2^subBits), in increasing
// order, for charts. The result has at most ~40·perOctave entries whatever
// the run length.
func (h *Histogram) Buckets(perOctave int) []HistogramBucket {
	sub := 1 << h.subBits
	perOctave = min(max(perOctave, 1), sub)
	group := sub / perOctave
	var out []HistogramBucket
	for start := 0; start < len(h.counts); start += group {
		end := min(start+group, len(h.counts))
		var n uint64
		for _, c := range h.counts[start:end] {
			n += c
		}
		if n == 0 {
			continue
		}
		lo, _ := h.bounds(start)
		_, hi := h.bounds(end - 1)
		out = append(out, HistogramBucket{FromMS: ms(lo), ToMS: ms(hi), Count: n})
	}
	return out
}

// ms converts a duration to fractional milliseconds for reports.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
