package harness

import (
	"fmt"
	"strings"
)

// Level says what a failed requirement does to the verdict.
type Level string

const (
	// Must failures fail the certification (exit 1).
	Must Level = "MUST"
	// Should failures are warnings; they never fail a run unless --strict.
	Should Level = "SHOULD"
)

// Requirement is one entry of the catalogue, docs/requirements.md (a test
// keeps the two identical). IDs are a contract: reports, labels (req:ID) and
// outside scripts match on them.
type Requirement struct {
	ID    string `json:"id"`
	Level Level  `json:"level"`
	Area  string `json:"area"`
	Title string `json:"title"`
	// Check says how hookproof checks it.
	Check string `json:"check"`
}

// Areas of the catalogue, in report order.
var Areas = []string{"ACK", "IDEM", "AUTH", "VAL", "RETRY", "LOAD", "TLS"}

// Catalogue is every requirement, in report order.
var Catalogue = []Requirement{
	{ID: "ACK-01", Level: Must, Title: "Every subscribed event type, schema-valid and correctly authenticated, is acknowledged with 2xx.", Check: "One or more generated events per subscribed type, varied optional fields."},
	{ID: "ACK-02", Level: Must, Title: "Acks are fast: p99 ack latency ≤ the ack budget (default 500 ms) and no delivery reaches the delivery timeout (default 30 s).", Check: "Latency of every conformance delivery; percentiles reported per event type."},
	{ID: "ACK-03", Level: Should, Title: "The ack status is exactly 200 (some RiskOS products accept nothing else).", Check: "Status of ACK-01 deliveries."},
	{ID: "ACK-04", Level: Must, Title: "No redirect (3xx) is answered to a webhook POST: RiskOS does not follow it.", Check: "Status of every delivery."},

	{ID: "IDEM-01", Level: Must, Title: "A duplicate delivery (same event_id, same body) is acknowledged 2xx: never 409 (retryable: it would start a retry storm) nor any other error.", Check: "Sequential duplicates."},
	{ID: "IDEM-02", Level: Must, Title: "A sequential duplicate is processed once.", Check: "Probe count = 1 after the effects settle."},
	{ID: "IDEM-03", Level: Must, Title: "N copies (default 8) arriving at the same instant are each finally acknowledged (2xx at once, or after retryable answers such as 409/423 for a copy still in flight, through the retry loop) and the event is processed once.", Check: "Concurrent burst released by a barrier; each copy through the retry loop; probe."},
	{ID: "IDEM-04", Level: Must, Title: "A redelivery after a lost ack (the sender gave up waiting for the response) is processed once.", Check: "Sender aborts the first attempt before reading the response, then redelivers after the RiskOS first-retry wait at real scale (2 s; --time-scale never shortens it); probe."},
	{ID: "IDEM-05", Level: Should, Title: "Deduplication survives a receiver restart.", Check: "Needs --restart-command; deliver, restart, redeliver; probe."},
	{ID: "IDEM-06", Level: Should, Title: "A redelivery is recognised by event_id alone: new header values (e.g. a refreshed token) and the same JSON re-serialised (other key order, whitespace) still count as a duplicate.", Check: "Re-serialised redelivery; probe count = 1."},
	{ID: "IDEM-07", Level: Should, Title: "Duplicates are recognised for at least the sender's whole retry span (about 6 min of RiskOS backoff). A dedupe memory shorter than that processes a late retry twice.", Check: "Redelivery after the real retry span (--profile production, or --dedupe-retention D); probe. Skipped otherwise, with the reason."},

	{ID: "AUTH-01", Level: Must, Title: "A request without credentials is rejected with 401 or 403.", Check: "Valid event, no Authorization header."},
	{ID: "AUTH-02", Level: Must, Title: "Wrong credentials are rejected with 401 or 403.", Check: "Wrong Bearer token; wrong Basic password; wrong Basic user; token for another client."},
	{ID: "AUTH-03", Level: Must, Title: "Credentials in the wrong place or scheme are rejected with 401 or 403.", Check: "Basic when Bearer is expected and vice versa; token in the query string; token in a custom header."},
	{ID: "AUTH-04", Level: Must, Title: "Malformed credentials are rejected with 400, 401, 403 or 431 (or the connection closed), never 2xx or 5xx.", Check: "Empty token, scheme without token, non-base64 Basic, oversized header."},
	{ID: "AUTH-05", Level: Must, Title: "(OAuth2) Forged or invalid access tokens are rejected with 401 or 403.", Check: "Random token; JWT with tampered signature; alg: none; expired and wrong-audience tokens when hookproof issues the tokens."},
	{ID: "AUTH-06", Level: Must, Title: "A rejected request is not processed.", Check: "Probe count = 0 for every AUTH-01..05 event."},
	{ID: "AUTH-07", Level: Must, Title: "(OAuth2) The receiver accepts a token obtained by the client-credentials grant from the configured token URL, and keeps accepting after the token is refreshed.", Check: "Real token fetch, delivery, forced refresh, delivery."},

	{ID: "VAL-01", Level: Must, Title: "Malformed JSON is rejected with 4xx (not retryable, not 5xx) and not processed.", Check: "Truncated JSON, trailing garbage, non-object JSON."},
	{ID: "VAL-02", Level: Must, Title: "An envelope missing event_id or event_type, or with wrong JSON types for them, is rejected with 4xx.", Check: "Each field missing, null, number, empty string."},
	{ID: "VAL-03", Level: Must, Title: "A body over the size limit (default 1 MiB) is rejected with 413 or another 4xx, and the receiver stays healthy.", Check: "Oversized valid JSON, then a valid event must still be acked."},
	{ID: "VAL-04", Level: Should, Title: "A non-JSON Content-Type is rejected with 415 or another 4xx.", Check: "text/plain carrying a valid event."},
	{ID: "VAL-05", Level: Should, Title: "An unknown event_type in a valid envelope is acknowledged 2xx (forward compatibility).", Check: "event_type not in the catalogue."},
	{ID: "VAL-06", Level: Must, Title: "Unknown extra fields, in the envelope and in data, are tolerated: 2xx.", Check: "Extra fields added to valid events."},
	{ID: "VAL-07", Level: Must, Title: "Hostile JSON never causes 5xx, a hang or a crash: deep nesting, huge strings and arrays, invalid UTF-8, duplicate keys. The receiver answers a valid event afterwards.", Check: "Each hostile body, then a liveness delivery."},
	{ID: "VAL-08", Level: Should, Title: "Methods other than POST are answered 404 or 405.", Check: "GET, PUT, DELETE on the webhook path."},
	{ID: "VAL-09", Level: Should, Title: "Spelling variants of enum values that the RiskOS documentation leaves open (e.g. ON HOLD beside ON_HOLD in case events) are acknowledged 2xx.", Check: "Valid events carrying each documented variant."},

	{ID: "RETRY-01", Level: Must, Title: "Every non-2xx answer to a valid, authenticated event is retryable; any other status means the event is lost.", Check: "All deliveries of the run, load included; lost events listed with their status."},
	{ID: "RETRY-02", Level: Must, Title: "Under overload, with the sender retrying per the RiskOS policy (time-compressed), every event is finally acknowledged (and, with a probe, processed exactly once).", Check: "Burst above capacity through the full retry loop; per-event ledger reconciled."},
	{ID: "RETRY-03", Level: Should, Title: "429 and 503 answers carry a Retry-After header.", Check: "Headers of those answers."},

	{ID: "LOAD-01", Level: Must, Title: "At the required rate (default 50 events/s) for the duration (default 30 s), ≥ 99.9 % of deliveries are acked 2xx and p99 ≤ the ack budget.", Check: "Open-model constant-rate load of unique, valid, authenticated events."},
	{ID: "LOAD-02", Level: Should, Title: "The receiver's capacity (highest rate meeting LOAD-01's bounds) is at least 2× the required rate.", Check: "Capacity search; the figure is reported either way."},
	{ID: "LOAD-03", Level: Must, Title: "Under load with duplicates mixed in (default 10 %), every event is processed exactly once.", Check: "Probe reconciliation after the run."},
	{ID: "LOAD-04", Level: Should, Title: "A spike (default 10× the required rate for 5 s) produces only 2xx or retryable answers, and the receiver recovers.", Check: "Spike, then LOAD-01 bounds for 10 s."},

	{ID: "TLS-01", Level: Should, Title: "The endpoint is HTTPS with a valid certificate chain for its host and TLS ≥ 1.2.", Check: "Handshake details."},
	{ID: "TLS-02", Level: Should, Title: "Plain HTTP is not served on the production endpoint.", Check: "http:// variant of the target."},
}

func init() {
	for i := range Catalogue {
		Catalogue[i].Area, _, _ = strings.Cut(Catalogue[i].ID, "-")
	}
}

// LookupRequirement returns the catalogue entry for id.
func LookupRequirement(id string) (Requirement, error) {
	for _, r := range Catalogue {
		if r.ID == id {
			return r, nil
		}
	}
	return Requirement{}, fmt.Errorf("harness: unknown requirement %q", id)
}

// LevelFor returns the requirement's level under a profile: the production
// profile makes TLS-01 a MUST.
func (r Requirement) LevelFor(profile string) Level {
	if r.ID == "TLS-01" && profile == ProfileProduction {
		return Must
	}
	return r.Level
}
