package riskos

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/hookproof/hookproof/harness"
)

// DefaultMaxBody is the body-size limit a receiver is expected to enforce
// (VAL-03) when none is configured.
const DefaultMaxBody int64 = 1 << 20

// UnknownEventType is the well-formed event_type no RiskOS catalogue has,
// sent to check forward compatibility (VAL-05).
const UnknownEventType = "hookproof_unknown_event_v9"

// Hostile is a body a correct receiver must survive, labelled with the
// requirement that judges the answer to it.
type Hostile struct {
	// Name is unique within one HostileBodies result, for spec text and
	// reports.
	Name string
	// Requirement is the VAL-0x requirement ID.
	Requirement string
	// Body is the exact bytes to send: built by hand where json.Marshal
	// would repair the hostility (invalid UTF-8, duplicate keys).
	Body []byte
	// ContentType is the Content-Type to send with it.
	ContentType string
	// EventIDs are the event_ids the body carries, each fresh, so an effects
	// probe can check none of them was processed (or, for the bodies that
	// must be accepted, that each was processed once). Empty when the body
	// carries none (a number, null, a missing or non-string event_id).
	EventIDs []string
}

// Delivery returns h as a delivery: its body and content type, labelled
// "REQ name", with the first of its event_ids for the ledger.
func (h Hostile) Delivery(eventType string) Delivery {
	d := Delivery{EventType: eventType, Body: h.Body, ContentType: h.ContentType, Label: h.Requirement + " " + h.Name}
	if len(h.EventIDs) > 0 {
		d.EventID = h.EventIDs[0]
	}
	return d
}

// HostileBodies returns the VAL-01..VAL-07 bodies built from base, a valid
// event: every body that carries an event_id carries a fresh one. maxBody is
// the receiver's body limit (DefaultMaxBody if not positive): the VAL-03 body
// is one byte over it and the VAL-07 bodies stay under it. A base whose body
// is not a JSON object is replaced by a minimal envelope of its ID, Type and
// At, so bad input gives usable bodies, not a panic.
func HostileBodies(base harness.Event, maxBody int64) []Hostile {
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	e := parseEnvelope(base)
	var out []Hostile
	add := func(req, name, ctype string, body []byte, ids ...string) {
		if ctype == "" {
			ctype = "application/json"
		}
		out = append(out, Hostile{Name: name, Requirement: req, Body: body, ContentType: ctype, EventIDs: ids})
	}

	// VAL-01: not JSON, or JSON that is not an object.
	id := fresh()
	valid := e.with("event_id", jsonString(id)).encode()
	add("VAL-01", "truncated JSON", "", valid[:len(valid)/2], id)
	id = fresh()
	valid = e.with("event_id", jsonString(id)).encode()
	add("VAL-01", "trailing garbage", "", append(bytes.Clone(valid), "x"...), id)
	id = fresh()
	valid = e.with("event_id", jsonString(id)).encode()
	add("VAL-01", "two concatenated objects", "", append(bytes.Clone(valid), valid...), id)
	id = fresh()
	valid = e.with("event_id", jsonString(id)).encode()
	add("VAL-01", "trailing comma", "", append(bytes.Clone(valid[:len(valid)-1]), ",}"...), id)
	add("VAL-01", "empty body", "", []byte{})
	id = fresh()
	add("VAL-01", "JSON array of the event", "", wrap("[", e.with("event_id", jsonString(id)).encode(), "]"), id)
	id = fresh()
	add("VAL-01", "JSON string of the event", "", jsonString(string(e.with("event_id", jsonString(id)).encode())), id)
	add("VAL-01", "JSON number", "", []byte("42"))
	add("VAL-01", "JSON null", "", []byte("null"))

	// VAL-02: event_id or event_type missing, null, a number, empty.
	for _, field := range []string{"event_id", "event_type"} {
		for _, v := range []struct {
			name string
			raw  []byte // nil: field missing
		}{
			{"missing", nil},
			{"null", []byte("null")},
			{"a number", []byte("123")},
			{"an empty string", []byte(`""`)},
		} {
			id := fresh()
			b := e.with("event_id", jsonString(id))
			var ids []string
			if field == "event_type" {
				ids = []string{id}
			}
			if v.raw == nil {
				b = b.without(field)
			} else {
				b = b.with(field, v.raw)
			}
			add("VAL-02", field+" "+v.name, "", b.encode(), ids...)
		}
	}

	// VAL-03: valid JSON one byte over the limit, padded inside data.
	id = fresh()
	over := e.with("event_id", jsonString(id))
	bare := over.with("data", withField(over.get("data"), "hookproof_padding", []byte(`""`))).encode()
	pad := max(int(maxBody)+1-len(bare), 0)
	over = over.with("data", withField(over.get("data"), "hookproof_padding", wrap(`"`, bytes.Repeat([]byte("x"), pad), `"`)))
	add("VAL-03", "valid JSON over the size limit", "", over.encode(), id)

	// VAL-04: a valid event under a non-JSON media type.
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded"} {
		id = fresh()
		add("VAL-04", "valid event as "+ct, ct, e.with("event_id", jsonString(id)).encode(), id)
	}

	// VAL-05: a well-formed envelope with an event_type RiskOS does not have.
	id = fresh()
	add("VAL-05", "unknown event_type", "", e.with("event_id", jsonString(id)).with("event_type", jsonString(UnknownEventType)).encode(), id)

	// VAL-06: fields RiskOS may add later, at every level.
	extra := []byte(`{"added_by":"hookproof","nested":{"list":[1,"two",{"three":true}],"none":null}}`)
	id = fresh()
	add("VAL-06", "extra envelope fields", "", e.with("event_id", jsonString(id)).with("hookproof_extra", extra).with("schema_version", []byte(`"9.9"`)).encode(), id)
	id = fresh()
	add("VAL-06", "extra data fields", "", e.with("event_id", jsonString(id)).with("data", withField(e.get("data"), "hookproof_extra", extra)).encode(), id)

	// VAL-07: hostile JSON, every body under the size limit.
	room := max(int(maxBody)*9/10-len(e.encode())-256, 0) // bytes the hostile part may take
	depth := min(100_000, room/2)
	id = fresh()
	deep := wrap("", bytes.Repeat([]byte("["), depth), "")
	deep = append(deep, bytes.Repeat([]byte("]"), depth)...)
	add("VAL-07", "deeply nested arrays", "", e.with("event_id", jsonString(id)).with("data", withField(e.get("data"), "hookproof_deep", deep)).encode(), id)
	id = fresh()
	huge := wrap(`"`, bytes.Repeat([]byte("a"), room), `"`)
	add("VAL-07", "huge string", "", e.with("event_id", jsonString(id)).with("data", withField(e.get("data"), "hookproof_huge", huge)).encode(), id)
	id = fresh()
	arr := bytes.Repeat([]byte("0,"), room/2)
	if len(arr) > 0 {
		arr = arr[:len(arr)-1]
	}
	add("VAL-07", "huge array", "", e.with("event_id", jsonString(id)).with("data", withField(e.get("data"), "hookproof_array", wrap("[", arr, "]"))).encode(), id)
	id = fresh()
	add("VAL-07", "invalid UTF-8 in a string", "", e.with("event_id", jsonString(id)).with("data", withField(e.get("data"), "hookproof_note", []byte("\"bad \xc3\x28 byte\""))).encode(), id)
	id = fresh()
	add("VAL-07", "lone surrogate escape", "", e.with("event_id", jsonString(id)).with("data", withField(e.get("data"), "hookproof_note", []byte(`"\ud800"`))).encode(), id)
	first, second := fresh(), fresh()
	add("VAL-07", "duplicate event_id keys", "", e.with("event_id", jsonString(first)).appendRaw("event_id", jsonString(second)).encode(), first, second)
	id = fresh()
	add("VAL-07", "duplicate event_type keys", "", e.with("event_id", jsonString(id)).appendRaw("event_type", jsonString(UnknownEventType)).encode(), id)
	return out
}

// fresh returns a random event_id: seeded generators repeat their IDs from
// run to run, and a receiver that remembers them would skew the probe.
func fresh() string { return uuid.NewString() }

// envelope is an event's top-level members in order, values kept raw so the
// data a generator produced goes out byte for byte.
type envelope struct {
	keys []string
	vals [][]byte
}

func parseEnvelope(ev harness.Event) envelope {
	var e envelope
	dec := json.NewDecoder(bytes.NewReader(ev.Body))
	if tok, err := dec.Token(); err == nil && tok == json.Delim('{') {
		for dec.More() {
			k, err := dec.Token()
			key, ok := k.(string)
			var raw json.RawMessage
			if err != nil || !ok || dec.Decode(&raw) != nil {
				e = envelope{}
				break
			}
			e = e.with(key, raw)
		}
	}
	if len(e.keys) == 0 || e.get("data") == nil {
		at := ev.At
		if at.IsZero() {
			at = time.Now()
		}
		e = envelope{}.
			with("event_id", jsonString(ev.ID)).
			with("event_type", jsonString(ev.Type)).
			with("event_at", jsonString(at.UTC().Format(time.RFC3339Nano))).
			with("data", []byte("{}"))
	}
	return e
}

func (e envelope) get(key string) []byte {
	for i, k := range e.keys {
		if k == key {
			return e.vals[i]
		}
	}
	return nil
}

// with returns a copy with key set to raw, in place if present, else last.
func (e envelope) with(key string, raw []byte) envelope {
	c := envelope{keys: append([]string(nil), e.keys...), vals: append([][]byte(nil), e.vals...)}
	for i, k := range c.keys {
		if k == key {
			c.vals[i] = raw
			return c
		}
	}
	return c.appendRaw(key, raw)
}

// appendRaw returns a copy with key added at the end even if present, which
// is how a duplicate key is made.
func (e envelope) appendRaw(key string, raw []byte) envelope {
	return envelope{keys: append(append([]string(nil), e.keys...), key), vals: append(append([][]byte(nil), e.vals...), raw)}
}

func (e envelope) without(key string) envelope {
	var c envelope
	for i, k := range e.keys {
		if k != key {
			c = c.appendRaw(k, e.vals[i])
		}
	}
	return c
}

func (e envelope) encode() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range e.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(jsonString(k))
		b.WriteByte(':')
		b.Write(e.vals[i])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// withField returns the JSON object obj with key:raw as its first member.
// A data value that is not an object becomes an object holding only it.
func withField(obj []byte, key string, raw []byte) []byte {
	trimmed := bytes.TrimSpace(obj)
	var b bytes.Buffer
	b.WriteByte('{')
	b.Write(jsonString(key))
	b.WriteByte(':')
	b.Write(raw)
	if len(trimmed) >= 2 && trimmed[0] == '{' {
		rest := bytes.TrimSpace(trimmed[1:])
		if len(rest) > 0 && rest[0] != '}' {
			b.WriteByte(',')
		}
		b.Write(rest)
		return b.Bytes()
	}
	b.WriteByte('}')
	return b.Bytes()
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

func wrap(open string, mid []byte, close string) []byte {
	b := make([]byte, 0, len(open)+len(mid)+len(close))
	return append(append(append(b, open...), mid...), close...)
}
