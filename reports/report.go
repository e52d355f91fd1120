package reports

import (
	"time"
)

// Requirement statuses, as report.json spells them.
const (
	StatusPassed  = "passed"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
)

// Verdicts, as report.json spells them.
const (
	VerdictPass = "pass"
	VerdictFail = "fail"
)

// Report is everything a run found: the contract behind report.json,
// which scripts and CI read. Field names and JSON tags are a contract; add
// fields, never rename them.
type Report struct {
	Tool    Tool   `json:"tool"`
	Profile string `json:"profile"`
	// Target is the receiver URL with any userinfo and credential-bearing
	// query parameters redacted.
	Target     string    `json:"target"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Verdict is VerdictPass, VerdictFail or VerdictError; see Verdict and Report.Decide.
	Verdict string `json:"verdict"`
	// Strict records whether failed SHOULD requirements failed the run.
	Strict bool `json:"strict,omitempty"`
	// Interrupted marks a run stopped by a signal before it finished; such
	// a run is never a pass.
	Interrupted bool `json:"interrupted,omitempty"`
	// Insecure marks a run made with TLS verification turned off: its
	// verdict cannot certify the receiver, and every renderer says so.
	Insecure bool `json:"insecure,omitempty"`
	// Error is why the run could not judge the receiver at all (verdict
	// VerdictError), e.g. no answer to the preflight delivery.
	Error string `json:"error,omitempty"`
	// Stopped is why the run ended before every check ran (the target
	// stopped answering, the run deadline); such a run is never a pass.
	Stopped string `json:"stopped,omitempty"`
	// Notes are caveats a reader must see next to the verdict, such as
	// "idempotency unverified: no effects probe".
	Notes []string `json:"notes,omitempty"`
	// MergedFrom counts the shard reports this one was merged from (0: not
	// a merge); LoadExact says its load section was rebuilt from the
	// shards' raw results, so its percentiles are exact, not upper bounds.
	MergedFrom int  `json:"merged_from,omitempty"`
	LoadExact  bool `json:"load_exact,omitempty"`
	// Config is a snapshot of the run's configuration. Callers pass a
	// harness.Config, whose Secret fields marshal as harness.Redacted;
	// Scrub turns it into scrubbed JSON (json.RawMessage) so that a
	// secret held in a plain string field is removed as well.
	Config       any                 `json:"config,omitempty"`
	Requirements []RequirementResult `json:"requirements"`
	Deliveries   *DeliveryStats      `json:"deliveries,omitempty"`
	Load         *LoadSection        `json:"load,omitempty"`
}

// Tool names the program and version that wrote the report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// RequirementResult is the outcome of one catalogue requirement.
type RequirementResult struct {
	ID    string `json:"id"`
	Level string `json:"level"`
	Area  string `json:"area"`
	Title string `json:"title"`
	// Status is StatusPassed, StatusFailed or StatusSkipped.
	Status string `json:"status"`
	// Reason says why it failed or was skipped (and may say how it passed).
	Reason     string     `json:"reason,omitempty"`
	Evidence   []Evidence `json:"evidence,omitempty"`
	DurationMS float64    `json:"duration_ms"`
}

// Evidence is one concrete observation behind a result: what was sent and
// what came back.
type Evidence struct {
	Summary string           `json:"summary"`
	Request *RequestEvidence `json:"request,omitempty"`
	// Status is the HTTP status received, 0 when no answer came.
	Status    int     `json:"status,omitempty"`
	LatencyMS float64 `json:"latency_ms,omitempty"`
	// Error is the transport error class or message when no answer came.
	Error string `json:"error,omitempty"`
	// Expected says what a compliant receiver would have done.
	Expected string `json:"expected,omitempty"`
	// ProbeCount is the effects probe's processing count for EventID; nil
	// when no probe was read (0 is a real observation).
	ProbeCount *int   `json:"probe_count,omitempty"`
	EventID    string `json:"event_id,omitempty"`
}

// RequestEvidence is the request hookproof sent, with credentials redacted.
type RequestEvidence struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	Headers     map[string]string `json:"headers,omitempty"`
	BodyExcerpt string            `json:"body_excerpt,omitempty"`
}

// Counts tallies requirement results by status and level.
type Counts struct {
	Total, Passed, Failed, Skipped int
	// MustFailed and ShouldFailed count failures by level.
	MustFailed, ShouldFailed int
	// MustPassed counts passed MUST requirements.
	MustPassed int
}

// Count tallies reqs.
func Count(reqs []RequirementResult) Counts {
	var c Counts
	for _, r := range reqs {
		c.Total++
		switch r.Status {
		case StatusPassed:
			c.Passed++
			if r.Level == "MUST" {
				c.MustPassed++
			}
		case StatusFailed:
			c.Failed++
			switch r.Level {
			case "MUST":
				c.MustFailed++
			case "SHOULD":
				c.ShouldFailed++
			}
		default:
			c.Skipped++
		}
	}
	return c
}

// Duration returns how long the run took, 0 when a bound is missing.
func (r *Report) Duration() time.Duration {
	if r.StartedAt.IsZero() || r.FinishedAt.IsZero() || r.FinishedAt.Before(r.StartedAt) {
		return 0
	}
	return r.FinishedAt.Sub(r.StartedAt)
}

// Areas returns the report's requirements grouped by area, areas in first
// appearance order (catalogue order for a completed report).
func (r *Report) Areas() []AreaGroup {
	var groups []AreaGroup
	index := map[string]int{}
	for _, q := range r.Requirements {
		i, ok := index[q.Area]
		if !ok {
			i = len(groups)
			index[q.Area] = i
			groups = append(groups, AreaGroup{Area: q.Area})
		}
		groups[i].Requirements = append(groups[i].Requirements, q)
	}
	return groups
}

// AreaGroup is one area's requirements, for renderers.
type AreaGroup struct {
	Area         string
	Requirements []RequirementResult
}

// timeString prints a timestamp in UTC RFC 3339, or "n/a".
func timeString(t time.Time) string {
	if t.IsZero() {
		return "n/a"
	}
	return t.UTC().Format(time.RFC3339)
}
