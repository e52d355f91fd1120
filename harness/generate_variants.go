package harness

import (
	"errors"
	"fmt"
)

// SpellingVariant is a value the RiskOS documentation leaves open for a field
// whose documented vocabulary spells it otherwise: plausible RiskOS output
// that a receiver should accept, but that the normal generator never sends,
// so that a receiver strict about the documented vocabulary fails only the
// check about variants.
type SpellingVariant struct {
	EventType  string // the event type that carries it
	Pointer    string // JSON pointer of the field in the event, e.g. "/data/status"
	Value      string // the variant, e.g. "ON HOLD"
	Documented string // the documented value it stands beside, e.g. "ON_HOLD"
	Source     string // where the documentation gives it, in words
}

// ErrUnknownVariant is wrapped by EventWithVariant for a variant that
// SpellingVariants does not list.
var ErrUnknownVariant = errors.New("harness: not a documented spelling variant")

const (
	ptrStatus   = "/data/status"
	ptrDecision = "/data/decision"

	srcOnHold = "the API enum of the case status is OPEN, ON_HOLD, CLOSED, but the text of " +
		"PUT /api/evaluation/{eval_id}/state, through which a reviewer sets it, writes \"ON HOLD\" with a space"
	srcDecision = "the Evaluation API schema gives the default decisions as ACCEPT, REVIEW, REJECT, " +
		"while the API's own tag text and an older event table give them as APPROVE, REVIEW, DECLINE"
)

var spellingVariants = [...]SpellingVariant{
	{"case_status_updated", ptrStatus, "ON HOLD", "ON_HOLD", srcOnHold},
	{"decision_update", ptrStatus, "ON HOLD", "ON_HOLD", srcOnHold},
	{"evaluation_paused", ptrStatus, "ON HOLD", "ON_HOLD", srcOnHold},
	{"evaluation_completed", ptrDecision, "APPROVE", "ACCEPT", srcDecision},
	{"evaluation_completed", ptrDecision, "DECLINE", "REJECT", srcDecision},
}

// SpellingVariants lists the documented spelling variants, one per event
// type and field it plausibly appears in. The slice is the caller's.
func SpellingVariants() []SpellingVariant {
	return append([]SpellingVariant(nil), spellingVariants[:]...)
}

// EventWithVariant returns a fresh, schema-valid event of v.EventType whose
// field at v.Pointer holds v.Value; the rest is what Event would have given
// at this point of the sequence. A variant SpellingVariants does not list is
// an error wrapping ErrUnknownVariant.
func (g *Generator) EventWithVariant(v SpellingVariant) (Event, error) {
	known := false
	for _, sv := range spellingVariants {
		known = known || sv.EventType == v.EventType && sv.Pointer == v.Pointer && sv.Value == v.Value
	}
	if !known {
		return Event{}, fmt.Errorf("harness: %s %s = %q: %w", v.EventType, v.Pointer, v.Value, ErrUnknownVariant)
	}
	g.variant = &v
	defer func() { g.variant = nil }()
	return g.Event(v.EventType)
}

// vary returns the value to write at ptr: the variant when the event being
// built carries one there, v otherwise.
func (g *Generator) vary(ptr, v string) string {
	if g.variant != nil && g.variant.Pointer == ptr {
		return g.variant.Value
	}
	return v
}

// has reports whether the optional field at ptr is written: with
// probability pct, and always when it is to carry the variant. The draw is
// made either way, so a variant event differs from the normal one only in
// that field.
func (g *Generator) has(ptr string, pct int) bool {
	c := g.chance(pct)
	return c || g.variant != nil && g.variant.Pointer == ptr
}
