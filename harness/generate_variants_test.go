package harness

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// documentedValues is, per data field with a closed documented vocabulary,
// the values the RiskOS documentation gives. It is written out here rather
// than taken from the generator's tables, so a value slipping into those
// tables fails the test.
var documentedValues = map[string][]string{
	"status":           {"OPEN", "ON_HOLD", "CLOSED"},
	"decision":         {"ACCEPT", "REVIEW", "REJECT", "RESUBMIT", "CANCEL", "PASSTHROUGH"},
	"eval_status":      {"evaluation_in_progress", "evaluation_paused", "evaluation_completed"},
	"eval_source":      {"API", "Dashboard"},
	"environment_name": {"Sandbox", "Production"},
	"fraud_label":      {"fraud", "non-fraud"},
	"workflow": {"consumer_onboarding", "business_onboarding", "account_takeover", "trust_and_safety",
		"bank_account_verification", "generic_passthrough"},
}

var (
	documentedDocVNotes   = []string{"Process Initiated", "Capture App Opened", "Document Front Uploaded", "Document Back Uploaded"}
	documentedEnrichments = []string{
		"Socure Digital Intelligence", "Socure Verify", "Socure Phone Risk", "Socure Email Risk",
		"Socure Address Risk", "Socure GraphIntelligence + Sigma Fraud", "Socure Sigma Synthetic",
		"Socure Document Request - Default Flow", "Deliver OTP SMS", "Verify OTP SMS", "SocureCNam",
	}
	documentedProviders = []string{"Socure", "SocureDocRequest", "SocureOTP", "SocureCNam"}
)

// undocumented returns an error naming the first value in data that is
// outside its documented vocabulary.
func undocumented(data map[string]any) error {
	for field, vals := range documentedValues {
		if v, ok := data[field]; ok && !slices.Contains(vals, v.(string)) {
			return fmt.Errorf("data.%s = %q is not a documented value %q", field, v, vals)
		}
	}
	if data["reviewer_id"] == "Webhook" && !slices.Contains(documentedDocVNotes, data["notes"].(string)) {
		return fmt.Errorf("DocV note %q is not one the documentation spells out", data["notes"])
	}
	items, _ := data["data_enrichments"].([]any)
	for _, it := range items {
		m := it.(map[string]any)
		if !slices.Contains(documentedEnrichments, m["enrichment_name"].(string)) {
			return fmt.Errorf("enrichment_name %q is not documented", m["enrichment_name"])
		}
		if p, ok := m["enrichment_provider"]; ok && !slices.Contains(documentedProviders, p.(string)) {
			return fmt.Errorf("enrichment_provider %q is not documented", p)
		}
	}
	return nil
}

// field returns the member of the decoded event at a /data/<name> pointer.
func field(ev map[string]any, pointer string) (any, bool) {
	name, ok := strings.CutPrefix(pointer, "/data/")
	if !ok {
		return nil, false
	}
	v, ok := ev["data"].(map[string]any)[name]
	return v, ok
}

func TestSpellingVariantsAreDocumentedOutsiders(t *testing.T) {
	t.Parallel()
	vs := SpellingVariants()
	if len(vs) == 0 {
		t.Fatal("no spelling variants")
	}
	onHoldInCase := false
	for _, v := range vs {
		if eventTypeIndex(v.EventType) < 0 {
			t.Errorf("%+v: event type outside the catalogue", v)
		}
		name, _ := strings.CutPrefix(v.Pointer, "/data/")
		vals := documentedValues[name]
		if !slices.Contains(vals, v.Documented) || slices.Contains(vals, v.Value) || v.Source == "" {
			t.Errorf("%+v: want a documented value beside a variant outside %q, with its source", v, vals)
		}
		onHoldInCase = onHoldInCase || v.EventType == "case_status_updated" && v.Value == "ON HOLD"
	}
	if !onHoldInCase {
		t.Error(`no "ON HOLD" variant for case_status_updated`)
	}
	vs[0].Value = "mutated"
	if SpellingVariants()[0].Value == "mutated" {
		t.Error("SpellingVariants returns the package's own array")
	}
}

// A variant event is the event the generator would have made at that point,
// with the variant in its field: valid, and otherwise ordinary.
func TestEventWithVariant(t *testing.T) {
	t.Parallel()
	for i, v := range SpellingVariants() {
		t.Run(v.EventType+"_"+strings.TrimPrefix(v.Pointer, "/data/")+"="+v.Value, func(t *testing.T) {
			t.Parallel()
			plain := NewGenerator(int64(i), WithRunNonce(9))
			varied := NewGenerator(int64(i), WithRunNonce(9))
			for n := range 300 {
				want, err := plain.Event(v.EventType)
				if err != nil {
					t.Fatal(err)
				}
				got, err := varied.EventWithVariant(v)
				if err != nil {
					t.Fatal(err)
				}
				if err := ValidateEvent(got.Body); err != nil {
					t.Fatalf("event %d: the schema rejects a variant event: %v\n%s", n, err, got.Body)
				}
				g, _ := decodeBody(got.Body)
				w, _ := decodeBody(want.Body)
				if f, ok := field(g.(map[string]any), v.Pointer); !ok || f != v.Value {
					t.Fatalf("event %d: %s = %v (present %v); want %q\n%s", n, v.Pointer, f, ok, v.Value, got.Body)
				}
				name, _ := strings.CutPrefix(v.Pointer, "/data/")
				w.(map[string]any)["data"].(map[string]any)[name] = v.Value
				if !reflect.DeepEqual(g, w) {
					t.Fatalf("event %d differs from the plain one beyond %s:\n%s\n%s", n, v.Pointer, got.Body, want.Body)
				}
			}
			// The variant is for that one event: the streams stay in step.
			a, _ := plain.Event(v.EventType)
			b, _ := varied.Event(v.EventType)
			if string(a.Body) != string(b.Body) {
				t.Errorf("after EventWithVariant the generator no longer makes plain events:\n%s\n%s", b.Body, a.Body)
			}
		})
	}
}

func TestEventWithVariantUnknown(t *testing.T) {
	t.Parallel()
	g := NewGenerator(1)
	for _, v := range []SpellingVariant{
		{EventType: "case_status_updated", Pointer: "/data/status", Value: "HOLD"},
		{EventType: "case_notes_added", Pointer: "/data/status", Value: "ON HOLD"},
		{EventType: "evaluation_completed", Pointer: "/data/sub_status", Value: "APPROVE"},
		{},
	} {
		if _, err := g.EventWithVariant(v); !errors.Is(err, ErrUnknownVariant) {
			t.Errorf("EventWithVariant(%+v) error = %v; want ErrUnknownVariant", v, err)
		}
	}
}
