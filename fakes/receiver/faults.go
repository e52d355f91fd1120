package receiver

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Fault names one deliberate deviation from the requirements, or one
// compliant variant of the receiver's design. Each fault breaks one
// behaviour and leaves every other behaviour compliant, so the set of
// failing requirements shows which check catches it; each variant is a
// different, correct way to build a receiver, which certification must not
// fail (see Variants).
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
	// FaultShortDedupeMemory forgets an event_id ShortDedupeMemory after
	// claiming it (a cache with a short TTL), unless DedupeMemory is set.
	FaultShortDedupeMemory Fault = "short-dedupe-memory"
	// FaultStrictVariants validates data.status against the strict enum
	// OPEN, ON_HOLD, CLOSED and answers 400 to the documented spelling
	// variants (ON HOLD).
	FaultStrictVariants Fault = "strict-variants"
	// Fault503NoRetryAfter is VariantRateLimit whose 503s (and the full
	// queue's) carry no Retry-After.
	Fault503NoRetryAfter Fault = "503-no-retry-after"
)

// The named compliant variants (hookproof receiver --fault NAME as well):
// each must pass every MUST.
const (
	// VariantRateLimit sheds valid events above RateLimit events/s
	// (DefaultRateLimit unless set) with 503 + Retry-After, before
	// deduplication, so it processes only what it accepts.
	VariantRateLimit Fault = "rate-limit"
	// VariantInFlight409 processes each new event inside the request under
	// an in-flight lock on its event_id: a copy arriving meanwhile gets 409
	// + Retry-After, a copy after processing finished gets 200.
	VariantInFlight409 Fault = "in-flight-409"
	// VariantSlowWorker acks at once and processes with one worker at
	// WorkerRate events/s (DefaultWorkerRate unless set) from an unbounded
	// queue: it never refuses, and its backlog drains at its own pace.
	VariantSlowWorker Fault = "slow-worker"
	// VariantAck202 acknowledges with 202 instead of 200.
	VariantAck202 Fault = "ack-202"
	// Variant431Drop answers a request whose header exceeds HeaderLimit
	// with 431 and then closes the connection without announcing it
	// (no Connection: close), as some proxies do.
	Variant431Drop Fault = "431-drop"
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
	// ShortDedupeMemory is FaultShortDedupeMemory's TTL. It is shorter than
	// RiskOS's first-retry wait of 2 s, so a redelivery after a lost ack
	// (IDEM-04) is processed again even if the first copy's claim lagged
	// the sender's abort by 250 ms, and longer than the quick profile's
	// LOAD-03 run (1.5 s, duplicates drawn from every event sent so far),
	// so whether that check catches it does not depend on the draw: quick
	// never does, full and production (10 s runs) always do.
	ShortDedupeMemory = 1750 * time.Millisecond
	// HeaderLimit is Variant431Drop's bound on the request header (names,
	// values and separators), a common proxy default.
	HeaderLimit = 8 << 10
)

// FaultInfo documents a fault or variant and the requirements it breaks.
type FaultInfo struct {
	Name Fault
	// Breaks lists the requirement IDs a correct checker sees failing with
	// this fault on (and the auth type the fault needs, see Description);
	// a compliant variant breaks none, or only SHOULDs.
	Breaks []string
	// NotInQuick are the IDs of Breaks that the quick profile does not
	// catch with this row (its runs are too short); full and production do.
	NotInQuick  []string
	Description string
	// Compliant marks a variant: a correct design that must pass every
	// MUST requirement.
	Compliant bool
}

// Faults is the published detection matrix: every fault, in CLI order, with
// the requirements it breaks. Assumptions behind the rows: the AUTH checks
// run only when an auth type is configured (AUTH-05 only in oauth2 mode);
// ACK-01 sends every subscribed type; the IDEM checks use one fixed type
// other than Error500EventType and RedirectEventType; load, spike and
// overload events are spread over all subscribed types; ACK-03 judges only
// 2xx answers; IDEM-06 judges the probe count, IDEM-01 the status, and IDEM-05 needs the redelivery after a restart acked.
var Faults = []FaultInfo{
	{Name: FaultNoAuth, Breaks: []string{"AUTH-01", "AUTH-02", "AUTH-03", "AUTH-04", "AUTH-05", "AUTH-06"},
		Description: "accepts any credentials or none, and processes what it accepts (AUTH-05 needs --auth oauth2; with --auth none nothing is checked)"},
	{Name: FaultNoDedupe, Breaks: []string{"IDEM-02", "IDEM-03", "IDEM-04", "IDEM-05", "IDEM-06", "LOAD-03"},
		Description: "acks duplicates 200 but processes every copy"},
	{Name: FaultRacyDedupe, Breaks: []string{"IDEM-03"},
		Description: fmt.Sprintf("check-then-act dedupe with a %s gap: sequential duplicates are caught, concurrent copies are processed more than once", RacyWindow)},
	{Name: FaultDup409, Breaks: []string{"IDEM-01", "IDEM-03", "IDEM-04", "IDEM-05"},
		Description: "answers 409 to known duplicates, so RiskOS retries an event that was already processed until it gives up"},
	{Name: FaultSlowAck, Breaks: []string{"ACK-02", "LOAD-01", "LOAD-02", "LOAD-04"},
		Description: "processes each new event before answering, taking 1.5× the ack budget"},
	{Name: FaultError500, Breaks: []string{"ACK-01", "RETRY-01", "RETRY-02", "LOAD-01", "LOAD-02", "LOAD-03", "LOAD-04"},
		Description: "answers 500 (not retried by RiskOS: the event is lost) to every " + Error500EventType + " event and does not process it"},
	{Name: FaultNoSizeLimit, Breaks: []string{"VAL-03"},
		Description: "reads and accepts bodies of any size"},
	{Name: FaultAcceptAnyContentType, Breaks: []string{"VAL-04"},
		Description: "accepts a JSON body whatever its Content-Type"},
	{Name: FaultRejectUnknownType, Breaks: []string{"VAL-05"},
		Description: "answers 400 to event types outside the documented RiskOS list"},
	{Name: Fault5xxOnHostileJSON, Breaks: []string{"VAL-07"},
		Description: "answers 500 to hostile but well-formed JSON (deep nesting, huge strings or arrays, duplicate keys, invalid UTF-8); malformed JSON still gets 400"},
	{Name: FaultRedirect, Breaks: []string{"ACK-01", "ACK-04", "RETRY-01", "RETRY-02", "LOAD-01", "LOAD-02", "LOAD-03", "LOAD-04"},
		Description: "answers 307 to " + RedirectSuffix + " for every " + RedirectEventType + " event (RiskOS does not follow redirects: the event is lost)"},
	{Name: FaultForgetOnRestart, Breaks: []string{"IDEM-05"},
		Description: "ignores the state file, so deduplication is lost when the receiver restarts"},
	{Name: FaultShortDedupeMemory, Breaks: []string{"IDEM-04", "IDEM-07", "LOAD-03"}, NotInQuick: []string{"IDEM-07", "LOAD-03"},
		Description: fmt.Sprintf("forgets an event_id %s after accepting it, so a redelivery after RiskOS's 2 s first-retry wait is processed again (LOAD-03 only in runs longer than that; IDEM-07 only in --profile production or with --dedupe-retention)", ShortDedupeMemory)},
	{Name: FaultStrictVariants, Breaks: []string{"VAL-09"},
		Description: "a strict schema: answers 400 when data.status is not exactly OPEN, ON_HOLD or CLOSED, rejecting documented spellings such as ON HOLD"},
	{Name: Fault503NoRetryAfter, Breaks: []string{"RETRY-03"},
		Description: fmt.Sprintf("sheds above %g events/s like rate-limit, but its 503s carry no Retry-After", DefaultRateLimit)},
}

// Variants are the compliant designs of the detection matrix, in CLI order:
// each row must pass every MUST and fail only its Breaks (SHOULDs).
var Variants = []FaultInfo{
	{Name: VariantRateLimit, Compliant: true,
		Description: fmt.Sprintf("sheds valid events above %g events/s (a token bucket of half a second) with 503 + Retry-After, processing only what it accepts", DefaultRateLimit)},
	{Name: VariantInFlight409, Compliant: true,
		Description: "processes inside the request under an in-flight lock: a copy of an event still being processed gets 409 + Retry-After, later copies 200"},
	{Name: VariantSlowWorker, Compliant: true,
		Description: fmt.Sprintf("acks at once; one worker processes %g events/s (1.3× the required 50/s) from an unbounded queue, never refusing", DefaultWorkerRate)},
	{Name: VariantAck202, Breaks: []string{"ACK-03"}, Compliant: true,
		Description: "acknowledges with 202 instead of 200"},
	{Name: Variant431Drop, Compliant: true,
		Description: fmt.Sprintf("answers a request header over %d KiB with 431, then drops the connection without Connection: close", HeaderLimit>>10)},
}

// Matrix is every row of the detection matrix: the variants, then the
// faults.
func Matrix() []FaultInfo { return append(slices.Clone(Variants), Faults...) }

// ParseFault returns the fault or variant named name, or an error listing
// the names.
func ParseFault(name string) (Fault, error) {
	if info, ok := LookupFault(Fault(name)); ok {
		return info.Name, nil
	}
	var names []string
	for _, f := range Matrix() {
		names = append(names, string(f.Name))
	}
	return "", fmt.Errorf("unknown fault or variant %q (known: %s)", name, strings.Join(names, ", "))
}

// LookupFault returns the FaultInfo of f, a fault or a variant.
func LookupFault(f Fault) (FaultInfo, bool) {
	for _, info := range Matrix() {
		if info.Name == f {
			return info, true
		}
	}
	return FaultInfo{}, false
}

// knownEventTypes is every event_type name Socure documents on any page
// (the RiskOS webhook list, the event tables and the watchlist and case
// management pages), so that reject-unknown-type rejects
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
