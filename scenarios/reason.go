package scenarios

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hookproof/hookproof/reports"
)

// Gomega writes a failure as the assertion's description followed by the
// matcher's own text ("Expected\n    <int>: 8\nto equal\n    <int>: 1"),
// and Eventually/Consistently prefix "Timed out after 5.001s." or "Failed
// after 0.000s.". A report reader needs the sentence about the receiver;
// plainFailure returns it as the reason and keeps the rest as detail.

var timingLine = regexp.MustCompile(`^(Timed out|Failed) after [0-9.]+m?s\.$`)

// matcherStart are the first lines of Gomega's matcher texts.
var matcherStart = []string{"Expected", "Unexpected error:", "The function passed to", "At one point, however,"}

var gomegaValue = regexp.MustCompile(`^\s*<[^>]*>: ?(.*)$`)

// plainFailure splits a Gomega failure message into a plain reason and
// the matcher detail ("" when there is none).
func plainFailure(msg string) (reason, detail string) {
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	var kept []string
	cut := len(lines)
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if timingLine.MatchString(t) {
			continue
		}
		if isMatcherLine(t) {
			cut = i
			break
		}
		kept = append(kept, l)
	}
	matcher := strings.TrimSpace(strings.Join(lines[cut:], "\n"))
	reason = strings.TrimSpace(strings.Join(kept, "\n"))
	if reason == "" {
		reason = translateMatcher(matcher)
	}
	return reason, matcher
}

func isMatcherLine(t string) bool {
	for _, p := range matcherStart {
		if t == p || strings.HasPrefix(t, p+" ") {
			return true
		}
	}
	return false
}

// translateMatcher turns a description-less matcher text into a sentence:
// "observed 8 where 1 was expected", "error: connection refused".
func translateMatcher(m string) string {
	if m == "" {
		return "the check failed without saying why"
	}
	lines := strings.Split(m, "\n")
	if strings.TrimSpace(lines[0]) == "Unexpected error:" {
		for _, l := range lines[1:] {
			if t := strings.TrimSpace(l); t != "" && !gomegaValue.MatchString(l) && !strings.HasPrefix(t, "{") {
				return "error: " + t
			}
		}
		return "an unexpected error occurred"
	}
	var values, verbs []string
	for _, l := range lines[1:] {
		if v := gomegaValue.FindStringSubmatch(l); v != nil {
			values = append(values, strings.TrimSpace(v[1]))
		} else if t := strings.TrimSpace(l); t != "" {
			verbs = append(verbs, t)
		}
	}
	switch {
	case len(values) >= 2 && len(verbs) > 0:
		return "observed " + values[0] + " where a value to " + strings.TrimPrefix(verbs[0], "to ") + " " + values[1] + " was expected"
	case len(values) == 1 && len(verbs) > 0:
		return "observed " + values[0] + ", which does not " + strings.TrimPrefix(verbs[0], "to ")
	}
	return strings.Join(strings.Fields(m), " ")
}

// keepReplayBodies keeps whole request bodies only in the evidence of a
// failed requirement, the one place they are replayed from: elsewhere the
// excerpt is enough, and report.json stays small.
func keepReplayBodies(res *reports.RequirementResult) {
	if res.Status == reports.StatusFailed {
		return
	}
	for i := range res.Evidence {
		if rq := res.Evidence[i].Request; rq != nil && rq.Body != "" {
			c := *rq
			c.Body = ""
			res.Evidence[i].Request = &c
		}
	}
}

// coverage counts a requirement's specs and why those that did not run
// were skipped, so a pass on 4 of 13 checks says so.
type coverage struct {
	total, ran int
	skips      []string // distinct reasons, in first-seen order
	skipCount  map[string]int
}

func (c *coverage) add(status, reason string) {
	if status != reports.StatusSkipped {
		c.ran++
		return
	}
	if c.skipCount == nil {
		c.skipCount = map[string]int{}
	}
	if c.skipCount[reason] == 0 {
		c.skips = append(c.skips, reason)
	}
	c.skipCount[reason]++
}

// apply records the coverage on a requirement checked by several specs,
// and words a pass with skipped checks so that it cannot read as complete.
func (c *coverage) apply(res *reports.RequirementResult) {
	if c == nil || c.total < 2 {
		return
	}
	res.ChecksRun, res.ChecksTotal = c.ran, c.total
	if res.Status != reports.StatusPassed || c.ran == c.total {
		return
	}
	parts := make([]string, 0, len(c.skips))
	for _, r := range c.skips {
		parts = append(parts, fmt.Sprintf("%d skipped: %s", c.skipCount[r], orDefault(r, "no reason given")))
	}
	res.Reason = fmt.Sprintf("%d of %d checks ran (%s)", c.ran, c.total, strings.Join(parts, "; "))
}
