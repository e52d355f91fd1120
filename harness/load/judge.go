package load

import (
	"fmt"
	"time"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

// MinSuccessRatio is the share of deliveries LOAD-01 requires acked 2xx.
const MinSuccessRatio = 0.999

// Bounds are LOAD-01's bounds on a run: the share of deliveries acked 2xx,
// and the p99 ack latency measured from the scheduled send, so that a
// receiver which makes the generator fall behind cannot pass by
// coordinated omission. The certify check, hookproof load, the merge of
// shard results and every capacity step are judged by Check.
type Bounds struct {
	MinSuccess float64       // share acked 2xx, in (0, 1]
	MaxP99     time.Duration // the ack budget
}

// Load01Bounds are LOAD-01's bounds under cfg: 99.9 % acked 2xx, p99
// within the ack budget.
func Load01Bounds(cfg harness.Config) Bounds {
	return Bounds{MinSuccess: MinSuccessRatio, MaxP99: cfg.Timeouts.AckBudget}
}

// String is the bounds as a report's "expected" line.
func (b Bounds) String() string {
	return fmt.Sprintf("≥ %g %% acked 2xx and p99 ≤ %s", 100*b.MinSuccess, b.MaxP99)
}

// Check judges s, and says why in the receiver team's terms either way.
func (b Bounds) Check(s *Summary) (ok bool, reason string) {
	at := rateLabel(s.RequestedRate)
	switch {
	case s.Requests == 0:
		return false, "no request completed " + at
	case s.SuccessRatio < b.MinSuccess:
		return false, fmt.Sprintf("success ratio %.3f %% %s: at least %g %% must be acked 2xx (%s)", 100*s.SuccessRatio, at, 100*b.MinSuccess, s.Answers())
	case s.ResponseLatencyMS.P99 > ms(b.MaxP99):
		reason := fmt.Sprintf("p99 %.1f ms from the %s %s exceeds the ack budget %s", s.ResponseLatencyMS.P99, s.latencyFrom(), at, b.MaxP99)
		if s.Workers.AtBound() {
			// The receiver is slow either way, but how slow may be the
			// generator's doing: say so, and how to tell.
			reason += fmt.Sprintf("; the generator had all %d workers in flight, so part of it may be its own lag (hookproof load --max-workers raises the bound)", s.Workers.Bound)
		}
		return false, reason
	}
	return true, fmt.Sprintf("%.3f %% acked 2xx, p99 %.1f ms from the %s %s", 100*s.SuccessRatio, s.ResponseLatencyMS.P99, s.latencyFrom(), at)
}

// Result is LOAD-01's requirement result for a whole run: the verdict of
// Check (skipped when the run was interrupted), the run's figures and its
// first lost events as evidence.
func (b Bounds) Result(s *Summary, interrupted bool) reports.RequirementResult {
	r := reports.RequirementResult{ID: "LOAD-01", DurationMS: s.DurationS * 1000}
	r.Evidence = append([]reports.Evidence{{
		Summary: fmt.Sprintf("%d requests %s (sent %.0f/s) over %.1f s: %.3f %% acked 2xx, p99 %.1f ms from the %s, %.1f ms from the actual send; %s",
			s.Requests, rateLabel(s.RequestedRate), s.SentRate, s.DurationS, 100*s.SuccessRatio, s.ResponseLatencyMS.P99, s.latencyFrom(), s.LatencyMS.P99, s.Answers()),
		LatencyMS: s.ResponseLatencyMS.P99,
		Expected:  b.String(),
	}}, s.LostEvidence(maxLostEvidence)...)
	ok, reason := b.Check(s)
	switch {
	case interrupted:
		r.Status, r.Reason = reports.StatusSkipped, fmt.Sprintf("run interrupted after %d requests", s.Requests)
	case ok:
		r.Status, r.Reason = reports.StatusPassed, reason
	default:
		r.Status, r.Reason = reports.StatusFailed, reason
	}
	return r
}

// maxLostEvidence is how many lost events a requirement result names; the
// load section lists more.
const maxLostEvidence = 5

// LostEvidence names the first n events the run lost, with their answers.
func (s *Summary) LostEvidence(n int) []reports.Evidence {
	var out []reports.Evidence
	for _, l := range s.LostEvents[:min(n, len(s.LostEvents))] {
		ev := reports.Evidence{Summary: "event lost: RiskOS would not retry this answer", EventID: l.EventID,
			Status: l.Status, Error: l.ErrorClass, Expected: "2xx, or a retryable status", AnswerExcerpt: l.AnswerExcerpt}
		if l.BodyExcerpt != "" {
			ev.Request = &reports.RequestEvidence{Method: "POST", URL: "(the load target)", BodyExcerpt: l.BodyExcerpt}
		}
		out = append(out, ev)
	}
	return out
}

// Answers summarises the run's answers as "200×980, 503×20, timeout×1".
func (s *Summary) Answers() string {
	if t := reports.Tally(s.StatusCodes, s.Errors); t != "" {
		return t
	}
	return "no answers"
}

func rateLabel(rate float64) string {
	if rate > 0 {
		return fmt.Sprintf("at %g/s", rate)
	}
	return "as fast as possible"
}

// RunReport is the report of one hookproof load run: the load section, and
// every requirement of the catalogue, LOAD-01 judged (and returned) and
// the rest skipped. LOAD-01 is judged and labelled at the rate actually
// run: after a capacity search (c not nil) that is the rate of the step
// the summary comes from.
func RunReport(cfg harness.Config, s *Summary, c *Capacity, started time.Time, interrupted bool) (*reports.Report, reports.RequirementResult) {
	load01 := Load01Bounds(cfg).Result(s, interrupted)
	rep := reports.NewRunReport(cfg, started, time.Now(), interrupted)
	rep.Requirements = reports.Complete([]reports.RequirementResult{load01}, cfg.Profile, "not judged by hookproof load")
	rep.Load = s.Section()
	if c != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("capacity search: %.0f events/s, %d steps, stopped: %s", c.RPS, len(c.Steps), c.Stopped))
	}
	rep.Decide(cfg.Strict)
	reports.Scrub(rep, cfg.Secrets())
	return rep, load01
}
