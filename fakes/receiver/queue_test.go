package receiver

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hookproof/hookproof/harness"
)

// blockingWork returns a Work function that reports each event it starts on
// started and then blocks until release is closed.
func blockingWork(started chan<- string, release <-chan struct{}) func(context.Context, Event) {
	return func(_ context.Context, ev Event) {
		started <- ev.ID
		<-release
	}
}

func TestFullQueueAnswers503WithRetryAfterAndTheRetryIsProcessed(t *testing.T) {
	t.Parallel()
	started := make(chan string, 8)
	release := make(chan struct{})
	o := authOptions(harness.AuthBearer)
	o.Workers, o.QueueSize = 1, 1
	o.Work = blockingWork(started, release)
	s := startServer(t, o)
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	a, b, c := newID(), newID(), newID()
	if r := deliver(t, s, validEvent(a)); r.status != http.StatusOK {
		t.Fatalf("first event = %d; want 200", r.status)
	}
	if got := <-started; got != a { // the only worker now holds a
		t.Fatalf("worker started %s; want %s", got, a)
	}
	if r := deliver(t, s, validEvent(b)); r.status != http.StatusOK {
		t.Fatalf("second event (fills the queue) = %d; want 200", r.status)
	}
	r := deliver(t, s, validEvent(c))
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "1" {
		t.Fatalf("event beyond the queue = %d Retry-After %q; want 503 with Retry-After 1", r.status, r.header.Get("Retry-After"))
	}
	// The answer did not wait for the blocked worker (it is still blocked).
	close(release)
	if got := <-started; got != b {
		t.Fatalf("worker started %s; want %s", got, b)
	}
	// RiskOS retries the 503: the released claim lets it through once.
	if r := deliver(t, s, validEvent(c)); r.status != http.StatusOK || !strings.Contains(r.body, "accepted") {
		t.Fatalf("retry of the 503'd event = %d %s; want 200 accepted", r.status, r.body)
	}
	<-started
	for _, id := range []string{a, b, c} {
		if n := probeCount(t, s, id); n != 1 {
			t.Errorf("%s processed %d times; want 1", id, n)
		}
	}
}

func TestCloseWaitsForInFlightRequests(t *testing.T) {
	t.Parallel()
	started := make(chan string, 1)
	release := make(chan struct{})
	o := authOptions(harness.AuthNone)
	// slow-ack processes inside the request, so a blocked Work keeps the
	// request in flight.
	o.Faults = []Fault{FaultSlowAck}
	o.AckBudget = 1
	o.Work = blockingWork(started, release)
	s, err := NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	statusc := make(chan int, 1)
	go func() {
		resp, err := testClient.Post(s.WebhookURL(), "application/json", bytes.NewReader(validEvent(newID())))
		if err != nil {
			statusc <- 0
			return
		}
		resp.Body.Close()
		statusc <- resp.StatusCode
	}()
	<-started
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while a request was in flight")
	case st := <-statusc:
		t.Fatalf("request finished (%d) before it was released", st)
	default:
	}
	close(release)
	if st := <-statusc; st != http.StatusOK {
		t.Errorf("in-flight request = %d; want 200 (completed, not cut)", st)
	}
	<-closed
	if n := s.Receiver().Processed(); n != 1 {
		t.Errorf("processed %d; want 1", n)
	}
}
