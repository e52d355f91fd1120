package reports

import (
	"net/http"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// Distinctive secrets planted in the fixture: the scrub test greps every
// rendered byte for them.
const (
	secretBearer   = "tok-SENTINEL-b7f3e9a1c4"
	secretPassword = "pw-SENTINEL-93kd8"
	secretClient   = "cs-SENTINEL-x81la0"
	basicUser      = "riskos"
)

var fixtureStart = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func intPtr(v int) *int { return &v }

// fixtureAttempts is a deterministic set of deliveries: latencies of 1..60
// ms across two event types, three slow ones over the 500 ms budget, a
// 503, a 400 and two transport errors.
func fixtureAttempts() []harness.Attempt {
	var as []harness.Attempt
	for i := 1; i <= 60; i++ {
		t := "evaluation_completed"
		if i%3 == 0 {
			t = "case_notes_added"
		}
		as = append(as, harness.Attempt{EventID: "evt-" + time.Duration(i).String(), EventType: t, Attempt: 1, Status: 200, Latency: time.Duration(i) * time.Millisecond})
	}
	as = append(as,
		harness.Attempt{EventID: "evt-slow-1", EventType: "evaluation_completed", Status: 200, Latency: 620 * time.Millisecond},
		harness.Attempt{EventID: "evt-slow-2", EventType: "evaluation_completed", Status: 200, Latency: 1400 * time.Millisecond},
		harness.Attempt{EventID: "evt-slow-3", EventType: "evaluation_completed", Status: 200, Latency: 2100 * time.Millisecond},
		harness.Attempt{EventID: "evt-503", Status: 503, Latency: 3 * time.Millisecond},
		harness.Attempt{EventID: "evt-400", Status: 400, Latency: 2 * time.Millisecond},
		harness.Attempt{EventID: "evt-to", ErrorClass: harness.ErrTimeout, Latency: 30 * time.Second},
		harness.Attempt{EventID: "evt-reset", ErrorClass: harness.ErrReset},
	)
	return as
}

// fixtureReport is a deterministic report exercising every renderer path:
// failed MUST and SHOULD results with evidence, skips, notes, deliveries, a
// load section and a config snapshot. Secrets are planted where a careless
// caller would leave them: reasons, headers, bodies, URLs and config.
func fixtureReport() *Report {
	cfg := harness.DefaultConfig()
	cfg.Target = "https://" + basicUser + ":" + secretPassword + "@receiver.example.com/webhooks/riskos?token=" + secretBearer
	cfg.Auth = harness.AuthConfig{Type: harness.AuthBearer, BearerToken: harness.Secret(secretBearer)}
	cfg.Auth.OAuth2.ClientSecret = harness.Secret(secretClient)
	cfg.Headers = []harness.Header{{Name: "X-Tenant", Value: "acme"}, {Name: "X-Echo", Value: secretClient}}
	cfg.Effects.URL = "http://127.0.0.1:8081/_hookproof/effects"

	authHdr := http.Header{}
	authHdr.Set("Authorization", "Bearer "+secretBearer)
	authHdr.Set("Content-Type", "application/json")
	authHdr.Set("User-Agent", "hookproof/test")

	results := []RequirementResult{
		{ID: "ACK-01", Status: StatusPassed, Reason: "60 of 60 events acked 2xx across 2 event types", DurationMS: 412.5},
		{ID: "ACK-02", Status: StatusFailed, Reason: "p99 ack latency 2100 ms exceeds the 500 ms budget", DurationMS: 5230,
			Evidence: []Evidence{{
				Summary:   "slowest delivery",
				Request:   &RequestEvidence{Method: "POST", URL: "https://receiver.example.com/webhooks/riskos", Headers: harness.RedactHeaders(authHdr), BodyExcerpt: `{"event_id":"evt-slow-3","event_type":"evaluation_completed","data":{"note":"<b>bold</b> & co"}}`},
				Status:    200,
				LatencyMS: 2100,
				Expected:  "ack within 500 ms",
				EventID:   "evt-slow-3",
			}}},
		{ID: "ACK-03", Status: StatusFailed, Reason: "2 acks were 202, not 200", DurationMS: 0.4,
			Evidence: []Evidence{{Summary: "202 Accepted", Status: 202, LatencyMS: 4.2, EventID: "evt-202"}}},
		{ID: "IDEM-01", Status: StatusPassed, Reason: "3 duplicates acked 200", DurationMS: 22},
		{ID: "IDEM-02", Status: StatusPassed, DurationMS: 1040,
			Evidence: []Evidence{{Summary: "duplicate processed once", EventID: "evt-dup-1", ProbeCount: intPtr(1)}}},
		{ID: "AUTH-01", Status: StatusFailed, Reason: "request without credentials answered 200 | processed", DurationMS: 8,
			Evidence: []Evidence{{
				Summary:    "no Authorization header",
				Request:    &RequestEvidence{Method: "POST", URL: "https://receiver.example.com/webhooks/riskos", Headers: map[string]string{"Content-Type": "application/json"}},
				Status:     200,
				LatencyMS:  3.1,
				Expected:   "401 or 403",
				EventID:    "evt-auth-1",
				ProbeCount: intPtr(0),
			}}},
		{ID: "AUTH-02", Status: StatusPassed, Reason: "receiver echoed the token " + secretBearer + " in its 401 body", DurationMS: 9},
		{ID: "AUTH-05", Status: StatusSkipped, Reason: "applies to --auth oauth2 only; this run uses bearer"},
		{ID: "VAL-03", Status: StatusFailed, Reason: "a 2 MiB body was answered 500 <script>alert(1)</script>", DurationMS: 310,
			Evidence: []Evidence{{Summary: "oversized body", Status: 500, LatencyMS: 120, Error: "", Expected: "413 or another 4xx"}}},
		{ID: "RETRY-01", Status: StatusFailed, Reason: "1 event lost: answered 400 (not retryable)", DurationMS: 1,
			Evidence: []Evidence{{Summary: "lost event", EventID: "evt-400", Status: 400}}},
	}
	r := &Report{
		Tool:         Tool{Name: "hookproof", Version: "v0.1.0-test"},
		Profile:      harness.ProfileQuick,
		Target:       cfg.Target,
		StartedAt:    fixtureStart,
		FinishedAt:   fixtureStart.Add(14*time.Second + 250*time.Millisecond),
		Notes:        []string{"idempotency unverified for IDEM-05: no --restart-command", "retry waits scaled by 0.01: 362 s of RiskOS backoff ran in 3.6 s"},
		Config:       cfg,
		Requirements: Complete(results, harness.ProfileQuick, "not run"),
		Deliveries:   NewDeliveryStats(fixtureAttempts(), 500*time.Millisecond),
	}
	capacity := 840.0
	r.Load = &LoadSection{
		RequestedRate: 50, SentRate: 49.9, Throughput: 49.7, Requests: 1500, SuccessRatio: 0.998,
		LatencyMS:        LatencyMS{P50: 3.2, P90: 6.1, P95: 8.4, P99: 21.7, P999: 88, Max: 143},
		ServiceLatencyMS: &LatencyMS{P50: 3.1, P90: 5.9, P95: 8, P99: 19, P999: 70, Max: 120},
		StatusCodes:      map[string]uint64{"200": 1497, "503": 2, "500": 1},
		Retryable:        2, Lost: 1,
		LostEvents:  []LostEvent{{EventID: "evt-load-lost-1", Status: 500}},
		CapacityRPS: &capacity,
		DurationS:   30,
		Histogram:   []Bucket{{UpperMS: 1, Count: 10}, {UpperMS: 2, Count: 200}, {UpperMS: 5, Count: 900}, {UpperMS: 10, Count: 300}, {UpperMS: 20, Count: 70}, {UpperMS: 50, Count: 15}, {UpperMS: 100, Count: 4}, {UpperMS: 200, Count: 1}},
	}
	for i := 0; i <= 30; i++ {
		p99 := 12 + float64(i%7)*2
		if i == 17 {
			p99 = 143
		}
		r.Load.Series = append(r.Load.Series, SeriesPoint{T: float64(i), Rate: 50 - float64(i%3)*0.2, P50: 3 + float64(i%4)*0.3, P99: p99})
	}
	r.Decide(false)
	return r
}

// fixtureSecrets is what a caller knows: the config's secrets and the
// Basic pair.
func fixtureSecrets() []string {
	return []string{secretBearer, secretPassword, secretClient, basicUser + ":" + secretPassword}
}
