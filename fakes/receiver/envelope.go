package receiver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Bounds on envelope strings. RiskOS ids are UUIDs and types short names;
// the bounds keep a hostile id out of the state file and the logs.
const (
	maxEventIDBytes   = 512
	maxEventTypeBytes = 256
)

var bom = []byte{0xEF, 0xBB, 0xBF}

// parseEnvelope decodes the RiskOS envelope from a body that checkJSON
// accepted (so its depth is bounded and its keys are unique). It returns a
// short reason naming the field when the envelope is not acceptable.
func parseEnvelope(body []byte) (Event, string) {
	body = bytes.TrimPrefix(body, bom)
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Event{}, "body is not a JSON object"
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return Event{}, "body is not a JSON object"
	}
	var ev Event
	var reason string
	if ev.ID, reason = stringField(fields, "event_id", maxEventIDBytes); reason != "" {
		return Event{}, reason
	}
	if ev.Type, reason = stringField(fields, "event_type", maxEventTypeBytes); reason != "" {
		return Event{}, reason
	}
	if ev.At, reason = stringField(fields, "event_at", 64); reason != "" {
		return Event{}, reason
	}
	if _, err := time.Parse(time.RFC3339Nano, ev.At); err != nil {
		return Event{}, "event_at is not an RFC 3339 timestamp"
	}
	if raw, ok := fields["data"]; ok && string(raw) != "null" {
		if raw[0] != '{' {
			return Event{}, "data is not a JSON object"
		}
		ev.Data = raw
	}
	return ev, ""
}

// stringField requires fields[name] to be a non-blank JSON string of at
// most max bytes without control characters.
func stringField(fields map[string]json.RawMessage, name string, max int) (string, string) {
	raw, ok := fields[name]
	if !ok || string(raw) == "null" {
		return "", name + " is missing"
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", name + " is not a string"
	}
	switch {
	case strings.TrimSpace(s) == "":
		return "", name + " is empty"
	case len(s) > max:
		return "", fmt.Sprintf("%s is longer than %d bytes", name, max)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", name + " has control characters"
	}
	return s, ""
}
