package harness

import (
	crand "crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Generator produces realistic, schema-valid RiskOS webhook events from a
// seeded pseudo-random source: the same seed yields the same sequence of
// events, so a failing run can be replayed. Optional fields come and go, enum
// values vary within what the RiskOS documentation gives, timestamps carry 0
// to 9 fractional digits and the envelope's key order changes now and then,
// because receivers must cope with all of it.
//
// The seed fixes content and order, not identity: event_ids also depend on a
// run nonce, drawn from crypto/rand for every Generator unless WithRunNonce
// pins it. A team that pins a seed and certifies a persistent receiver twice
// must not have the second run's events deduplicated against the first's.
//
// A Generator is not safe for concurrent use; it is cheap to create, so give
// each goroutine its own (with distinct seeds).
type Generator struct {
	rng     *rand.Rand
	clock   int64  // Unix seconds of the latest event_at; only moves forward
	scratch []byte // the data object of the event being built
	// now, when set, stamps event_at from the wall clock (see NewLiveGenerator).
	now func() time.Time
	// idKey is mixed into every event_id (and nothing else), so two
	// generators with one seed and different nonces share no event_id.
	idKey [2]uint64
	// variant, while EventWithVariant builds an event, is the field and
	// value to put in it; nil on the normal path.
	variant *SpellingVariant
}

// generatorEpoch (2025-01-01T00:00:00Z) anchors generated timestamps in the
// period the RiskOS documentation examples come from.
const generatorEpoch = 1735689600

// GeneratorOption adjusts a Generator at construction.
type GeneratorOption func(*Generator)

// WithRunNonce pins the run nonce mixed into event_ids, for tests and for
// output that must be reproducible byte for byte (printing samples). Two
// generators with the same seed and nonce produce identical events; a
// generator that delivers to a receiver should keep the random default.
func WithRunNonce(nonce uint64) GeneratorOption {
	return func(g *Generator) { g.idKey = runKeys(nonce) }
}

// NewRunNonce returns a fresh run nonce from crypto/rand, for a caller that
// wants several generators (or a record of the run) to share one.
func NewRunNonce() uint64 {
	var b [8]byte
	_, _ = crand.Read(b[:]) // crypto/rand never fails since Go 1.24
	return binary.LittleEndian.Uint64(b[:])
}

// runKeys spreads a nonce over the two halves of an event_id.
func runKeys(nonce uint64) [2]uint64 {
	return [2]uint64{mix64(nonce), mix64(nonce ^ 0x6a09e667f3bcc909)}
}

// mix64 is SplitMix64's finaliser, a bijection on 64 bits: distinct draws
// stay distinct under one key, and a different key scatters them anew.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// NewGenerator returns a Generator seeded with seed. Its content comes from
// math/rand/v2's PCG, never from crypto/rand: determinism is the point. Only
// the event_ids take the run nonce (see WithRunNonce).
func NewGenerator(seed int64, opts ...GeneratorOption) *Generator {
	g := &Generator{
		rng:   rand.New(rand.NewPCG(uint64(seed), 0x853c49e6748fea9b)),
		idKey: runKeys(NewRunNonce()),
	}
	g.clock = generatorEpoch + g.rng.Int64N(400*86400)
	for _, o := range opts {
		o(g)
	}
	return g
}

// NewLiveGenerator is NewGenerator for events sent now: event_at is the
// wall clock minus 1 to 5 s, as RiskOS stamps an event it is delivering,
// instead of a synthetic clock in 2025-2026 that advances 1.5 s per event.
// A receiver may refuse events that are implausibly old or in the future
// (a replay guard), and it would be right to. Everything but event_at and
// event_id is still deterministic for a seed.
func NewLiveGenerator(seed int64, now func() time.Time, opts ...GeneratorOption) *Generator {
	g := NewGenerator(seed, opts...)
	g.now = now
	return g
}

// Event returns a fresh event of the given catalogue type. An event_type
// outside the catalogue is an error wrapping ErrUnknownEventType.
func (g *Generator) Event(eventType string) (Event, error) {
	if eventTypeIndex(eventType) < 0 {
		return Event{}, fmt.Errorf("harness: generate event_type %q: %w", eventType, ErrUnknownEventType)
	}
	id, at, body := g.appendEvent(make([]byte, 0, 1024), eventType)
	return Event{ID: string(id[:]), Type: eventType, At: at, Body: body}, nil
}

// Random returns a fresh event of a type drawn uniformly from the catalogue.
func (g *Generator) Random() Event {
	t := eventTypes[g.rng.IntN(len(eventTypes))].Name
	id, at, body := g.appendEvent(make([]byte, 0, 1024), t)
	return Event{ID: string(id[:]), Type: t, At: at, Body: body}
}

// AppendBody appends a fresh event body of the given type to dst and returns
// its event_id and the extended buffer. An event_type outside the catalogue
// yields a valid envelope carrying that type and a minimal data object:
// exactly what a forward-compatibility check (an unknown but well-formed
// event) needs.
func (g *Generator) AppendBody(dst []byte, eventType string) (id string, body []byte) {
	qid, _, body := g.appendEvent(dst, eventType)
	return string(qid[:]), body
}

// AppendEvent is AppendBody without the event_id string: the load engine's
// path, which allocates nothing once dst has grown (the id is in the body,
// where the engine finds it for the rare event it reports).
func (g *Generator) AppendEvent(dst []byte, eventType string) []byte {
	_, _, body := g.appendEvent(dst, eventType)
	return body
}

// stamp is a generated timestamp and the number of fractional digits it is
// written with.
type stamp struct {
	sec    int64
	nsec   int32
	digits int
}

func (s stamp) time() time.Time { return time.Unix(s.sec, int64(s.nsec)).UTC() }

// fracDigits weights the fractional precision: whole seconds (the envelope
// examples), milliseconds and nanoseconds (the evaluation examples) are the
// common cases, every other width still shows up.
var fracDigits = [...]int{0, 0, 0, 0, 3, 3, 3, 9, 9, 9, 1, 2, 4, 5, 6, 7, 8}

func (g *Generator) stamp(sec int64) stamp {
	d := fracDigits[g.rng.IntN(len(fracDigits))]
	return stamp{sec: sec, nsec: truncNanos(int32(g.rng.IntN(1e9)), d), digits: d}
}

// appendEvent builds one event: the data object first (in scratch), then the
// envelope around it in one of a few key orders.
func (g *Generator) appendEvent(dst []byte, eventType string) (id [36]byte, _ time.Time, _ []byte) {
	if step := g.rng.Int64N(4); g.now != nil {
		g.clock = g.now().Unix() - step - 1 // the fraction stamp adds up to 1 s
	} else {
		g.clock += step
	}
	at := g.stamp(g.clock)
	// The id takes its two draws from the seeded stream like any other
	// UUID, so the content after it does not depend on the nonce.
	var idbuf [38]byte
	qid := appendUUIDv4(idbuf[:0], mix64(g.rng.Uint64()^g.idKey[0]), mix64(g.rng.Uint64()^g.idKey[1]))
	copy(id[:], qid[1:len(qid)-1])
	g.scratch = g.appendData(g.scratch[:0], eventType, at)

	field := func(b []byte, f byte) []byte {
		switch f {
		case 't':
			b = append(b, `"event_type":`...)
			return appendJSONString(b, eventType)
		case 'i':
			b = append(b, `"event_id":`...)
			return append(b, qid...)
		case 'a':
			b = append(b, `"event_at":`...)
			return appendTimestamp(b, at.sec, at.nsec, at.digits)
		default:
			b = append(b, `"data":`...)
			return append(b, g.scratch...)
		}
	}
	// The documented example orders the keys type, id, at, data; the watchlist
	// tables list id, at, type. Key order carries no meaning, so now and then
	// the data comes first.
	order := "tiad"
	switch r := g.rng.IntN(100); {
	case r < 15:
		order = "itad"
	case r < 25:
		order = "iatd"
	case r < 30:
		order = "dait"
	}
	dst = append(dst, '{')
	for i := 0; i < len(order); i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = field(dst, order[i])
	}
	dst = append(dst, '}')
	return id, at.time(), dst
}

// appendData writes the data object for eventType.
func (g *Generator) appendData(b []byte, eventType string, at stamp) []byte {
	switch eventType {
	case "evaluation_completed":
		return g.appendEvaluation(b, evalCompleted, at, "")
	case "evaluation_paused":
		return g.appendEvaluation(b, evalPaused, at, "")
	case "reevaluation":
		return g.appendEvaluation(b, evalRerun, at, "")
	case "workflow_execution_failed":
		return g.appendFailed(b, at)
	case "decision_update":
		return g.appendDecisionUpdate(b, at)
	case "fraud_confirming":
		return g.appendFraud(b)
	case "review_case_assigned":
		return g.appendAssignment(b, 95)
	case "review_case_unassigned":
		return g.appendAssignment(b, 60)
	case "case_status_updated":
		return g.appendCaseStatus(b)
	case "case_notes_added":
		return g.appendCaseNotes(b)
	case "case_attachment_added":
		return g.appendAttachments(b)
	default:
		o := objw{b: append(b, '{')}
		o.key("id")
		o.b = g.appendClientID(o.b)
		o.key("eval_id")
		o.uuid(g)
		return append(o.b, '}')
	}
}

// objw writes the members of one JSON object, placing the commas.
type objw struct {
	b []byte
	n int
}

func (o *objw) key(k string) {
	if o.n > 0 {
		o.b = append(o.b, ',')
	}
	o.n++
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

func (o *objw) str(k, v string) {
	o.key(k)
	o.b = appendJSONString(o.b, v)
}

func (o *objw) raw(k, v string) {
	o.key(k)
	o.b = append(o.b, v...)
}

func (o *objw) uuid(g *Generator) {
	o.b = appendUUIDv4(o.b, g.rng.Uint64(), g.rng.Uint64())
}

func (o *objw) time(k string, s stamp) {
	o.key(k)
	o.b = appendTimestamp(o.b, s.sec, s.nsec, s.digits)
}

// chance reports true with probability pct percent.
func (g *Generator) chance(pct int) bool { return g.rng.IntN(100) < pct }

func (g *Generator) pick(vs []string) string { return vs[g.rng.IntN(len(vs))] }

// appendPicks writes a JSON array of min to max strings drawn from vs.
func (g *Generator) appendPicks(o *objw, k string, vs []string, min, max int) {
	o.key(k)
	o.b = append(o.b, '[')
	for i := range min + g.rng.IntN(max-min+1) {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = appendJSONString(o.b, vs[g.rng.IntN(len(vs))])
	}
	o.b = append(o.b, ']')
}

// appendClientID appends a JSON string imitating the client-defined
// data.id: documented ones look like "onb-12345",
// "client-transaction-12345" or a UUID; free text is allowed, so a few
// carry characters a receiver must unescape. It appends in place (no
// string per event), which the load engine's zero-allocation path needs.
func (g *Generator) appendClientID(b []byte) []byte {
	n := g.rng.IntN(100)
	switch {
	case n < 35:
		b = strconv.AppendInt(append(b, `"onb-`...), int64(10000+g.rng.IntN(90000)), 10)
	case n < 60:
		b = strconv.AppendInt(append(b, `"client-transaction-`...), int64(g.rng.IntN(1000000)), 10)
	case n < 90:
		return appendUUIDv4(b, g.rng.Uint64(), g.rng.Uint64()) // quoted
	case n < 97:
		b = strconv.AppendUint(append(b, `"app_`...), g.rng.Uint64(), 36)
	case n < 99:
		b = strconv.AppendInt(append(b, `"Kundennr. Müller-`...), int64(g.rng.IntN(1000)), 10)
	default:
		b = strconv.AppendInt(append(b, `"ref \"A/B\" \\ line`...), int64(g.rng.IntN(10)), 10)
	}
	return append(b, '"')
}

// appendCore writes the identifying core that case events very likely share,
// as the one fully documented case webhook (the watchlist case closure) does:
// id, eval_id, workflow, environment_name, each inferred field present most
// of the time.
func (g *Generator) appendCore(o *objw) {
	if g.chance(90) {
		o.key("id")
		o.b = g.appendClientID(o.b)
	}
	o.key("eval_id")
	o.uuid(g)
	if g.chance(95) {
		o.str("workflow", workflows[g.rng.IntN(len(workflows))].name)
	}
}

func (g *Generator) appendEnvironment(o *objw) {
	if g.chance(97) {
		o.str("environment_name", g.pick(environments))
	}
}

func (g *Generator) appendFailed(b []byte, at stamp) []byte {
	o := objw{b: append(b, '{')}
	wf := workflows[g.rng.IntN(len(workflows))]
	if g.chance(90) {
		o.key("id")
		o.b = g.appendClientID(o.b)
	}
	o.key("eval_id")
	o.uuid(g)
	if g.chance(95) {
		o.str("workflow", wf.name)
	}
	if g.chance(95) {
		o.str("workflow_id", wf.id)
	}
	if g.chance(95) {
		o.str("workflow_version", g.pick(wf.versions))
	}
	if g.chance(95) {
		o.str("eval_source", g.pick(evalSources))
	}
	start := g.stamp(at.sec - 1 - g.rng.Int64N(120))
	if g.chance(95) {
		o.time("eval_start_time", start)
	}
	if g.chance(20) {
		o.time("eval_end_time", g.stamp(at.sec-g.rng.Int64N(2)))
	}
	if g.chance(10) {
		o.str("decision", g.pick(decisionsManual))
	}
	if g.chance(90) {
		if g.chance(80) {
			o.str("eval_status", "evaluation_in_progress")
		} else {
			o.str("eval_status", "evaluation_paused")
		}
	}
	g.appendEnvironment(&o)
	return append(o.b, '}')
}

func (g *Generator) appendDecisionUpdate(b []byte, at stamp) []byte {
	// The event "updates" the evaluation, so it may equally carry the whole
	// evaluation object.
	if g.chance(20) {
		return g.appendEvaluation(b, evalManual, at, g.pick(reviewers))
	}
	o := objw{b: append(b, '{')}
	g.appendCore(&o)
	o.str("decision", g.vary(ptrDecision, g.pick(decisionsManual)))
	// The status is drawn whether or not it is written, so a variant event
	// that forces it keeps the rest of the stream in step.
	if has, st := g.has(ptrStatus, 80), g.pick(statusesCase); has {
		o.str("status", g.vary(ptrStatus, st))
	}
	if g.chance(80) {
		o.str("sub_status", g.pick(subStatuses))
	}
	if g.chance(30) {
		o.str("notes", g.pick(reviewerNotes))
	}
	if g.chance(95) {
		o.str("reviewer_id", g.pick(reviewers))
	}
	g.appendEnvironment(&o)
	return append(o.b, '}')
}

func (g *Generator) appendFraud(b []byte) []byte {
	o := objw{b: append(b, '{')}
	g.appendCore(&o)
	fraud := g.chance(60)
	if g.chance(95) {
		if fraud {
			o.str("fraud_label", "fraud")
		} else {
			o.str("fraud_label", "non-fraud")
		}
	}
	if fraud && g.chance(60) {
		o.str("fraud_type", g.pick(fraudTypes))
	}
	if g.chance(60) {
		o.str("notes", g.pick(reviewerNotes))
	}
	if g.chance(95) {
		o.str("reviewer_id", g.pick(reviewers))
	}
	g.appendEnvironment(&o)
	return append(o.b, '}')
}

func (g *Generator) appendAssignment(b []byte, reviewerPct int) []byte {
	o := objw{b: append(b, '{')}
	g.appendCore(&o)
	if g.chance(reviewerPct) {
		o.str("reviewer_id", g.pick(reviewers))
	}
	g.appendEnvironment(&o)
	return append(o.b, '}')
}

func (g *Generator) appendCaseStatus(b []byte) []byte {
	o := objw{b: append(b, '{')}
	g.appendCore(&o)
	if has, st := g.has(ptrStatus, 95), g.pick(statusesCase); has {
		o.str("status", g.vary(ptrStatus, st))
	}
	if g.chance(90) {
		o.str("sub_status", g.pick(caseSubStatuses))
	}
	if g.chance(85) {
		o.str("reviewer_id", g.pick(reviewers))
	}
	g.appendEnvironment(&o)
	return append(o.b, '}')
}

func (g *Generator) appendCaseNotes(b []byte) []byte {
	o := objw{b: append(b, '{')}
	g.appendCore(&o)
	// DocV progress notes are written by the "Webhook" reviewer.
	if g.chance(60) {
		o.str("notes", g.pick(docvNotes))
		o.str("reviewer_id", "Webhook")
	} else {
		o.str("notes", g.pick(reviewerNotes))
		o.str("reviewer_id", g.pick(reviewers))
	}
	g.appendEnvironment(&o)
	return append(o.b, '}')
}

func (g *Generator) appendAttachments(b []byte) []byte {
	o := objw{b: append(b, '{')}
	g.appendCore(&o)
	if g.chance(95) {
		o.key("attachments")
		o.b = append(o.b, '[')
		n := 1 + g.rng.IntN(3)
		if g.chance(5) {
			n = 0
		}
		for i := range n {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			a := objw{b: append(o.b, '{')}
			a.str("file_name", g.pick(fileNames))
			o.b = append(a.b, '}')
		}
		o.b = append(o.b, ']')
	}
	if g.chance(90) {
		o.str("reviewer_id", g.pick(reviewers))
	}
	g.appendEnvironment(&o)
	return append(o.b, '}')
}

// base64PNG returns a deterministic fake PNG of n bytes as the data URI a
// DocV request response carries in qrCode; sep is what follows the comma
// (the documented example has a space there).
func base64PNG(n int, sep string) string {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	img := make([]byte, n)
	copy(img, "\x89PNG\r\n\x1a\n")
	for i := 8; i < n; i++ {
		img[i] = byte(r.Uint32())
	}
	return "data:image/png;base64," + sep + base64.StdEncoding.EncodeToString(img)
}
