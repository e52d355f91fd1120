// Package load is hookproof's load engine: it drives vegeta (as a library)
// with a targeter of unique, schema-valid, authenticated RiskOS events, paces
// them with constant, ramp, spike or maximum-rate schedules, and folds the
// results into streaming metrics whose memory does not grow with the length
// of the run.
//
// On top of one run it offers a capacity search (the highest rate that meets
// LOAD-01's bounds) and the retry-under-overload driver of RETRY-02, which
// hands every event answered with a retryable status to a caller-supplied
// redelivery function and reconciles the per-event outcome.
//
// Latency is reported twice. Service latency is vegeta's own: from the moment
// a worker picked the hit up to the end of the response. Response latency is
// measured from the time the pacer scheduled the hit, so a generator (or a
// receiver) that falls behind its schedule shows up instead of being hidden by
// coordinated omission.
//
// Against a plain-http target the engine runs its own attack loop (attack)
// over a minimal HTTP/1.1 keep-alive transport (h1Transport), on vegeta's
// model: the same Pacer interface, Result records, error texts and results
// encodings, so results files, `vegeta report`/`plot` and merges are as
// vegeta's Attacker would leave them. Workers take their place in the
// schedule from a counter and sleep to it themselves, reuse their request,
// body buffer and connection, and hand results over in batches, so a hit
// costs no allocation, goroutine hand-off, timer or header-map copy. The
// workers follow the receiver, up to their bound: when a hit is late and
// every worker waits on the receiver, one worker a millisecond is added,
// and once the receiver has answered fewer than half the hits due for a
// tenth of the ack budget (5 to 50 ms), one for every late hit, as
// vegeta's pacer does; a worker ends only after waiting for its next hit
// longer than its last answer took, leaving its connection to the next
// one. Reports give the peak against the
// bound, and a LOAD-01 failure with every worker in flight says so. At
// maximum rate on two cores shared with the receiver it sent 1.90× the
// events per second of vegeta's Attacker over net/http, 0.91× wrk with a
// unique body per request and 2.05× vegeta's CLI (scripts/bench-load,
// medians of three alternating 10 s runs: 58,106/s, 30,553/s, 64,171/s and
// 28,294/s; in another set of three, 1.78×, 0.88× and 1.99×), and held a
// constant 20,000/s with a p99 of 2.6 ms from the schedule.
// Options.Transport (hookproof load --transport net/http) runs vegeta's
// Attacker over net/http instead, to rule the fast path out. TLS targets
// use that path too.
//
// Every run is bounded in time and in request count, and targets loopback
// unless Config.AllowRemoteLoad is set (ErrNotLoopback otherwise).
package load
