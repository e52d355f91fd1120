package reports

import (
	"fmt"
	"strings"

	"github.com/hookproof/hookproof/harness"
)

// Verdict judges requirement results: VerdictFail when a MUST requirement
// failed, when strict and a SHOULD requirement failed, or when no MUST
// requirement passed at all; VerdictPass otherwise.
//
// The last rule is deliberate. A pass is a certification claim, and a run
// in which every MUST check was skipped (a label filter that selected
// nothing, a probe-less run against a receiver whose other checks could not
// run, an empty result set) has produced no evidence for it. Reporting such
// a run as "pass" would let a misconfigured CI job go green on zero
// evidence; failing it makes the job look at the reasons instead. Skips
// among passing MUSTs (say, the probe-only IDEM checks) do not fail the run:
// they appear in the report with their reasons and in its notes.
//
// An interrupted run is never a pass either: Report.Decide applies that,
// since it is a fact about the run rather than about any one requirement.
func Verdict(reqs []RequirementResult, strict bool) string {
	c := Count(reqs)
	switch {
	case c.MustFailed > 0:
		return VerdictFail
	case strict && c.ShouldFailed > 0:
		return VerdictFail
	case c.MustPassed == 0:
		return VerdictFail
	}
	return VerdictPass
}

// VerdictError is the verdict of a run that could not judge the receiver
// at all (Report.Error says why): neither a pass nor a failure of the
// receiver, and never green in CI.
const VerdictError = "error"

// Decide sets r.Strict and r.Verdict from the requirements, failing an
// interrupted or stopped run, and returns the verdict. A report with an
// Error keeps VerdictError whatever its requirements say. Decide is also
// how a stored report's verdict is recomputed: a stored verdict is never
// trusted over its requirements.
func (r *Report) Decide(strict bool) string {
	r.Strict = strict
	r.Verdict = Verdict(r.Requirements, strict)
	if r.Interrupted || r.Stopped != "" {
		r.Verdict = VerdictFail
	}
	if r.Error != "" {
		r.Verdict = VerdictError
	}
	return r.Verdict
}

// SetError records that the run could not judge the receiver, and why.
func (r *Report) SetError(cause string) {
	r.Error = cause
	r.Verdict = VerdictError
}

// Headline says in one sentence why the report has its verdict, for the
// banner of every renderer, which shows the verdict word itself.
func (r *Report) Headline() string {
	c := Count(r.Requirements)
	var b strings.Builder
	if r.Verdict == VerdictError {
		b.WriteString("the receiver could not be judged: " + r.Error)
	} else if r.Verdict == VerdictPass {
		b.WriteString("every MUST requirement that ran passed")
		if c.ShouldFailed > 0 {
			fmt.Fprintf(&b, "; %d SHOULD requirement%s failed (warning%s)", c.ShouldFailed, plural(c.ShouldFailed), plural(c.ShouldFailed))
		}
	} else {
		var why []string
		if r.Interrupted {
			why = append(why, "the run was interrupted before it finished")
		}
		if r.Stopped != "" {
			why = append(why, "the run stopped early: "+r.Stopped)
		}
		if c.MustFailed > 0 {
			why = append(why, fmt.Sprintf("%d MUST requirement%s failed (%s)", c.MustFailed, plural(c.MustFailed), strings.Join(failedIDs(r.Requirements, "MUST"), ", ")))
		}
		if r.Strict && c.ShouldFailed > 0 {
			why = append(why, fmt.Sprintf("%d SHOULD requirement%s failed under --strict (%s)", c.ShouldFailed, plural(c.ShouldFailed), strings.Join(failedIDs(r.Requirements, "SHOULD"), ", ")))
		}
		if c.MustFailed == 0 && c.MustPassed == 0 {
			why = append(why, "no MUST requirement was checked, so nothing is certified")
		}
		if len(why) == 0 {
			why = append(why, "the run did not meet its requirements")
		}
		b.WriteString(strings.Join(why, "; "))
	}
	if r.Insecure {
		b.WriteString(". NOT CERTIFIABLE: TLS verification was turned off")
	}
	return b.String()
}

func failedIDs(reqs []RequirementResult, level string) []string {
	var ids []string
	for _, q := range reqs {
		if q.Status == StatusFailed && q.Level == level {
			ids = append(ids, q.ID)
		}
	}
	return ids
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Complete returns results with every harness.Catalogue requirement exactly
// once, in catalogue order: a requirement with no result becomes skipped
// with missingReason (e.g. "not run"), levels follow profile (the
// production profile makes TLS-01 a MUST), and area and title come from the
// catalogue. When results hold an ID twice, the worse status wins (failed
// over passed over skipped) and evidence is concatenated, so a requirement
// checked by several specs reports once. Results for IDs outside the
// catalogue are kept after the catalogue ones, in their order, so nothing
// observed is silently dropped.
func Complete(results []RequirementResult, profile, missingReason string) []RequirementResult {
	byID := map[string]RequirementResult{}
	var order []string
	for _, r := range results {
		if prev, ok := byID[r.ID]; ok {
			byID[r.ID] = combine(prev, r)
			continue
		}
		byID[r.ID] = r
		order = append(order, r.ID)
	}
	out := make([]RequirementResult, 0, len(harness.Catalogue)+len(order))
	for _, q := range harness.Catalogue {
		r, ok := byID[q.ID]
		if !ok {
			r = RequirementResult{ID: q.ID, Status: StatusSkipped, Reason: missingReason}
		}
		delete(byID, q.ID)
		r.Level = string(q.LevelFor(profile))
		r.Area = q.Area
		if r.Title == "" {
			r.Title = q.Title
		}
		if r.Status != StatusPassed && r.Status != StatusFailed {
			r.Status = StatusSkipped
		}
		out = append(out, r)
	}
	for _, id := range order {
		if r, ok := byID[id]; ok {
			out = append(out, r)
		}
	}
	return out
}

// combine merges two results for one requirement: the worse status keeps
// its reason, both keep their evidence, durations add up.
func combine(a, b RequirementResult) RequirementResult {
	out := a
	if StatusRank(b.Status) > StatusRank(a.Status) {
		out = b
	} else if StatusRank(b.Status) == StatusRank(a.Status) && b.Reason != "" && b.Reason != a.Reason {
		if out.Reason == "" {
			out.Reason = b.Reason
		} else {
			out.Reason = a.Reason + "; " + b.Reason
		}
	}
	out.Evidence = append(append([]Evidence(nil), a.Evidence...), b.Evidence...)
	out.DurationMS = a.DurationMS + b.DurationMS
	if out.Title == "" {
		out.Title = a.Title
	}
	return out
}

// AreaTitle names a catalogue area for humans.
func AreaTitle(area string) string {
	switch area {
	case "ACK":
		return "Delivery and acknowledgement"
	case "IDEM":
		return "Idempotency on event_id"
	case "AUTH":
		return "Authentication"
	case "VAL":
		return "Untrusted input"
	case "RETRY":
		return "Retry semantics and loss"
	case "LOAD":
		return "Throughput"
	case "TLS":
		return "Transport"
	}
	return area
}
