// Package receiver is hookproof's reference receiver of RiskOS webhooks: an
// http.Handler that does everything the requirement catalogue
// (docs/requirements.md) asks of a receiver, and that can be broken on
// purpose, one named Fault at a time, so that every certification check can
// be shown to pass on the good receiver and to catch the bad one.
//
// The compliant receiver authenticates before it parses, limits and
// validates the body, deduplicates on event_id atomically (optionally
// surviving a restart through a state file), acknowledges before it
// processes (a bounded queue feeds a worker pool, and a full queue answers
// 503 with Retry-After), and exposes what it processed at the effects
// endpoint GET /_hookproof/effects?event_id=ID so that exactly-once can be
// observed from outside.
//
// Server wraps a Receiver with an httptest-style life cycle
// (NewUnstartedServer, Start, URL, Close), for tests and for the CLI alike.
package receiver
