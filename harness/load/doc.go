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
// Against a plain-http target, requests go through a minimal HTTP/1.1
// keep-alive transport (h1Transport) instead of net/http's: each worker
// writes and reads on a pooled connection of its own, bounded by one
// watchdog per transport, so a hit costs no goroutine hand-off, timer,
// header-map copy, response header map or allocation in the transport. At
// maximum rate on two cores shared with the receiver it sent 1.61× the
// events per second of net/http's transport (scripts/bench-load, medians of
// three alternating 10 s runs: 41,776/s against 25,887/s; 1.55× and 1.81×
// in two more such sets on a busier machine). Options.Transport
// (hookproof load --transport net/http) rules it out. TLS targets use
// net/http.
//
// Every run is bounded in time and in request count, and targets loopback
// unless Config.AllowRemoteLoad is set (ErrNotLoopback otherwise).
package load
