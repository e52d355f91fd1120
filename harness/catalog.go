package harness

// EventType describes one RiskOS webhook event type of the catalogue.
type EventType struct {
	// Name is the wire value of event_type, e.g. "evaluation_completed".
	Name string
	// Category is "Evaluation" or "Case Management", as Socure groups them.
	Category string
	// Description is Socure's one-line description of the event.
	Description string
}

// Category names used by the catalogue.
const (
	CategoryEvaluation     = "Evaluation"
	CategoryCaseManagement = "Case Management"
)

// eventTypes is the current RiskOS event list (the webhook events quick
// reference), in documentation order. The conflicting names of the webhook
// configuration reference (evaluation_resumed, case_decision_changed, ...)
// and the watchlist product events are deliberately absent: no example or
// main reference page uses them, so they are treated as unknown types and
// validated against the envelope only.
var eventTypes = [...]EventType{
	{"evaluation_completed", CategoryEvaluation, "Evaluation processing completed."},
	{"evaluation_paused", CategoryEvaluation, "Evaluation processing paused."},
	{"reevaluation", CategoryEvaluation, "Case reevaluated."},
	{"workflow_execution_failed", CategoryEvaluation, "Evaluation execution failed."},
	{"decision_update", CategoryCaseManagement, "Decision updated in Case Management."},
	{"fraud_confirming", CategoryCaseManagement, "Case marked as fraud or non-fraud."},
	{"review_case_assigned", CategoryCaseManagement, "Case assigned to a reviewer."},
	{"review_case_unassigned", CategoryCaseManagement, "Case unassigned from a reviewer."},
	{"case_status_updated", CategoryCaseManagement, "Case status updated."},
	{"case_notes_added", CategoryCaseManagement, "Notes added to a case."},
	{"case_attachment_added", CategoryCaseManagement, "Attachments added to a case."},
}

// EventTypes returns the 11 RiskOS event types in documentation order. The
// slice is a fresh copy the caller may modify.
func EventTypes() []EventType {
	return append([]EventType(nil), eventTypes[:]...)
}

// EventTypeNames returns the event_type values of EventTypes, in the same
// order.
func EventTypeNames() []string {
	names := make([]string, len(eventTypes))
	for i, t := range eventTypes {
		names[i] = t.Name
	}
	return names
}

// LookupEventType returns the catalogue entry for an event_type value. The
// match is exact: RiskOS sends lower-case snake_case names and a receiver
// must not be expected to fold case.
func LookupEventType(name string) (EventType, bool) {
	i := eventTypeIndex(name)
	if i < 0 {
		return EventType{}, false
	}
	return eventTypes[i], true
}

// eventTypeIndex returns the position of name in eventTypes, or -1.
func eventTypeIndex(name string) int {
	for i := range eventTypes {
		if eventTypes[i].Name == name {
			return i
		}
	}
	return -1
}
