package load

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactQuantile is the ceil(q·n)-th smallest value, the definition
// Histogram.Quantile approximates.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	r := max(int(math.Ceil(q*float64(len(sorted)))), 1)
	return sorted[r-1]
}

func TestHistogramQuantilesWithinErrorBound(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	h := NewHistogram(fineBits)
	var all []time.Duration
	for range 200_000 {
		// Log-normal around 2 ms with a long tail, like real ack latencies.
		d := time.Duration(math.Exp(rng.NormFloat64()*1.2) * float64(2*time.Millisecond))
		all = append(all, d)
		h.Record(d)
	}
	slices.Sort(all)
	bound := 1.0 / (1 << fineBits)
	for _, q := range []float64{0.5, 0.9, 0.95, 0.99, 0.999, 1} {
		got, want := h.Quantile(q), exactQuantile(all, q)
		if rel := math.Abs(float64(got-want)) / float64(want); rel > bound {
			t.Errorf("Quantile(%g) = %s; want %s within %.2f%% (off by %.3f%%)", q, got, want, 100*bound, 100*rel)
		}
	}
	if h.Max() != all[len(all)-1] || h.Min() != all[0] {
		t.Errorf("Max, Min = %s, %s; want %s, %s exactly", h.Max(), h.Min(), all[len(all)-1], all[0])
	}
	if h.Count() != uint64(len(all)) {
		t.Errorf("Count() = %d; want %d", h.Count(), len(all))
	}
}

func TestHistogramExactBelowSubBucketRange(t *testing.T) {
	t.Parallel()
	h := NewHistogram(fineBits)
	for v := range 100 {
		h.Record(time.Duration(v + 1)) // 1..100 ns, all exact buckets
	}
	if got := h.Quantile(0.5); got != 50 {
		t.Errorf("Quantile(0.5) of 1..100ns = %d; want 50", got)
	}
	if got := h.Quantile(0.99); got != 99 {
		t.Errorf("Quantile(0.99) of 1..100ns = %d; want 99", got)
	}
}

func TestHistogramMemoryIndependentOfObservations(t *testing.T) {
	t.Parallel()
	h := NewHistogram(fineBits)
	size := len(h.counts)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1_000_000 {
		h.Record(time.Duration(rng.Int64N(int64(time.Hour))))
	}
	h.Record(-time.Second)     // clock skew must not panic
	h.Record(1000 * time.Hour) // beyond the tracked range: top bucket
	if len(h.counts) != size || cap(h.counts) != size {
		t.Errorf("buckets grew from %d to len %d cap %d after 1e6 observations", size, len(h.counts), cap(h.counts))
	}
	if size > 5000 {
		t.Errorf("fine histogram has %d buckets; want a fixed ~4.5k", size)
	}
	if h.Max() != 1000*time.Hour {
		t.Errorf("Max() = %s; want the exact 1000h", h.Max())
	}
}

func TestHistogramMergeEqualsRecordingAll(t *testing.T) {
	t.Parallel()
	a, b, all := NewHistogram(fineBits), NewHistogram(fineBits), NewHistogram(fineBits)
	for i := range 10_000 {
		d := time.Duration(i*i) * time.Microsecond / 7
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
		all.Record(d)
	}
	if !a.Merge(b) {
		t.Fatal("Merge of equal precision returned false")
	}
	for _, q := range []float64{0.1, 0.5, 0.99, 0.999} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("merged Quantile(%g) = %s; want %s", q, a.Quantile(q), all.Quantile(q))
		}
	}
	if a.Count() != all.Count() || a.Min() != all.Min() || a.Max() != all.Max() {
		t.Errorf("merged count/min/max = %d/%s/%s; want %d/%s/%s", a.Count(), a.Min(), a.Max(), all.Count(), all.Min(), all.Max())
	}
	if a.Merge(NewHistogram(coarseBits)) {
		t.Error("Merge of different precisions returned true")
	}
}

func TestHistogramBucketsCoverEveryObservation(t *testing.T) {
	t.Parallel()
	h := NewHistogram(fineBits)
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * 37 * time.Microsecond)
	}
	bs := h.Buckets(8)
	var n uint64
	for i, b := range bs {
		n += b.Count
		if b.FromMS >= b.ToMS || (i > 0 && b.FromMS < bs[i-1].ToMS) {
			t.Fatalf("bucket %d = %+v is empty or overlaps the previous one", i, b)
		}
	}
	if n != 1000 {
		t.Errorf("buckets hold %d observations; want 1000", n)
	}
	if len(bs) > 8*41 {
		t.Errorf("%d buckets; want at most 8 per octave", len(bs))
	}
}
