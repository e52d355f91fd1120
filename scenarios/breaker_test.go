package scenarios

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
)

func TestBreakerTripsAfterConsecutiveSilence(t *testing.T) {
	b := NewBreaker(3)
	b.Observe(harness.Attempt{ErrorClass: harness.ErrTimeout})
	b.Observe(harness.Attempt{ErrorClass: harness.ErrTimeout})
	b.Observe(harness.Attempt{Status: 503}) // an answer resets the count
	b.Observe(harness.Attempt{ErrorClass: harness.ErrTimeout})
	b.Observe(harness.Attempt{ErrorClass: harness.ErrReset}) // the receiver acting: neither
	b.Observe(harness.Attempt{ErrorClass: harness.ErrRefused})
	if b.Reason() != "" {
		t.Fatalf("tripped after 2 silent attempts in a row: %q", b.Reason())
	}
	b.Observe(harness.Attempt{ErrorClass: harness.ErrTimeout})
	select {
	case <-b.Done():
	default:
		t.Fatal("not tripped after 3 silent attempts in a row")
	}
	if b.Reason() != ReasonStopped {
		t.Errorf("reason %q", b.Reason())
	}
	b.Trip("later reason")
	if b.Reason() != ReasonStopped {
		t.Errorf("a later trip replaced the first reason: %q", b.Reason())
	}
}

// A request stuck on a target that never answers ends when the breaker
// trips, and later requests fail at once.
func TestBreakerTransportCancelsInFlight(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	b := NewBreaker(0)
	c := &http.Client{Transport: b.Transport(nil)}
	errc := make(chan error, 1)
	go func() {
		resp, err := c.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-arrived
	b.Trip("deadline")
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("the in-flight request succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the in-flight request was not cancelled")
	}
	_, err := c.Get(srv.URL)
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("request after the trip: %v", err)
	}
}
