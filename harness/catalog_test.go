package harness

import (
	"slices"
	"testing"
)

func TestEventTypesCatalogue(t *testing.T) {
	t.Parallel()
	want := []string{
		"evaluation_completed", "evaluation_paused", "reevaluation", "workflow_execution_failed",
		"decision_update", "fraud_confirming", "review_case_assigned", "review_case_unassigned",
		"case_status_updated", "case_notes_added", "case_attachment_added",
	}
	if got := EventTypeNames(); !slices.Equal(got, want) {
		t.Fatalf("EventTypeNames() = %v; want %v", got, want)
	}
	for i, et := range EventTypes() {
		wantCat := CategoryCaseManagement
		if i < 4 {
			wantCat = CategoryEvaluation
		}
		if et.Category != wantCat || et.Description == "" {
			t.Errorf("EventTypes()[%d] = %+v; want category %q and a description", i, et, wantCat)
		}
	}
	// The returned slice is the caller's: changing it must not change the catalogue.
	ets := EventTypes()
	ets[0].Name = "changed"
	if EventTypes()[0].Name != "evaluation_completed" {
		t.Error("modifying the result of EventTypes changed the catalogue")
	}
}

func TestLookupEventType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"evaluation_completed", true},
		{"case_attachment_added", true},
		{"Evaluation_Completed", false}, // exact match only
		{"evaluation_resumed", false},   // configuration-reference name, not in the main list
		{"case_closure", false},         // watchlist product event
		{"", false},
		{"evaluation_completed ", false},
	} {
		et, ok := LookupEventType(tc.name)
		if ok != tc.ok || (ok && et.Name != tc.name) {
			t.Errorf("LookupEventType(%q) = %+v, %v; want ok=%v", tc.name, et, ok, tc.ok)
		}
	}
}
