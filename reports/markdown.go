package reports

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteMarkdown writes r as summary.md: the verdict in words, the counts,
// the notes, a requirement table (ID | Level | Status | Reason) and, when a
// load ran, its summary. It suits a CI job summary ($GITHUB_STEP_SUMMARY)
// or a pull-request comment, so it uses only plain GitHub-flavoured
// Markdown, and escapes reasons so that a receiver's answer cannot inject
// markup or break the table.
func WriteMarkdown(w io.Writer, r *Report) error {
	if r == nil {
		return errors.New("reports: nil report")
	}
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	c := Count(r.Requirements)

	p("## %s: %s\n\n", mdEscape(ReportTitle(r)), strings.ToUpper(verdictWord(r.Verdict)))
	p("**Verdict: %s.** %s.\n\n", strings.ToUpper(verdictWord(r.Verdict)), mdEscape(capitalise(r.Headline())))
	if r.Partial() && r.Kind != KindLoad {
		p("> **Partial certification:** this run was narrowed (%s); its verdict covers only the checks it selected.\n\n", mdEscape(r.Filter))
	}
	p("| Target | Profile | Started | Duration | hookproof |\n|---|---|---|---|---|\n")
	p("| %s | %s | %s | %s | %s |\n\n", mdCode(r.Target), mdEscape(r.Profile), mdEscape(timeString(r.StartedAt)), formatDuration(r.Duration()), mdEscape(r.Tool.Version))
	p("%d requirements: **%d passed**, **%d failed** (%d MUST, %d SHOULD), %d skipped.\n\n", c.Total, c.Passed, c.Failed, c.MustFailed, c.ShouldFailed, c.Skipped)
	if len(r.Notes) > 0 || r.Interrupted || r.Insecure {
		p("### Notes\n\n")
		if r.Interrupted {
			p("- The run was interrupted: requirements not reached are skipped.\n")
		}
		if r.Insecure {
			p("- TLS verification was turned off: this run cannot certify the receiver.\n")
		}
		for _, n := range r.Notes {
			p("- %s\n", mdEscape(n))
		}
		p("\n")
	}
	var failed []RequirementResult
	for _, q := range r.Requirements {
		if q.Status == StatusFailed {
			failed = append(failed, q)
		}
	}
	if len(failed) > 0 {
		p("### Failures\n\n")
		for _, q := range failed {
			word := "FAILED"
			if Warning(q, r.Strict) {
				word = "warning"
			}
			p("- **%s** (%s, %s): %s\n", mdEscape(q.ID), mdEscape(q.Level), word, mdEscape(q.Reason))
			if rp := q.Reproduce; rp != nil {
				p("  - reproduce: %s\n", mdCode(rp.Command))
				for _, rq := range rp.Requests {
					p("  - request %s: %s\n", mdCode(rq.File), mdCode(rq.Send))
				}
			}
		}
		p("\n")
	}
	p("### Requirements\n\n| ID | Level | Status | Reason |\n|---|---|---|---|\n")
	notJudged := 0
	for _, q := range r.Requirements {
		if r.Kind == KindLoad && q.Status == StatusSkipped {
			notJudged++
			continue
		}
		status := q.Status
		switch {
		case Warning(q, r.Strict):
			status = "**warning**"
		case q.Status == StatusFailed:
			status = "**FAILED**"
		}
		p("| %s | %s | %s | %s |\n", mdEscape(q.ID), mdEscape(q.Level), status, mdEscape(q.Reason))
	}
	if notJudged > 0 {
		p("\n%d other requirements are not judged by hookproof load (hookproof certify checks them).\n", notJudged)
	}
	if d := r.Deliveries; d != nil && d.Total > 0 {
		p("\n### Deliveries\n\n")
		p("%d delivery attempts; ack latency p50 %s, p99 %s, max %s (budget %s, %d over budget). Status codes: %s.\n",
			d.Total, formatMS(d.AckLatencyMS.P50), formatMS(d.AckLatencyMS.P99), formatMS(d.AckLatencyMS.Max),
			formatMS(d.AckBudgetMS), d.OverBudget, mdEscape(codesText(d.StatusCodes)))
	}
	if l := r.Load; l != nil {
		p("\n### Load\n\n| Requested rate | Sent rate | Throughput | Requests | Success | p50 | p99 | p99.9 | Max | Lost | Capacity |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
		p("| %s/s | %s/s | %s/s | %d | %s | %s | %s | %s | %s | %d | %s |\n",
			rateText(l.RequestedRate), numText(l.SentRate), numText(l.Throughput), l.Requests, percentText(l.SuccessRatio),
			formatMS(l.LatencyMS.P50), formatMS(l.LatencyMS.P99), formatMS(l.LatencyMS.P999), formatMS(l.LatencyMS.Max),
			l.Lost, capacityText(l.CapacityRPS))
		p("\nLatency is measured %s.\n", l.LatencyBasis())
		if w := l.Workers; w != nil {
			p("\n%s.\n", w.Sentence())
		}
		p("\nStatus codes: %s.\n", mdEscape(codesText(l.StatusCodes)))
		switch {
		case l.Shards > 1 && r.LoadExact:
			p("\nMerged from %d shards: percentiles are exact over the union of their raw results.\n", l.Shards)
		case l.Shards > 1:
			p("\nMerged from %d shards: percentiles are the maximum over shards, an upper bound.\n", l.Shards)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("reports: write summary.md: %w", err)
	}
	return nil
}

func verdictWord(v string) string {
	switch v {
	case VerdictPass:
		return "pass"
	case VerdictFail, VerdictError:
		return v
	}
	return "unknown"
}

// mdEscape makes s safe inside a table cell: one line, no pipes, and no
// characters Markdown or inline HTML would interpret.
func mdEscape(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	var b strings.Builder
	for i, word := range strings.Split(s, " ") {
		if i > 0 {
			b.WriteByte(' ')
		}
		if isBareURL(word) {
			b.WriteString(urlEscape(word))
			continue
		}
		mdEscapeWord(&b, word)
	}
	return b.String()
}

// isBareURL reports whether a word is a URL GitHub autolinks.
func isBareURL(w string) bool {
	return strings.HasPrefix(w, "https://") || strings.HasPrefix(w, "http://")
}

// urlEscape keeps a bare URL an autolink: a backslash escape inside it
// would become part of the href (%5C_hookproof), so instead the few
// characters that could break the table or start markup are
// percent-encoded, which leaves the link pointing at the same place.
func urlEscape(w string) string {
	return strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E", "`", "%60", "\\", "%5C", "[", "%5B", "]", "%5D", "&", "&amp;").Replace(w)
}

func mdEscapeWord(b *strings.Builder, s string) {
	for _, r := range s {
		switch r {
		case '|', '\\', '`', '*', '_', '[', ']', '<', '>', '#', '~', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
}

// mdCode shows s as inline code, which needs no escaping beyond backticks
// and pipes (GitHub splits table cells on pipes even inside code).
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	s = strings.NewReplacer("`", "'", "|", "%7C", "\n", " ").Replace(s)
	return "`" + s + "`"
}

func codesText[V int | uint64](m map[string]V) string {
	if len(m) == 0 {
		return "none"
	}
	return tally(" × ", m)
}

func rateText(v float64) string {
	if v == 0 {
		return "max"
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func numText(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func percentText(v float64) string { return strconv.FormatFloat(v*100, 'f', 2, 64) + " %" }

func capacityText(v *float64) string {
	if v == nil {
		return "not searched"
	}
	return strconv.FormatFloat(*v, 'f', 0, 64) + "/s"
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
