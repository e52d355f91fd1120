package harness

import (
	"bytes"
	"testing"
	"time"
)

// A live generator stamps event_at from the wall clock (a receiver may
// refuse year-old events as replays), and keeps everything else seeded.
func TestLiveGeneratorStampsNow(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	g := NewLiveGenerator(7, func() time.Time { return now })
	for range 200 {
		ev, err := g.Event("decision_update")
		if err != nil {
			t.Fatal(err)
		}
		if age := now.Sub(ev.At); age < 0 || age > 5*time.Second {
			t.Fatalf("event_at %s is %s before now; want 0..5 s", ev.At, age)
		}
		if err := ValidateEvent(ev.Body); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := NewLiveGenerator(7, func() time.Time { return now }, WithRunNonce(3)).Event("decision_update")
	b, _ := NewLiveGenerator(7, func() time.Time { return now }, WithRunNonce(3)).Event("decision_update")
	if !bytes.Equal(a.Body, b.Body) {
		t.Error("same seed, nonce and clock gave different events")
	}
}
