package riskos

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/hookproof/hookproof/harness"
)

const baseBody = `{"event_type": "evaluation_completed", "event_id": "3b31289c-2d4a-4107-80bc-dda63031d5a0", "event_at": "2025-07-17T01:20:01Z", "data": {"eval_id": "11111111-2222-3333-4444-555555555555", "decision": "ACCEPT", "tags": []}}`

func baseEvent() harness.Event {
	return harness.Event{
		ID:   "3b31289c-2d4a-4107-80bc-dda63031d5a0",
		Type: "evaluation_completed",
		At:   time.Date(2025, 7, 17, 1, 20, 1, 0, time.UTC),
		Body: []byte(baseBody),
	}
}

// object decodes a body that must be one valid JSON object.
func object(t *testing.T, h Hostile) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(h.Body))
	if err := dec.Decode(&m); err != nil || dec.More() {
		t.Fatalf("%s: body is not one JSON object (%v)", h.Name, err)
	}
	return m
}

func byName(hs []Hostile) map[string]Hostile {
	m := map[string]Hostile{}
	for _, h := range hs {
		m[h.Name] = h
	}
	return m
}

func TestHostileBodiesAreLabelledAndCarryFreshIDs(t *testing.T) {
	hs := HostileBodies(baseEvent(), 0)
	names := map[string]bool{}
	ids := map[string]bool{}
	perReq := map[string]int{}
	for _, h := range hs {
		if names[h.Name] {
			t.Errorf("name %q is not unique", h.Name)
		}
		names[h.Name] = true
		perReq[h.Requirement]++
		if h.ContentType == "" {
			t.Errorf("%s: no content type", h.Name)
		}
		for _, id := range h.EventIDs {
			if _, err := uuid.Parse(id); err != nil || id == baseEvent().ID || ids[id] {
				t.Errorf("%s: event_id %q is not a fresh UUID", h.Name, id)
			}
			ids[id] = true
			if !bytes.Contains(h.Body, []byte(id)) {
				t.Errorf("%s: body does not carry its event_id %s", h.Name, id)
			}
		}
	}
	for _, req := range []string{"VAL-01", "VAL-02", "VAL-03", "VAL-04", "VAL-05", "VAL-06", "VAL-07"} {
		if perReq[req] == 0 {
			t.Errorf("no hostile body for %s", req)
		}
	}
	if again := HostileBodies(baseEvent(), 0); again[0].EventIDs[0] == hs[0].EventIDs[0] {
		t.Errorf("a second call reused event_id %s; want fresh IDs every call", hs[0].EventIDs[0])
	}
}

func TestHostileBodiesVAL01AreNotJSONObjects(t *testing.T) {
	for _, h := range HostileBodies(baseEvent(), 0) {
		if h.Requirement != "VAL-01" {
			continue
		}
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(h.Body))
		if err := dec.Decode(&m); err == nil && !dec.More() && m != nil {
			t.Errorf("%s: %q decodes as one JSON object; want malformed or non-object JSON", h.Name, h.Body)
		}
	}
}

func TestHostileBodiesVAL02BreakEventIDAndType(t *testing.T) {
	hs := byName(HostileBodies(baseEvent(), 0))
	for _, field := range []string{"event_id", "event_type"} {
		for name, want := range map[string]any{"missing": "absent", "null": nil, "a number": float64(123), "an empty string": ""} {
			h, ok := hs[field+" "+name]
			if !ok || h.Requirement != "VAL-02" {
				t.Errorf("no VAL-02 body %q", field+" "+name)
				continue
			}
			m := object(t, h)
			got, present := m[field]
			if want == "absent" {
				if present {
					t.Errorf("%s: %s present; want missing", h.Name, field)
				}
			} else if !present || got != want {
				t.Errorf("%s: %s = %#v; want %#v", h.Name, field, got, want)
			}
			if _, ok := m["data"].(map[string]any); !ok {
				t.Errorf("%s: data is not an object: only %s is broken", h.Name, field)
			}
		}
	}
}

func TestHostileBodiesVAL03IsValidJSONJustOverTheLimit(t *testing.T) {
	for _, limit := range []int64{0, 4096, 100} {
		want := limit
		if want == 0 {
			want = DefaultMaxBody
		}
		h := byName(HostileBodies(baseEvent(), limit))["valid JSON over the size limit"]
		if int64(len(h.Body)) <= want || (int64(len(baseBody)) < want && int64(len(h.Body)) != want+1) {
			t.Errorf("limit %d: body is %d bytes; want %d", want, len(h.Body), want+1)
		}
		m := object(t, h)
		data := m["data"].(map[string]any)
		if data["eval_id"] != "11111111-2222-3333-4444-555555555555" || m["event_id"] != h.EventIDs[0] {
			t.Errorf("limit %d: the padded event lost its fields: %v", want, data["eval_id"])
		}
	}
}

func TestHostileBodiesVAL04To06AreValidEvents(t *testing.T) {
	for _, h := range HostileBodies(baseEvent(), 0) {
		switch h.Requirement {
		case "VAL-04", "VAL-05", "VAL-06":
		default:
			continue
		}
		m := object(t, h)
		if m["event_id"] != h.EventIDs[0] || m["event_at"] != "2025-07-17T01:20:01Z" {
			t.Errorf("%s: envelope %v; want the base envelope with a fresh event_id", h.Name, m)
		}
		data, _ := m["data"].(map[string]any)
		if data["eval_id"] != "11111111-2222-3333-4444-555555555555" {
			t.Errorf("%s: data lost its fields: %v", h.Name, data)
		}
		switch h.Requirement {
		case "VAL-04":
			if strings.Contains(h.ContentType, "json") {
				t.Errorf("%s: content type %q; want a non-JSON one", h.Name, h.ContentType)
			}
		case "VAL-05":
			if m["event_type"] != UnknownEventType {
				t.Errorf("%s: event_type %v; want %s", h.Name, m["event_type"], UnknownEventType)
			}
		case "VAL-06":
			_, top := m["hookproof_extra"]
			_, inData := data["hookproof_extra"]
			if !top && !inData {
				t.Errorf("%s: no extra field", h.Name)
			}
		}
		if h.Requirement != "VAL-04" && h.ContentType != "application/json" {
			t.Errorf("%s: content type %q; want application/json", h.Name, h.ContentType)
		}
	}
}

func TestHostileBodiesVAL07StayUnderTheLimit(t *testing.T) {
	hs := byName(HostileBodies(baseEvent(), 0))
	for _, h := range hs {
		if h.Requirement == "VAL-07" && int64(len(h.Body)) >= DefaultMaxBody {
			t.Errorf("%s: %d bytes; want under the %d-byte limit", h.Name, len(h.Body), DefaultMaxBody)
		}
	}
	if n := bytes.Count(hs["deeply nested arrays"].Body, []byte("[")); n < 100_000 {
		t.Errorf("deep nesting: %d levels; want at least 100000", n)
	}
	if n := len(hs["huge string"].Body); n < 900<<10 {
		t.Errorf("huge string body: %d bytes; want at least 900 KiB", n)
	}
	if n := bytes.Count(hs["huge array"].Body, []byte(",")); n < 400_000 {
		t.Errorf("huge array: %d elements; want at least 400000", n)
	}
	if b := hs["invalid UTF-8 in a string"].Body; utf8.Valid(b) || !bytes.Contains(b, []byte{0xc3, 0x28}) {
		t.Errorf("invalid UTF-8 body is valid UTF-8: json.Marshal must not have repaired it")
	}
	if !bytes.Contains(hs["lone surrogate escape"].Body, []byte(`"\ud800"`)) {
		t.Errorf("lone surrogate body lacks the escape")
	}
	dup := hs["duplicate event_id keys"]
	if n := bytes.Count(dup.Body, []byte(`"event_id":`)); n != 2 || len(dup.EventIDs) != 2 {
		t.Errorf("duplicate event_id: %d keys, %d IDs; want 2, 2", n, len(dup.EventIDs))
	}
	if n := bytes.Count(hs["duplicate event_type keys"].Body, []byte(`"event_type":`)); n != 2 {
		t.Errorf("duplicate event_type: %d keys; want 2", n)
	}
	// The well-formed ones must be JSON that a depth-unlimited reader accepts.
	for _, name := range []string{"huge string", "huge array", "duplicate event_id keys"} {
		if !json.Valid(hs[name].Body) {
			t.Errorf("%s: not valid JSON", name)
		}
	}
}

func TestHostileBodiesSurviveABadBase(t *testing.T) {
	for _, base := range []harness.Event{
		{},
		{ID: "x", Type: "t", Body: []byte("not json")},
		{ID: "x", Type: "t", Body: []byte(`[1,2]`)},
		{ID: "x", Type: "t", Body: []byte(`{"event_id":`)},
		{ID: "x", Type: "t", Body: []byte(`{"data":"a string"}`)},
	} {
		hs := HostileBodies(base, 1)
		h := byName(hs)["unknown event_type"]
		m := object(t, h)
		if m["event_type"] != UnknownEventType || m["data"] == nil {
			t.Errorf("base %q: VAL-05 body %s; want a valid envelope", base.Body, h.Body)
		}
		for _, h := range hs {
			if h.Requirement == "VAL-06" || h.Requirement == "VAL-03" {
				object(t, h)
			}
		}
	}
}

func TestHostileDeliveryGoesOutByteForByte(t *testing.T) {
	rec := &recorder{}
	srv := serve(t, rec)
	s := newSender(t, loopConfig(srv.URL), WithAuthorizer(noAuth{}))
	hs := byName(HostileBodies(baseEvent(), 0))
	for _, name := range []string{"invalid UTF-8 in a string", "valid event as text/plain", "duplicate event_id keys"} {
		h := hs[name]
		d := h.Delivery("evaluation_completed")
		a := s.Send(t.Context(), d)
		if a.Status != http.StatusOK || a.EventID != h.EventIDs[0] || a.Label != h.Requirement+" "+h.Name {
			t.Errorf("%s: attempt %+v", name, a)
		}
		reqs := rec.Requests()
		got := reqs[len(reqs)-1]
		if !bytes.Equal(got.Body, h.Body) || got.Header.Get("Content-Type") != h.ContentType {
			t.Errorf("%s: receiver got %d bytes as %q; want the body exactly, as %q", name, len(got.Body), got.Header.Get("Content-Type"), h.ContentType)
		}
	}
}

func TestDeliveryOfIsThePlainRiskOSDelivery(t *testing.T) {
	ev := baseEvent()
	d := DeliveryOf(ev)
	if d.EventID != ev.ID || d.EventType != ev.Type || !bytes.Equal(d.Body, ev.Body) {
		t.Errorf("DeliveryOf(ev) = %+v; want the event's ID, type and body", d)
	}
	if d.Method != "" || d.ContentType != "" || d.Header != nil || d.NoAuth || d.Authorize != nil || d.URL != "" {
		t.Errorf("DeliveryOf(ev) departs from RiskOS: %+v", d)
	}
}
