package load

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// overloadSink answers 503 to the n-th delivery when n%3 == 0 and 400 when
// n%50 == 49, 200 otherwise: a receiver shedding load, with a bug.
func overloadStatus(n int) int {
	switch {
	case n%3 == 0:
		return http.StatusServiceUnavailable
	case n%50 == 49:
		return http.StatusBadRequest
	}
	return http.StatusOK
}

func TestRetryUnderOverloadReconciles(t *testing.T) {
	t.Parallel()
	s := newSink(t, func(n int) int {
		if n%3 == 0 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	cfg := testConfig(s.URL)
	var mu sync.Mutex
	redelivered := map[string]int{}
	redeliver := func(_ context.Context, id string, body []byte) (bool, int, error) {
		mu.Lock()
		defer mu.Unlock()
		redelivered[id]++
		return len(body) > 0, 2, nil
	}
	rec, err := RetryUnderOverload(context.Background(), cfg, OverloadOptions{
		Burst: Options{Rate: 0, MaxRequests: 300, Duration: 10 * time.Second, MaxWorkers: 4},
	}, testAuth(t, cfg), redeliver)
	if err != nil {
		t.Fatal(err)
	}
	shed := map[string]bool{}
	for _, d := range s.deliveries() {
		if d.status == 503 {
			shed[d.id] = true
		}
	}
	if rec.Events != 300 || rec.Retried != uint64(len(shed)) || rec.AckedAfterRetry != rec.Retried {
		t.Errorf("events, retried, acked after retry = %d, %d, %d; want 300, %d, all", rec.Events, rec.Retried, rec.AckedAfterRetry, len(shed))
	}
	if rec.RetryAttempts != 2*rec.Retried || rec.AckedFirst+rec.AckedAfterRetry != 300 {
		t.Errorf("attempts %d, acked first %d; want 2 per retry and every event acked", rec.RetryAttempts, rec.AckedFirst)
	}
	for id := range shed {
		if redelivered[id] != 1 {
			t.Errorf("event %s answered 503 was redelivered %d times; want once", id, redelivered[id])
		}
	}
	if len(redelivered) != len(shed) {
		t.Errorf("%d events redelivered; want exactly the %d shed ones", len(redelivered), len(shed))
	}
	if !rec.OK() {
		t.Errorf("reconciliation %+v is not OK", rec)
	}
}

func TestRetryUnderOverloadFindsLostEvents(t *testing.T) {
	t.Parallel()
	s := newSink(t, overloadStatus)
	cfg := testConfig(s.URL)
	var mu sync.Mutex
	var gaveUp string
	redeliver := func(_ context.Context, id string, _ []byte) (bool, int, error) {
		mu.Lock()
		defer mu.Unlock()
		if gaveUp == "" {
			gaveUp = id // the retry loop exhausts its schedule for one event
			return false, 10, nil
		}
		return true, 1, nil
	}
	rec, err := RetryUnderOverload(context.Background(), cfg, OverloadOptions{
		Burst: Options{Rate: 0, MaxRequests: 150, Duration: 10 * time.Second, MaxWorkers: 4},
	}, testAuth(t, cfg), redeliver)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{gaveUp: 503}
	for _, d := range s.deliveries() {
		if d.status == 400 {
			want[d.id] = 400
		}
	}
	if rec.OK() || rec.LostCount != uint64(len(want)) {
		t.Fatalf("OK %v, lost %d; want not OK with %d lost (400s and the exhausted one)", rec.OK(), rec.LostCount, len(want))
	}
	for _, le := range rec.Lost {
		if want[le.EventID] != le.Status {
			t.Errorf("lost %s with status %d; want %d", le.EventID, le.Status, want[le.EventID])
		}
	}
}

func TestRetryUnderOverloadRejectsDuplicates(t *testing.T) {
	t.Parallel()
	cfg := testConfig("http://127.0.0.1:1/")
	_, err := RetryUnderOverload(context.Background(), cfg, OverloadOptions{Burst: Options{Rate: 10, Duration: time.Second, DuplicateRatio: 0.1}}, nil,
		func(context.Context, string, []byte) (bool, int, error) { return true, 1, nil })
	if err == nil {
		t.Error("a burst with duplicates was accepted: first deliveries would be ambiguous")
	}
}
