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
	{ID: "AUTH-05", Level: Must, Title: "(OAuth2) Forged or invalid access tokens are rejected with 401 or 403.", Check: "Random token; JWT with tampered signature; alg: none; HS256 keyed with the issuer's public key and a key id not in its JWKS when its public keys are known (--oauth2-jwks-url, or the issuer's metadata); expired and wrong-audience tokens when hookproof issues the tokens."},
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

// Guidance is what `hookproof explain ID` adds to a requirement: what a
// correct receiver answers, and the ways receivers commonly fail it.
type Guidance struct {
	// Answer is what a compliant receiver does.
	Answer string `json:"answer"`
	// Failures are common ways real receivers fail the requirement.
	Failures []string `json:"failures"`
}

// Guide returns the requirement's guidance (zero for an unknown ID).
func (r Requirement) Guide() Guidance { return guidance[r.ID] }

// guidance holds one entry per catalogue requirement (a test checks it).
var guidance = map[string]Guidance{
	"ACK-01": {"200 (or another 2xx) to every valid, authenticated event of a subscribed type, including optional fields it does not use.", []string{
		"rejecting an optional field or enum value the receiver does not know (400 or 422): RiskOS never retries those, so the event is lost",
		"validating event_at as fresh: retries carry the original event time, so a late retry is rejected",
		"a handler that does the work before acknowledging and times out under a slow dependency"}},
	"ACK-02": {"Acknowledge first and process asynchronously (a queue, an outbox), so the ack takes milliseconds whatever the work costs.", []string{
		"processing synchronously inside the request (database writes, calls to other services)",
		"a cold start or connection-pool exhaustion that pushes p99 over the budget",
		"a lock held across the whole request while duplicates of the same event wait"}},
	"ACK-03": {"Exactly 200: some RiskOS products treat any other status, even 202 or 204, as a failed delivery.", []string{
		"202 Accepted from a queueing receiver", "204 No Content from a framework's empty response"}},
	"ACK-04": {"The webhook path answers the POST itself; RiskOS does not follow a redirect, so a 3xx means the event was never delivered.", []string{
		"an http:// to https:// redirect in front of the receiver", "a trailing-slash redirect (/webhooks to /webhooks/)",
		"a login redirect from an authentication proxy"}},
	"IDEM-01": {"2xx to a duplicate it has already processed (and does not process it again).", []string{
		"409 Conflict for a known duplicate: 409 is in RiskOS's retry set, so the sender retries it up to 10 times and records the event as failed",
		"400 or 422 \"already processed\", which loses the delivery's ack"}},
	"IDEM-02": {"2xx to the duplicate, with no second side effect: deduplicate on event_id before doing the work.", []string{
		"no deduplication at all", "deduplicating on a hash of the body or on a header rather than on event_id",
		"recording the event_id only after the work, so a failure in between leaves it unrecorded"}},
	"IDEM-03": {"One copy wins (a unique constraint or an atomic insert on event_id, in the same transaction as the work); the others get 2xx once the winner has committed, or 409/423 while it is in flight, which RiskOS retries.", []string{
		"check-then-insert without a lock or unique index: every concurrent copy sees \"not seen yet\" and processes",
		"an in-process map or cache on each replica, so copies reaching different instances are all processed",
		"answering 500 to the copies that lose the race, which RiskOS does not retry"}},
	"IDEM-04": {"When the ack was lost, the redelivery is recognised by event_id and acknowledged without processing again.", []string{
		"marking the event as seen only after the response is written",
		"deduplicating per connection or per request ID, which changes on redelivery"}},
	"IDEM-05": {"The dedupe record lives in durable storage (the database, a persistent cache), so it survives restarts and deploys.", []string{
		"an in-memory set of seen event_ids that a restart or deploy empties"}},
	"IDEM-06": {"Deduplicate on the event_id value alone: the same event re-serialised (other key order, whitespace) with new header values is the same event.", []string{
		"deduplicating on a hash of the raw body", "deduplicating on a request ID or an Authorization value that changes between attempts"}},
	"IDEM-07": {"Keep dedupe records at least as long as the sender retries (about 6 minutes of backoff plus attempt timeouts; 24 hours or more is common practice).", []string{
		"a dedupe cache with a 5-minute TTL, as some webhook examples suggest", "an LRU cache that evicts event_ids under load"}},
	"AUTH-01": {"401 (with WWW-Authenticate) or 403, before reading or parsing the body.", []string{
		"authentication middleware mounted on other routes but not on the webhook path",
		"an \"allow if no header\" branch left from development", "parsing and validating the body first, answering 400 to unauthenticated input"}},
	"AUTH-02": {"401 or 403 for a wrong token, a wrong Basic user or password, or a token issued to another client.", []string{
		"comparing only a prefix of the token, or trimming it", "accepting any well-formed Bearer token",
		"checking the Basic password but not the user"}},
	"AUTH-03": {"401 or 403 when credentials come in another scheme or place than configured (Basic for Bearer, a token in the query string or a custom header).", []string{
		"accepting a token from the query string as well as from the header (it ends up in access logs)",
		"accepting either scheme when only one is configured"}},
	"AUTH-04": {"400, 401, 403 or 431 (or closing the connection) for an empty token, a scheme without a token, invalid base64 or an oversized header; never 2xx, never 5xx.", []string{
		"a 500 from a base64 or header parser that panics on malformed input", "treating an empty token as \"no auth configured\""}},
	"AUTH-05": {"401 or 403 for any token that is not a valid, unexpired, correctly signed token for this audience: random strings, tampered signatures, alg: none, HS256 keyed with the issuer's public key, unknown key ids, expired or wrong-audience tokens.", []string{
		"decoding the JWT without verifying its signature", "letting the token header choose the algorithm (alg: none, HS256 with the RSA public key)",
		"not checking exp or aud"}},
	"AUTH-06": {"A rejected request has no side effect: authentication runs before any processing.", []string{
		"processing in a middleware or a background hook that runs before authentication",
		"enqueueing the event first and authenticating in the worker"}},
	"AUTH-07": {"2xx for a token obtained by the client-credentials grant, and for the next token after a refresh.", []string{
		"pinning the first token (or its key) instead of validating each token", "a stale JWKS cache that rejects tokens signed with a rotated key"}},
	"VAL-01": {"400 (or another non-retryable 4xx) for malformed JSON, and no processing.", []string{
		"500 from an unhandled parse error (RiskOS does not retry it, and it signals a crash)",
		"503 or another retryable status: ten pointless retries of a body that will never parse",
		"accepting trailing data after the JSON object (Go's json.Decoder without an end-of-input check)"}},
	"VAL-02": {"400 or 422 for an envelope without event_id or event_type, or with the wrong JSON type for them.", []string{
		"accepting a missing event_id and deduplicating every such event as the same empty ID",
		"a 500 from a type assertion on a number where a string was expected"}},
	"VAL-03": {"413 (or another 4xx) for a body over the limit, read no further than the limit, and stay healthy for the next event.", []string{
		"reading the whole body into memory before checking its size", "no limit at all, so a large body exhausts memory",
		"a 500 from the limit reader's error"}},
	"VAL-04": {"415 (or another 4xx) for a non-JSON Content-Type; application/json with parameters (charset) must still be accepted.", []string{
		"ignoring Content-Type entirely", "rejecting application/json; charset=utf-8"}},
	"VAL-05": {"2xx for an unknown event_type: acknowledge and ignore it, so new RiskOS event types do not start retry storms.", []string{
		"400 or 404 for an unrecognised event_type", "a switch statement whose default case panics"}},
	"VAL-06": {"2xx for events carrying fields the receiver does not know, in the envelope and in data.", []string{
		"strict decoding (DisallowUnknownFields, additionalProperties: false) of a payload RiskOS may extend"}},
	"VAL-07": {"A 4xx (or a 2xx after safe handling) for deeply nested, huge, invalid-UTF-8 or duplicate-key JSON, answered quickly, and a valid event acknowledged afterwards.", []string{
		"a recursive parser that overflows the stack on deep nesting (fatal in Go: the process dies)",
		"unbounded memory for huge strings or arrays", "a 5xx or a hang on invalid UTF-8"}},
	"VAL-08": {"404 or 405 to GET, PUT and DELETE on the webhook path.", []string{
		"a catch-all route that answers 200 to every method", "processing a PUT as if it were a POST"}},
	"VAL-09": {"2xx for every documented spelling of an enum value (ON HOLD beside ON_HOLD).", []string{
		"an enum check that knows only one spelling and answers 400, which loses the event"}},
	"RETRY-01": {"Only 2xx for success, and only RiskOS-retryable statuses (408, 409, 423, 429, 502, 503, 504) for failures it wants redelivered; 503 is the usual choice for a transient fault.", []string{
		"500 for a transient fault (the database is down): RiskOS does not retry 500, so the event is lost",
		"400 or 422 for a valid event the receiver could not handle right now"}},
	"RETRY-02": {"Under overload, shed with 429 or 503 (ideally with Retry-After) and acknowledge the retries once capacity frees up; each event is processed once.", []string{
		"shedding with 500 or by closing connections in a way that loses events", "a queue that drops work when full after acknowledging it",
		"processing an event twice when a retry overtakes the first attempt"}},
	"RETRY-03": {"A Retry-After header (seconds) on every 429 and 503.", []string{
		"a rate limiter or proxy that answers 429/503 without Retry-After"}},
	"LOAD-01": {"At the required rate, at least 99.9 % of deliveries acknowledged 2xx with p99 within the ack budget.", []string{
		"a connection or worker pool smaller than rate × latency", "synchronous processing whose latency grows with load",
		"garbage-collection or lock contention pauses that push p99 over the budget"}},
	"LOAD-02": {"Headroom: LOAD-01's bounds still hold at twice the required rate.", []string{
		"sized exactly for the required rate, with no headroom for bursts or retries"}},
	"LOAD-03": {"Every event processed exactly once under load with duplicates mixed in.", []string{
		"deduplication that holds for sequential duplicates but races under concurrency",
		"a dedupe cache evicted under load"}},
	"LOAD-04": {"During a spike, only 2xx or retryable answers (429/503), and LOAD-01's bounds again afterwards.", []string{
		"500 or connection resets when saturated", "not recovering after the spike (a stuck queue, leaked connections)"}},
	"TLS-01": {"HTTPS with a certificate chain valid for the host, TLS 1.2 or newer only.", []string{
		"a self-signed or expired certificate, or one for another host name", "TLS 1.0/1.1 still enabled on the load balancer"}},
	"TLS-02": {"No plain-HTTP webhook endpoint: the http:// URL refuses the connection or answers nothing a client could send credentials to.", []string{
		"an http:// listener that serves the webhook too", "a plain-HTTP redirect to HTTPS after the credentials were already sent in clear"}},
}
