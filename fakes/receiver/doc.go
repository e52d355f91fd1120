// Package receiver is hookproof's reference receiver of RiskOS webhooks: an
// http.Handler that does everything a RiskOS receiver is required to do, and
// that can be broken on purpose, one named Fault at a time, so that every
// certification check can be shown to pass on the good receiver and to catch
// the bad one. Variants switch on other correct designs (a rate limiter, an
// in-flight lock, a slow worker with an unbounded queue, a 202 ack, a proxy
// that drops the connection after a 431), which certification must pass.
//
// The compliant receiver authenticates before it parses, limits and
// validates the body, deduplicates on event_id atomically (optionally
// surviving a restart through a state file), acknowledges before it
// processes (a bounded queue feeds a worker pool, and a full queue answers
// 503 with Retry-After), and exposes what it processed at the effects
// endpoint GET /_hookproof/effects?event_id=ID so that exactly-once can be
// observed from outside.
//
// Server wraps a Receiver with an httptest-style life cycle on loopback, and
// ListenAndServe runs one standalone for the CLI.
package receiver
