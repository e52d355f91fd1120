package harness

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The schemas are JSON Schema draft 2020-12 documents, one per event type,
// sharing common.json through $ref; envelope.json covers types outside the
// catalogue.
//
//go:embed schemas/*.json
var schemaFS embed.FS

// schemaBase is the $id prefix of every embedded schema. It only has to be an
// absolute URL for $ref resolution; nothing is ever fetched from it.
const schemaBase = "https://github.com/hookproof/hookproof/harness/schemas/"

const (
	commonSchema   = "common.json"
	envelopeSchema = "envelope.json"
)

// ErrUnknownEventType is the cause of a SchemaError for an event whose
// event_type is a string outside the catalogue.
var ErrUnknownEventType = errors.New("harness: unknown event type")

// SchemaProblem is one rule an event breaks.
type SchemaProblem struct {
	// Path is the JSON pointer of the offending value, e.g. "/data/eval_id";
	// "" is the whole body. For a missing property it points at the property
	// that should be there.
	Path string
	// Rule is the JSON Schema keyword that failed ("required", "type",
	// "format", "pattern", "const", "enum", "minLength", …), "json" for a
	// body that is not JSON, or "event_type" for a type outside the
	// catalogue.
	Rule string
	// Message says what is wrong, in English.
	Message string
}

// SchemaError is the error ValidateEvent returns: every problem found, sorted
// by path then rule, so that the output is stable from run to run.
type SchemaError struct {
	Problems []SchemaProblem
	cause    error
}

// Error lists every problem as "path: message", separated by "; ".
func (e *SchemaError) Error() string {
	var b strings.Builder
	b.WriteString("harness: invalid RiskOS event: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		if p.Path == "" {
			b.WriteString("(body)")
		} else {
			b.WriteString(p.Path)
		}
		b.WriteString(": ")
		b.WriteString(p.Message)
	}
	return b.String()
}

// Unwrap returns the underlying cause when there is one: the parse error of
// a malformed body, or ErrUnknownEventType.
func (e *SchemaError) Unwrap() error { return e.cause }

// compiledSchemas holds the compiled schema of every catalogue type, indexed
// like eventTypes, and the envelope-only schema.
type compiledSchemas struct {
	types    [len(eventTypes)]*jsonschema.Schema
	envelope *jsonschema.Schema
}

// schemas compiles the embedded schemas once. A compiled Schema is immutable
// and its Validate is safe for concurrent use.
var schemas = sync.OnceValues(compileSchemas)

func compileSchemas() (*compiledSchemas, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// Draft 2020-12 treats format as an annotation unless asked; the event
	// contract relies on date-time and uuid, so assert them.
	c.AssertFormat()
	entries, err := schemaFS.ReadDir("schemas")
	if err != nil {
		return nil, fmt.Errorf("harness: read embedded schemas: %w", err)
	}
	for _, e := range entries {
		raw, err := schemaFS.ReadFile(path.Join("schemas", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("harness: read schema %s: %w", e.Name(), err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("harness: parse schema %s: %w", e.Name(), err)
		}
		if err := c.AddResource(schemaBase+e.Name(), doc); err != nil {
			return nil, fmt.Errorf("harness: add schema %s: %w", e.Name(), err)
		}
	}
	var cs compiledSchemas
	for i, t := range eventTypes {
		if cs.types[i], err = c.Compile(schemaBase + t.Name + ".json"); err != nil {
			return nil, fmt.Errorf("harness: compile schema %s: %w", t.Name, err)
		}
	}
	if cs.envelope, err = c.Compile(schemaBase + envelopeSchema); err != nil {
		return nil, fmt.Errorf("harness: compile schema %s: %w", envelopeSchema, err)
	}
	return &cs, nil
}

// ValidateEvent checks a webhook body against the schema of its event_type.
// A body that is not a JSON object with a known event_type is checked against
// the envelope schema and, if its event_type is an unknown string, also
// reported as such (with ErrUnknownEventType as cause). Every error is a
// *SchemaError; for malformed JSON its single problem (rule "json") gives the
// byte offset. ValidateEvent is safe for concurrent use.
func ValidateEvent(body []byte) error {
	v, err := decodeBody(body)
	if err != nil {
		return &SchemaError{Problems: []SchemaProblem{{Rule: "json", Message: err.Error()}}, cause: err}
	}
	return validateValue(v)
}

// decodeBody parses exactly one JSON value (see parseJSON).
func decodeBody(body []byte) (any, error) { return parseJSON(body) }

// validateValue validates an already decoded body (see decodeBody).
func validateValue(v any) error {
	cs, err := schemas()
	if err != nil {
		return err
	}
	name, _ := eventTypeOf(v)
	sch := cs.envelope
	i := eventTypeIndex(name)
	if i >= 0 {
		sch = cs.types[i]
	}
	var problems []SchemaProblem
	if err := sch.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return fmt.Errorf("harness: validate event: %w", err)
		}
		problems = collectProblems(ve, problems)
	}
	var cause error
	if i < 0 && name != "" {
		cause = ErrUnknownEventType
		problems = append(problems, SchemaProblem{
			Path:    "/event_type",
			Rule:    "event_type",
			Message: fmt.Sprintf("unknown event type %q (not one of the %d RiskOS event types)", name, len(eventTypes)),
		})
	}
	if len(problems) == 0 {
		return nil
	}
	sortProblems(problems)
	return &SchemaError{Problems: problems, cause: cause}
}

// eventTypeOf returns the event_type of a decoded body when it is a string.
func eventTypeOf(v any) (string, bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	name, ok := obj["event_type"].(string)
	return name, ok
}

var printer = message.NewPrinter(language.English)

// collectProblems flattens the validator's error tree into its leaves: the
// inner nodes ($ref, allOf, the schema itself) only say "a child failed".
func collectProblems(ve *jsonschema.ValidationError, out []SchemaProblem) []SchemaProblem {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			out = collectProblems(c, out)
		}
		return out
	}
	at := pointer(ve.InstanceLocation)
	if req, ok := ve.ErrorKind.(*kind.Required); ok {
		// One problem per missing property, pointing at where it belongs:
		// "/data/eval_id: required property is missing" reads better than
		// "/data: missing property 'eval_id'".
		for _, m := range req.Missing {
			out = append(out, SchemaProblem{Path: at + "/" + escapePointer(m), Rule: "required", Message: "required property is missing"})
		}
		return out
	}
	rule := "schema"
	if kp := ve.ErrorKind.KeywordPath(); len(kp) > 0 {
		rule = kp[len(kp)-1]
	}
	msg := ve.ErrorKind.LocalizedString(printer)
	if _, ok := ve.ErrorKind.(*kind.Pattern); ok && strings.HasSuffix(ve.SchemaURL, "/$defs/timestamp") {
		// The raw regexp would be noise; say what it means.
		msg = "not an RFC 3339 date-time with at most 9 fractional digits, an upper-case T and a Z or ±hh:mm offset"
	}
	return append(out, SchemaProblem{Path: at, Rule: rule, Message: msg})
}

// pointer builds an RFC 6901 JSON pointer from path tokens.
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapePointer(t))
	}
	return b.String()
}

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func sortProblems(ps []SchemaProblem) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Path != ps[j].Path {
			return ps[i].Path < ps[j].Path
		}
		if ps[i].Rule != ps[j].Rule {
			return ps[i].Rule < ps[j].Rule
		}
		return ps[i].Message < ps[j].Message
	})
}

// SchemaJSON returns the JSON Schema of an event type as indented JSON. The
// embedded schemas share definitions through common.json; the returned
// document is bundled (the definitions it uses copied under its own $defs) so
// that it stands alone in any draft 2020-12 validator.
func SchemaJSON(eventType string) ([]byte, error) {
	if eventTypeIndex(eventType) < 0 {
		return nil, fmt.Errorf("harness: schema for %q: %w", eventType, ErrUnknownEventType)
	}
	root, err := readSchemaDoc(eventType + ".json")
	if err != nil {
		return nil, err
	}
	common, err := readSchemaDoc(commonSchema)
	if err != nil {
		return nil, err
	}
	defs, _ := common["$defs"].(map[string]any)
	used := map[string]any{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				ref, isRef := c.(string)
				if k != "$ref" || !isRef {
					walk(c)
					continue
				}
				name, ok := strings.CutPrefix(ref, commonSchema+"#/$defs/")
				if !ok {
					name, ok = strings.CutPrefix(ref, "#/$defs/")
				}
				if !ok {
					continue
				}
				x[k] = "#/$defs/" + name
				if _, seen := used[name]; !seen {
					used[name] = defs[name]
					walk(defs[name])
				}
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(root)
	root["$defs"] = used
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("harness: encode schema %s: %w", eventType, err)
	}
	return buf.Bytes(), nil
}

func readSchemaDoc(name string) (map[string]any, error) {
	raw, err := schemaFS.ReadFile(path.Join("schemas", name))
	if err != nil {
		return nil, fmt.Errorf("harness: read schema %s: %w", name, err)
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("harness: parse schema %s: %w", name, err)
	}
	return doc, nil
}
