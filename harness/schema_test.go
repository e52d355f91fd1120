package harness

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// fixtureLines reads a JSONL fixture file, one body per non-empty line.
func fixtureLines(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			out = append(out, append([]byte(nil), line...))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return out
}

func TestFixturesValidate(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"../../shared/fixtures/riskos-examples.jsonl", "testdata/riskos-examples.jsonl"} {
		t.Run(path, func(t *testing.T) {
			lines := fixtureLines(t, path)
			if lines == nil {
				t.Skipf("%s is absent", path)
			}
			for i, body := range lines {
				if err := ValidateEvent(body); err != nil {
					t.Errorf("line %d: %v", i+1, err)
				}
			}
		})
	}
}

// fixtureByType returns the testdata example of eventType, decoded.
func fixtureByType(t *testing.T, eventType string) map[string]any {
	t.Helper()
	for _, line := range fixtureLines(t, "testdata/riskos-examples.jsonl") {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		if m["event_type"] == eventType {
			return m
		}
	}
	t.Fatalf("no testdata fixture of type %s", eventType)
	return nil
}

func TestValidateEventRejectsMutations(t *testing.T) {
	t.Parallel()
	data := func(m map[string]any) map[string]any { return m["data"].(map[string]any) }
	for _, tc := range []struct {
		name     string
		base     string // fixture event type
		mutate   func(m map[string]any)
		wantPath string
		wantRule string
	}{
		{"missing event_id", "evaluation_completed", func(m map[string]any) { delete(m, "event_id") }, "/event_id", "required"},
		{"null event_id", "evaluation_completed", func(m map[string]any) { m["event_id"] = nil }, "/event_id", "type"},
		{"numeric event_id", "evaluation_completed", func(m map[string]any) { m["event_id"] = 42 }, "/event_id", "type"},
		{"empty event_id", "evaluation_completed", func(m map[string]any) { m["event_id"] = "" }, "/event_id", "minLength"},
		{"missing event_type", "evaluation_completed", func(m map[string]any) { delete(m, "event_type") }, "/event_type", "required"},
		{"null event_type", "case_notes_added", func(m map[string]any) { m["event_type"] = nil }, "/event_type", "type"},
		{"numeric event_type", "case_notes_added", func(m map[string]any) { m["event_type"] = 7 }, "/event_type", "type"},
		{"empty event_type", "case_notes_added", func(m map[string]any) { m["event_type"] = "" }, "/event_type", "minLength"},
		{"unknown event_type", "case_notes_added", func(m map[string]any) { m["event_type"] = "case_decision_changed" }, "/event_type", "event_type"},
		{"missing event_at", "evaluation_paused", func(m map[string]any) { delete(m, "event_at") }, "/event_at", "required"},
		{"event_at not RFC 3339", "evaluation_paused", func(m map[string]any) { m["event_at"] = "17/07/2025 01:20:01" }, "/event_at", "format"},
		{"event_at without zone", "evaluation_paused", func(m map[string]any) { m["event_at"] = "2025-07-17T01:20:01" }, "/event_at", "format"},
		{"event_at with 10 fractional digits", "evaluation_paused", func(m map[string]any) { m["event_at"] = "2025-07-17T01:20:01.1234567891Z" }, "/event_at", "pattern"},
		{"event_at with impossible date", "evaluation_paused", func(m map[string]any) { m["event_at"] = "2025-02-30T01:20:01Z" }, "/event_at", "format"},
		{"event_at as Unix seconds", "evaluation_paused", func(m map[string]any) { m["event_at"] = 1752715201 }, "/event_at", "type"},
		{"missing data", "decision_update", func(m map[string]any) { delete(m, "data") }, "/data", "required"},
		{"data is an array", "decision_update", func(m map[string]any) { m["data"] = []any{} }, "/data", "type"},
		{"data is a string", "decision_update", func(m map[string]any) { m["data"] = "{}" }, "/data", "type"},
		{"data is null", "decision_update", func(m map[string]any) { m["data"] = nil }, "/data", "type"},
		// One strictly typed data field per type.
		{"evaluation_completed eval_id not a uuid", "evaluation_completed", func(m map[string]any) { data(m)["eval_id"] = "eval-1" }, "/data/eval_id", "format"},
		{"evaluation_completed eval_status of a paused one", "evaluation_completed", func(m map[string]any) { data(m)["eval_status"] = "evaluation_paused" }, "/data/eval_status", "const"},
		{"evaluation_completed enrichment status_code as string", "evaluation_completed", func(m map[string]any) {
			data(m)["data_enrichments"].([]any)[0].(map[string]any)["status_code"] = "200"
		}, "/data/data_enrichments/0/status_code", "type"},
		{"evaluation_paused score not an integer", "evaluation_paused", func(m map[string]any) { data(m)["score"] = 67.5 }, "/data/score", "type"},
		{"evaluation_paused decision_at not a date-time", "evaluation_paused", func(m map[string]any) { data(m)["decision_at"] = "yesterday" }, "/data/decision_at", "format"},
		{"reevaluation eval_source outside the enum", "reevaluation", func(m map[string]any) { data(m)["eval_source"] = "CLI" }, "/data/eval_source", "enum"},
		{"reevaluation tags not an array", "reevaluation", func(m map[string]any) { data(m)["tags"] = "High Risk" }, "/data/tags", "type"},
		{"reevaluation missing decision", "reevaluation", func(m map[string]any) { delete(data(m), "decision") }, "/data/decision", "required"},
		{"workflow_execution_failed missing eval_id", "workflow_execution_failed", func(m map[string]any) { delete(data(m), "eval_id") }, "/data/eval_id", "required"},
		{"workflow_execution_failed workflow_id numeric", "workflow_execution_failed", func(m map[string]any) { data(m)["workflow_id"] = 5 }, "/data/workflow_id", "type"},
		{"decision_update missing decision", "decision_update", func(m map[string]any) { delete(data(m), "decision") }, "/data/decision", "required"},
		{"decision_update empty decision", "decision_update", func(m map[string]any) { data(m)["decision"] = "" }, "/data/decision", "minLength"},
		{"fraud_confirming fraud_label boolean", "fraud_confirming", func(m map[string]any) { data(m)["fraud_label"] = true }, "/data/fraud_label", "type"},
		{"review_case_assigned reviewer_id array", "review_case_assigned", func(m map[string]any) { data(m)["reviewer_id"] = []any{} }, "/data/reviewer_id", "type"},
		{"review_case_unassigned eval_id not a uuid", "review_case_assigned", func(m map[string]any) {
			m["event_type"] = "review_case_unassigned"
			data(m)["eval_id"] = "6dc8f39c"
		}, "/data/eval_id", "format"},
		{"case_status_updated status outside the enum", "case_status_updated", func(m map[string]any) { data(m)["status"] = "PENDING" }, "/data/status", "enum"},
		{"case_notes_added missing notes", "case_notes_added", func(m map[string]any) { delete(data(m), "notes") }, "/data/notes", "required"},
		{"case_notes_added missing reviewer_id", "case_notes_added", func(m map[string]any) { delete(data(m), "reviewer_id") }, "/data/reviewer_id", "required"},
		{"case_attachment_added attachments as string", "case_attachment_added", func(m map[string]any) { data(m)["attachments"] = "bill.pdf" }, "/data/attachments", "type"},
		{"case_attachment_added file_name numeric", "case_attachment_added", func(m map[string]any) {
			data(m)["attachments"] = []any{map[string]any{"file_name": 1}}
		}, "/data/attachments/0/file_name", "type"},
		{"environment_name outside the enum", "case_attachment_added", func(m map[string]any) { data(m)["environment_name"] = "Staging" }, "/data/environment_name", "enum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := fixtureByType(t, tc.base)
			tc.mutate(m)
			body, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			err = ValidateEvent(body)
			var se *SchemaError
			if !errors.As(err, &se) {
				t.Fatalf("ValidateEvent = %v; want a *SchemaError", err)
			}
			for _, p := range se.Problems {
				if p.Path == tc.wantPath && p.Rule == tc.wantRule {
					if !strings.Contains(err.Error(), tc.wantPath+": ") {
						t.Errorf("Error() = %q; want it to list %s", err, tc.wantPath)
					}
					return
				}
			}
			t.Errorf("ValidateEvent problems = %+v; want %s breaking %q", se.Problems, tc.wantPath, tc.wantRule)
		})
	}
}

func TestValidateEventAcceptsUnknownFields(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"evaluation_completed", "evaluation_paused", "case_notes_added", "case_attachment_added"} {
		m := fixtureByType(t, name)
		m["delivery_attempt"] = 3
		m["x_riskos_region"] = map[string]any{"name": "us-west"}
		d := m["data"].(map[string]any)
		d["risk_signals"] = []any{1, "two", nil}
		if es, ok := d["data_enrichments"].([]any); ok {
			es[0].(map[string]any)["latency_ms"] = 12.5
		}
		if as, ok := d["attachments"].([]any); ok {
			as[0].(map[string]any)["size_bytes"] = 1024
		}
		body, _ := json.Marshal(m)
		if err := ValidateEvent(body); err != nil {
			t.Errorf("%s with unknown fields: %v", name, err)
		}
	}
}

func TestValidateEventMalformedJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body   string
		offset string
	}{
		{``, "byte offset 0"},
		{`   `, "byte offset 3"},
		{`{"event_id":`, "byte offset 12"},
		{`{"event_id":"a"} trailing`, "byte offset 17"},
		{`{"event_id" "a"}`, "byte offset 12"},
		{`{"event_id":tru}`, "byte offset 15"}, // the byte that breaks the literal
		{`{"a":[1,]}`, "byte offset 8"},
		{"{\"a\":\"tab\there\"}", "byte offset 9"},
		{`{"a":01}`, "byte offset 6"},
		{`{"a":"\x"}`, "byte offset 7"},
	} {
		err := ValidateEvent([]byte(tc.body))
		var se *SchemaError
		if !errors.As(err, &se) || len(se.Problems) != 1 || se.Problems[0].Rule != "json" || !strings.Contains(se.Problems[0].Message, tc.offset) {
			t.Errorf("ValidateEvent(%q) = %v; want one json problem at %s", tc.body, err, tc.offset)
		}
	}
	// Valid JSON that is not an object is a schema problem of the whole body.
	err := ValidateEvent([]byte(`["event"]`))
	var se *SchemaError
	if !errors.As(err, &se) || se.Problems[0].Path != "" || se.Problems[0].Rule != "type" {
		t.Errorf("ValidateEvent(array) = %v; want a type problem at the root", err)
	}
}

func TestSchemaErrorListsEveryProblem(t *testing.T) {
	t.Parallel()
	err := ValidateEvent([]byte(`{"event_type":"decision_update","event_at":"soon","data":{"eval_id":"x"}}`))
	var se *SchemaError
	if !errors.As(err, &se) {
		t.Fatalf("got %v", err)
	}
	var got []string
	for _, p := range se.Problems {
		got = append(got, p.Path+" "+p.Rule)
	}
	want := []string{"/data/decision required", "/data/eval_id format", "/event_at format", "/event_id required"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("problems = %v; want %v (sorted by path)", got, want)
	}
	msg := err.Error()
	for _, p := range []string{"/data/decision: required property is missing", "/event_id: required property is missing", "/event_at: "} {
		if !strings.Contains(msg, p) {
			t.Errorf("Error() = %q; want it to contain %q", msg, p)
		}
	}
}

// TestSchemaJSONStandsAlone checks that the printed schema of every type is a
// bundled draft 2020-12 document: it compiles without common.json, accepts
// the fixture of its type and still rejects what the embedded schema rejects.
func TestSchemaJSONStandsAlone(t *testing.T) {
	t.Parallel()
	fixtures := map[string][]byte{}
	for _, line := range fixtureLines(t, "testdata/riskos-examples.jsonl") {
		var env struct {
			Type string `json:"event_type"`
		}
		json.Unmarshal(line, &env)
		fixtures[env.Type] = line
	}
	for _, name := range EventTypeNames() {
		raw, err := SchemaJSON(name)
		if err != nil {
			t.Fatalf("SchemaJSON(%q): %v", name, err)
		}
		if bytes.Contains(raw, []byte("common.json")) || !bytes.Contains(raw, []byte(`"const": "`+name+`"`)) {
			t.Errorf("SchemaJSON(%q) still refers to common.json or lacks its event_type const", name)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("SchemaJSON(%q) is not JSON: %v", name, err)
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource("standalone.json", doc); err != nil {
			t.Fatal(err)
		}
		sch, err := c.Compile("standalone.json")
		if err != nil {
			t.Fatalf("SchemaJSON(%q) does not compile alone: %v", name, err)
		}
		fx, ok := fixtures[name]
		if !ok {
			_, fx = NewGenerator(1).AppendBody(nil, name)
		}
		v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(fx))
		if err := sch.Validate(v); err != nil {
			t.Errorf("SchemaJSON(%q) rejects a valid event: %v", name, err)
		}
		v.(map[string]any)["event_at"] = "2025-07-17T01:20:01.1234567891Z"
		if err := sch.Validate(v); err == nil {
			t.Errorf("SchemaJSON(%q) accepts an event_at with 10 fractional digits", name)
		}
	}
	if _, err := SchemaJSON("evaluation_resumed"); !errors.Is(err, ErrUnknownEventType) {
		t.Errorf("SchemaJSON(unknown) error = %v; want ErrUnknownEventType", err)
	}
}

func BenchmarkValidateEvent(b *testing.B) {
	g := NewGenerator(1)
	bodies := make([][]byte, 256)
	for i := range bodies {
		bodies[i] = g.Random().Body
	}
	if err := ValidateEvent(bodies[0]); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := ValidateEvent(bodies[i%len(bodies)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
