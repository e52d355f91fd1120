package harness

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

// The seed fixes content and order; the run nonce alone decides event_ids.
func TestSameSeedSameContentFreshIDs(t *testing.T) {
	t.Parallel()
	const n = 2000
	gens := []*Generator{
		NewGenerator(42, WithRunNonce(1)),
		NewGenerator(42, WithRunNonce(2)),
		NewGenerator(42), // random nonces, as a run gets them
		NewGenerator(42),
	}
	owner := map[string]int{}
	bodies := make([][][]byte, len(gens))
	for gi, g := range gens {
		for range n {
			ev := g.Random()
			if prev, ok := owner[ev.ID]; ok {
				t.Fatalf("generators %d and %d share event_id %s", prev, gi, ev.ID)
			}
			owner[ev.ID] = gi
			bodies[gi] = append(bodies[gi], bytes.Replace(ev.Body, []byte(ev.ID), []byte("ID"), 1))
		}
	}
	for gi := 1; gi < len(gens); gi++ {
		for i := range n {
			if !bytes.Equal(bodies[0][i], bodies[gi][i]) {
				t.Fatalf("generator %d event %d differs beyond event_id:\n%s\n%s", gi, i, bodies[gi][i], bodies[0][i])
			}
		}
	}
}

// Live generators stamp event_at from the clock, so only event_id and
// event_at may differ between two of one seed. The clock is one stopped
// instant: the data times follow the clock too, and two reads of a running
// clock straddle a second now and then.
func TestLiveSameSeedSameContent(t *testing.T) {
	t.Parallel()
	at := time.Now()
	clock := func() time.Time { return at }
	a := NewLiveGenerator(5, clock)
	b := NewLiveGenerator(5, clock)
	for i := range 500 {
		x, y := a.Random(), b.Random()
		if x.ID == y.ID {
			t.Fatalf("event %d: both generators used event_id %s", i, x.ID)
		}
		vx, _ := decodeBody(x.Body)
		vy, _ := decodeBody(y.Body)
		for _, v := range []any{vx, vy} {
			delete(v.(map[string]any), "event_id")
			delete(v.(map[string]any), "event_at")
		}
		if !reflect.DeepEqual(vx, vy) {
			t.Fatalf("event %d differs beyond event_id and event_at:\n%s\n%s", i, x.Body, y.Body)
		}
	}
}

func TestNewRunNonceVaries(t *testing.T) {
	t.Parallel()
	if NewRunNonce() == NewRunNonce() {
		t.Error("two run nonces are equal")
	}
}
