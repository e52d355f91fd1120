package receiver

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/hookproof/hookproof/harness"
)

// withData returns a valid envelope whose data is the raw JSON data.
func withData(id, data string) []byte {
	return []byte(`{"event_type":"evaluation_completed","event_id":"` + id + `","event_at":"2025-07-17T01:20:01Z","data":` + data + `}`)
}

func TestBodiesAreJudgedAsReceiverChecksExpects(t *testing.T) {
	t.Parallel()
	o := authOptions(harness.AuthBearer)
	o.MaxBody = 1 << 20
	s := startServer(t, o)
	deep := strings.Repeat("[", 200000) + strings.Repeat("]", 200000)
	cases := []struct {
		name        string
		contentType string
		body        []byte
		want        int
		processed   bool
	}{
		// I-01..I-03, VAL-01: malformed JSON is 400.
		{"truncated", "application/json", []byte(`{"event_id":"a","event_type":`), 400, false},
		{"trailing garbage", "application/json", append(validEvent(newID()), 'x'), 400, false},
		{"two objects", "application/json", append(validEvent(newID()), []byte(`}{`)...), 400, false},
		{"trailing comma", "application/json", []byte(`{"event_id":"a","event_type":"b",}`), 400, false},
		{"single quotes", "application/json", []byte(`{'event_id':'a'}`), 400, false},
		{"empty body", "application/json", nil, 400, false},
		{"array", "application/json", []byte(`[]`), 400, false},
		{"string", "application/json", []byte(`"x"`), 400, false},
		// VAL-02, I-06..I-08: the envelope is strict.
		{"event_id missing", "application/json", []byte(`{"event_type":"evaluation_completed","event_at":"2025-07-17T01:20:01Z","data":{}}`), 400, false},
		{"event_id null", "application/json", []byte(`{"event_id":null,"event_type":"evaluation_completed","event_at":"2025-07-17T01:20:01Z","data":{}}`), 400, false},
		{"event_id number", "application/json", []byte(`{"event_id":123,"event_type":"evaluation_completed","event_at":"2025-07-17T01:20:01Z","data":{}}`), 400, false},
		{"event_id empty", "application/json", []byte(`{"event_id":"","event_type":"evaluation_completed","event_at":"2025-07-17T01:20:01Z","data":{}}`), 400, false},
		{"event_type missing", "application/json", []byte(`{"event_id":"` + newID() + `","event_at":"2025-07-17T01:20:01Z","data":{}}`), 400, false},
		{"event_type null", "application/json", []byte(`{"event_id":"` + newID() + `","event_type":null,"event_at":"2025-07-17T01:20:01Z","data":{}}`), 400, false},
		{"event_type number", "application/json", []byte(`{"event_id":"` + newID() + `","event_type":7,"event_at":"2025-07-17T01:20:01Z","data":{}}`), 400, false},
		{"event_type empty", "application/json", []byte(`{"event_id":"` + newID() + `","event_type":"","event_at":"2025-07-17T01:20:01Z","data":{}}`), 400, false},
		{"event_id upper-case key", "application/json", []byte(`{"EVENT_ID":"` + newID() + `","event_type":"x","event_at":"2025-07-17T01:20:01Z","data":{}}`), 400, false},
		{"event_at not RFC 3339", "application/json", []byte(`{"event_id":"` + newID() + `","event_type":"x","event_at":"yesterday","data":{}}`), 400, false},
		{"data a string", "application/json", withData(newID(), `"x"`), 400, false},
		// VAL-07, I-13..I-15: hostile JSON is 400, never 5xx.
		{"deep nesting", "application/json", withData(newID(), `{"a":`+deep+`}`), 400, false},
		{"invalid UTF-8", "application/json", withData(newID(), "{\"name\":\"\xC3\x28\"}"), 400, false},
		{"lone surrogate", "application/json", withData(newID(), `{"name":"\ud800"}`), 400, false},
		{"duplicate event_id", "application/json", []byte(`{"event_id":"` + newID() + `","event_type":"x","event_at":"2025-07-17T01:20:01Z","event_id":"` + newID() + `"}`), 400, false},
		{"duplicate key in data", "application/json", withData(newID(), `{"a":1,"\u0061":2}`), 400, false},
		// Legitimate even if large or odd: accepted.
		{"huge string", "application/json", withData(newID(), `{"s":"`+strings.Repeat("a", 900<<10)+`"}`), 200, true},
		{"huge array", "application/json", withData(newID(), `{"a":[`+strings.Repeat("1,", 200000)+`1]}`), 200, true},
		{"big integer", "application/json", withData(newID(), `{"n":123456789012345678901234567890}`), 200, true},
		{"BOM", "application/json", append([]byte("\xEF\xBB\xBF"), validEvent(newID())...), 200, true},
		{"extra fields", "application/json", []byte(`{"event_id":"` + newID() + `","event_type":"evaluation_completed","event_at":"2025-07-17T01:20:01Z","extra":{"x":[1]},"data":{"new_field":true}}`), 200, true},
		{"unknown type", "application/json", event(newID(), "harness.unknown.v9"), 200, true},
		{"late event_at", "application/json", []byte(`{"event_id":"` + newID() + `","event_type":"evaluation_completed","event_at":"2001-01-01T00:00:00.123456789+02:00"}`), 200, true},
		// VAL-03, VAL-04, I-04, I-05.
		{"oversized", "application/json", withData(newID(), `{"s":"`+strings.Repeat("a", 2<<20)+`"}`), 413, false},
		{"text/plain", "text/plain", validEvent(newID()), 415, false},
		{"no content type", "", validEvent(newID()), 415, false},
		{"form", "application/x-www-form-urlencoded", validEvent(newID()), 415, false},
		{"charset", "application/json; charset=utf-8", validEvent(newID()), 200, true},
		{"charset no space", "application/json;charset=UTF-8", validEvent(newID()), 200, true},
		{"upper case", "Application/JSON", validEvent(newID()), 200, true},
	}
	for _, c := range cases {
		before := probeTotal(s)
		r := send(t, s.WebhookURL(), goodAuth(o), c.contentType, c.body)
		if r.status != c.want {
			t.Errorf("%s: status = %d %s; want %d", c.name, r.status, trim(r.body), c.want)
		}
		if r.status >= 400 && (!strings.HasPrefix(r.body, `{"error":`) || bytes.Contains([]byte(r.body), []byte("goroutine"))) {
			t.Errorf("%s: error body %q; want a short JSON error", c.name, trim(r.body))
		}
		if got := probeTotal(s) - before; got != map[bool]int{true: 1, false: 0}[c.processed] {
			t.Errorf("%s: processed %d events; want processed=%v", c.name, got, c.processed)
		}
		// Liveness after every body (VAL-03, VAL-07).
		if r := deliver(t, s, validEvent(newID())); r.status != http.StatusOK {
			t.Fatalf("%s: valid event afterwards = %d; want 200", c.name, r.status)
		}
	}
}

func probeTotal(s *Server) int {
	s.Receiver().settle()
	return s.Receiver().Processed()
}

func trim(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func TestMethodsPathsAndEffects(t *testing.T) {
	t.Parallel()
	s := startServer(t, authOptions(harness.AuthNone))
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		req, _ := http.NewRequest(m, s.WebhookURL(), bytes.NewReader(validEvent(newID())))
		req.Header.Set("Content-Type", "application/json")
		r := do(t, req)
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != http.MethodPost {
			t.Errorf("%s webhook = %d Allow %q; want 405 Allow POST", m, r.status, r.header.Get("Allow"))
		}
	}
	if r := send(t, s.URL+"/other", "", "application/json", validEvent(newID())); r.status != http.StatusNotFound {
		t.Errorf("POST /other = %d; want 404", r.status)
	}
	req, _ := http.NewRequest(http.MethodGet, s.EffectsURL(), nil)
	if r := do(t, req); r.status != http.StatusBadRequest {
		t.Errorf("effects without event_id = %d; want 400", r.status)
	}
	if n := probeCount(t, s, "never-sent"); n != 0 {
		t.Errorf("count of an unknown event_id = %d; want 0", n)
	}
	s.Receiver().settle()
	if n := s.Receiver().Processed(); n != 0 {
		t.Errorf("processed %d; want 0 after only rejected requests", n)
	}
}

func TestOptionsAreValidated(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]Options{
		"basic without password":  {Auth: harness.AuthConfig{Type: harness.AuthBasic, BasicUser: "u"}},
		"bearer without token":    {Auth: harness.AuthConfig{Type: harness.AuthBearer}},
		"oauth2 without verifier": {Auth: harness.AuthConfig{Type: harness.AuthOAuth2}},
		"unknown auth":            {Auth: harness.AuthConfig{Type: "digest"}},
		"unknown fault":           {Faults: []Fault{"no-such-fault"}},
		"relative path":           {Path: "webhooks"},
		"effects path":            {Path: EffectsPath},
		"negative workers":        {Workers: -1},
	} {
		if rx, err := New(o); err == nil {
			rx.Close()
			t.Errorf("New(%s) succeeded; want an error", name)
		}
	}
	_, err := New(Options{Auth: harness.AuthConfig{Type: harness.AuthBearer}, Workers: -2})
	if err == nil || !strings.Contains(err.Error(), "bearer_token") || !strings.Contains(err.Error(), "workers") {
		t.Errorf("New error = %v; want every problem named", err)
	}
}
