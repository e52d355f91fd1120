package load

import (
	"net/http"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// BenchmarkTargeter measures what each hit costs before the network: a
// fresh event plus vegeta's request construction (events/s = 1e9/ns/op).
func BenchmarkTargeter(b *testing.B) {
	tr := newTargeter("http://127.0.0.1:18080/hook", harness.EventTypeNames(), 0, 1, 1, defaultSource)
	h := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer tok"}}
	hs, err := newHeaderSet(h)
	if err != nil {
		b.Fatal(err)
	}
	tr.header.Store(hs)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var tgt vegeta.Target
			if err := tr.target(&tgt); err != nil {
				b.Fatal(err)
			}
			if _, err := tgt.Request(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMetricsAdd measures the consumer's cost per result, which sits
// on vegeta's unbuffered results channel.
func BenchmarkMetricsAdd(b *testing.B) {
	m := NewMetrics(MetricsConfig{Start: t0})
	b.ReportAllocs()
	for i := range b.N {
		r := vegeta.Result{Seq: uint64(i), Timestamp: t0.Add(time.Duration(i) * 100 * time.Microsecond),
			Latency: time.Duration(i%10000) * time.Microsecond, Code: 200}
		m.Add(&r, time.Duration(i%7)*time.Microsecond)
	}
}
