package reports

import (
	"bytes"
	"encoding/json"
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
	// SchemaVersion is the version of report.schema.json this report
	// follows; MarshalJSON always writes the current one.
	SchemaVersion int    `json:"schema_version"`
	Tool          Tool   `json:"tool"`
	Profile       string `json:"profile"`
	// Kind is KindCertification (or empty, in older reports) for certify,
	// KindLoad for hookproof load: a load report judges only the load
	// requirements and renderers title it so.
	Kind string `json:"kind,omitempty"`
	// Filter names what narrowed the run (--label-filter, --event-types):
	// such a run is a partial certification, and renderers say so.
	Filter string `json:"filter,omitempty"`
	// Seed is the generator and spec-order seed the run used.
	Seed int64 `json:"seed,omitempty"`
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
	// ChecksRun and ChecksTotal count the requirement's checks (specs)
	// that ran and that exist, when it has several: a pass with 4 of 13
	// checks run is a weaker claim than a pass with all of them.
	ChecksRun   int `json:"checks_run,omitempty"`
	ChecksTotal int `json:"checks_total,omitempty"`
	// Reproduce says how to replay a failure; nil for passes and skips.
	Reproduce *Reproduction `json:"reproduce,omitempty"`
}

// Reproduction replays a failed requirement: the certify line narrowed to
// it, and for single-delivery failures each request saved as a file with
// the send and curl lines that replay it.
type Reproduction struct {
	Seed     int64          `json:"seed"`
	Command  string         `json:"command"`
	Requests []ReproRequest `json:"requests,omitempty"`
}

// ReproRequest is one request saved under the report directory.
type ReproRequest struct {
	// File is relative to the report directory, e.g. evidence/IDEM-03-1.http;
	// BodyFile holds the body alone, for --body-file and curl.
	File     string `json:"file"`
	BodyFile string `json:"body_file"`
	Send     string `json:"send"`
	Curl     string `json:"curl"`
}

// Report kinds.
const (
	KindCertification = "certification"
	KindLoad          = "load"
)

// SchemaVersion is the version of report.schema.json this package writes.
// Bump it when a field changes meaning or a required field is added.
const SchemaVersion = 1

// MarshalJSON writes r with the current schema_version, whatever the field
// holds: a report read from an older file and written again follows the
// schema of the writer.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	c := plain(r)
	c.SchemaVersion = SchemaVersion
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	// The writer decides about HTML escaping (WriteJSON turns it off);
	// escaping here would decide for it.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Partial reports whether the run was narrowed, so that it cannot certify.
func (r *Report) Partial() bool { return r.Filter != "" }

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
	// AnswerExcerpt is the start of the receiver's answer body, scrubbed,
	// when it helps explain a rejection (a lost event's 400, say).
	AnswerExcerpt string `json:"answer_excerpt,omitempty"`
	// Detail is the check's raw observation (e.g. a matcher's message),
	// kept for debugging; Summary is what readers see.
	Detail string `json:"detail,omitempty"`
}

// RequestEvidence is the request hookproof sent, with credentials redacted.
type RequestEvidence struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	Headers     map[string]string `json:"headers,omitempty"`
	BodyExcerpt string            `json:"body_excerpt,omitempty"`
	// Body is the whole body when it is small enough to replay from the
	// report (a few KiB); BodyExcerpt is what readers see.
	Body string `json:"body,omitempty"`
	// Concurrent is how many copies were released at one instant (a
	// burst), 0 for a single request.
	Concurrent int `json:"concurrent,omitempty"`
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
