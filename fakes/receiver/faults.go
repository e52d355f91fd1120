package receiver

import (
	"fmt"
	"strings"
	"time"
)

// Fault names one deliberate deviation from the requirements. Each fault
// breaks one behaviour and leaves every other behaviour compliant, so the
// set of failing requirements shows which check catches it.
type Fault string

// The named faults (hookproof receiver --fault NAME).
const (
	// FaultNoAuth accepts any credentials, or none.
	FaultNoAuth Fault = "no-auth"
	// FaultNoDedupe processes every delivery, duplicates included.
	FaultNoDedupe Fault = "no-dedupe"
	// FaultRacyDedupe checks, waits RacyWindow (a slow dedupe store), then
	// marks: sequential duplicates are caught, concurrent ones are not.
	FaultRacyDedupe Fault = "racy-dedupe"
	// FaultDup409 answers 409 Conflict to a known duplicate.
	FaultDup409 Fault = "dup-409"
	// FaultSlowAck processes each new event inside the request, taking
	// longer than the ack budget, instead of queueing it.
	FaultSlowAck Fault = "slow-ack"
	// FaultError500 answers 500 to every Error500EventType event and does
	// not process it.
	FaultError500 Fault = "error-500"
	// FaultNoSizeLimit reads bodies of any size.
	FaultNoSizeLimit Fault = "no-size-limit"
	// FaultAcceptAnyContentType ignores Content-Type.
	FaultAcceptAnyContentType Fault = "accept-any-content-type"
	// FaultRejectUnknownType answers 400 to event types it does not know.
	FaultRejectUnknownType Fault = "reject-unknown-type"
	// Fault5xxOnHostileJSON answers 500 to syntactically valid but hostile
	// JSON (deep nesting, huge strings or arrays, duplicate keys, invalid
	// UTF-8); malformed JSON still gets 400.
	Fault5xxOnHostileJSON Fault = "5xx-on-hostile-json"
	// FaultRedirect answers 307 to every RedirectEventType event.
	FaultRedirect Fault = "redirect"
	// FaultForgetOnRestart ignores StateFile: dedupe state is lost on restart.
	FaultForgetOnRestart Fault = "forget-on-restart"
)

// Fault parameters, exported so that checks and docs can name them.
const (
	// Error500EventType is the type whose (buggy) handler answers 500
	// under FaultError500.
	Error500EventType = "workflow_execution_failed"
	// RedirectEventType is the type that "moved" under FaultRedirect.
	RedirectEventType = "case_attachment_added"
	// RedirectSuffix is appended to the webhook path in the 307 Location.
	RedirectSuffix = "/v2"
	// RacyWindow is the gap between check and mark under FaultRacyDedupe.
	// It is long enough for a barrier-released burst of 8 to land in it
	// (loopback arrivals spread over well under a millisecond) and shorter
	// than the shortest time-scaled redelivery wait (2 s × 0.01), so a
	// lost-ack redelivery is still caught as a duplicate.
	RacyWindow = 10 * time.Millisecond
)

// FaultInfo documents a fault and the requirements it breaks.
type FaultInfo struct {
	Name Fault
	// Breaks lists the requirement IDs a correct checker sees failing with
	// this fault on (and the auth type the fault needs, see Description).
	Breaks      []string
	Description string
}

// Faults is the published detection matrix: every fault, in CLI order, with
// the requirements it breaks. Assumptions behind the rows: the AUTH checks
// run only when an auth type is configured (AUTH-05 only in oauth2 mode);
// ACK-01 sends every subscribed type; the IDEM checks use one fixed type
// other than Error500EventType and RedirectEventType; load, spike and
// overload events are spread over all subscribed types; ACK-03 judges only
// 2xx answers; IDEM-06 judges the probe count, IDEM-01 the status, and IDEM-05 needs the redelivery after a restart acked.
var Faults = []FaultInfo{
	{FaultNoAuth, []string{"AUTH-01", "AUTH-02", "AUTH-03", "AUTH-04", "AUTH-05", "AUTH-06"},
		"accepts any credentials or none, and processes what it accepts (AUTH-05 needs --auth oauth2; with --auth none nothing is checked)"},
	{FaultNoDedupe, []string{"IDEM-02", "IDEM-03", "IDEM-04", "IDEM-05", "IDEM-06", "LOAD-03"},
		"acks duplicates 200 but processes every copy"},
	{FaultRacyDedupe, []string{"IDEM-03"},
		fmt.Sprintf("check-then-act dedupe with a %s gap: sequential duplicates are caught, concurrent copies are processed more than once", RacyWindow)},
	{FaultDup409, []string{"IDEM-01", "IDEM-03", "IDEM-04", "IDEM-05"},
		"answers 409 to known duplicates, so RiskOS retries an event that was already processed until it gives up"},
	{FaultSlowAck, []string{"ACK-02", "LOAD-01", "LOAD-02", "LOAD-04"},
		"processes each new event before answering, taking 1.5× the ack budget"},
	{FaultError500, []string{"ACK-01", "RETRY-01", "RETRY-02", "LOAD-01", "LOAD-02", "LOAD-03", "LOAD-04"},
		"answers 500 (not retried by RiskOS: the event is lost) to every " + Error500EventType + " event and does not process it"},
	{FaultNoSizeLimit, []string{"VAL-03"},
		"reads and accepts bodies of any size"},
	{FaultAcceptAnyContentType, []string{"VAL-04"},
		"accepts a JSON body whatever its Content-Type"},
	{FaultRejectUnknownType, []string{"VAL-05"},
		"answers 400 to event types outside the documented RiskOS list"},
	{Fault5xxOnHostileJSON, []string{"VAL-07"},
		"answers 500 to hostile but well-formed JSON (deep nesting, huge strings or arrays, duplicate keys, invalid UTF-8); malformed JSON still gets 400"},
	{FaultRedirect, []string{"ACK-01", "ACK-04", "RETRY-01", "RETRY-02", "LOAD-01", "LOAD-02", "LOAD-03", "LOAD-04"},
		"answers 307 to " + RedirectSuffix + " for every " + RedirectEventType + " event (RiskOS does not follow redirects: the event is lost)"},
	{FaultForgetOnRestart, []string{"IDEM-05"},
		"ignores the state file, so deduplication is lost when the receiver restarts"},
}

// ParseFault returns the fault named name, or an error listing the names.
func ParseFault(name string) (Fault, error) {
	for _, f := range Faults {
		if string(f.Name) == name {
			return f.Name, nil
		}
	}
	names := make([]string, len(Faults))
	for i, f := range Faults {
		names[i] = string(f.Name)
	}
	return "", fmt.Errorf("unknown fault %q (known: %s)", name, strings.Join(names, ", "))
}

// LookupFault returns the FaultInfo of f.
func LookupFault(f Fault) (FaultInfo, bool) {
	for _, info := range Faults {
		if info.Name == f {
			return info, true
		}
	}
	return FaultInfo{}, false
}

// knownEventTypes is every event_type name Socure documents on any page (the
// event reference, the watchlist pages and the webhook configuration
// reference, which disagree), so that reject-unknown-type rejects
// only names nobody documented. The compliant receiver does not use it.
var knownEventTypes = map[string]bool{
	"evaluation_completed": true, "evaluation_paused": true, "evaluation_resumed": true,
	"reevaluation": true, "workflow_execution_failed": true, "decision_update": true,
	"fraud_confirming": true, "review_case_assigned": true, "review_case_unassigned": true,
	"case_status_updated": true, "case_notes_added": true, "case_attachment_added": true,
	"watchlist_notification_monitored_search_updated": true,
	"case_management_notification_case_closure":       true,
	"monitored_search_updated":                        true, "case_closure": true,
	"case_decision_changed": true, "case_status_changed": true, "case_assigned": true,
	"watchlist_match_found": true, "watchlist_monitoring_alert": true,
}
