package riskos_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/hookproof/hookproof/fakes/riskos"
	"github.com/hookproof/hookproof/harness"
)

// A receiver that is briefly unavailable gets the event on the third
// attempt; the waits RiskOS would sleep are recorded beside the compressed
// ones actually slept.
func ExampleSender_SendWithRetry() {
	var calls atomic.Int32
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer rx.Close()

	cfg := harness.DefaultConfig()
	cfg.Target = rx.URL
	cfg.Retry.TimeScale = 0.001 // 2 s becomes 2 ms
	s, err := riskos.New(cfg, riskos.WithObserver(func(a harness.Attempt) {
		fmt.Printf("attempt %d: %d after %v (RiskOS: %v)\n", a.Attempt, a.Status, a.Wait, a.RealWait)
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	out := s.SendWithRetry(context.Background(), riskos.Delivery{
		EventID:   "3b31289c-2d4a-4107-80bc-dda63031d5a0",
		EventType: "evaluation_completed",
		Body:      []byte(`{"event_id":"3b31289c-2d4a-4107-80bc-dda63031d5a0","event_type":"evaluation_completed","event_at":"2025-07-17T01:20:01Z","data":{}}`),
	})
	fmt.Println("acked:", out.Acked, "ledger:", s.Ledger().Len())
	// Output:
	// attempt 1: 503 after 0s (RiskOS: 0s)
	// attempt 2: 503 after 2ms (RiskOS: 2s)
	// attempt 3: 200 after 4ms (RiskOS: 4s)
	// acked: true ledger: 3
}
