package reports

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Change is one difference between two reports of the same receiver.
type Change struct {
	// ID is a requirement ID, "verdict", or a load figure ("load.p99").
	ID string
	// From and To are the base and new values, as words or figures.
	From, To string
	// Detail says what the change means, e.g. the new failure's reason.
	Detail string
}

// Diff is what changed from a base report (the last main-branch run, say)
// to a new one.
type Diff struct {
	// Regressions are worse statuses and load figures beyond the threshold:
	// any one fails `hookproof report diff`.
	Regressions []Change
	// Improvements are better statuses and figures, for the record.
	Improvements []Change
	// Unchecked are requirements that ran in the base but were skipped in
	// the new report: not a regression of the receiver, but lost coverage.
	Unchecked []Change
	// MaxRegression is the relative threshold load figures were held to.
	MaxRegression float64
	// Verdicts are the base and new verdicts.
	Verdicts [2]string
}

// Regressed reports whether the new report is worse than the base.
func (d Diff) Regressed() bool { return len(d.Regressions) > 0 }

// Compare diffs base and new. A requirement regresses when it failed in new
// and did not in base; the verdict regresses from pass to anything else.
// Load figures regress when capacity or the success ratio fell, or the p99
// latency rose, by more than maxRegression relative to the base (0.1: 10 %).
func Compare(base, new *Report, maxRegression float64) Diff {
	d := Diff{MaxRegression: maxRegression, Verdicts: [2]string{base.Verdict, new.Verdict}}
	before := map[string]RequirementResult{}
	for _, q := range base.Requirements {
		before[q.ID] = q
	}
	for _, q := range new.Requirements {
		b, ok := before[q.ID]
		if !ok || b.Status == q.Status {
			continue
		}
		c := Change{ID: q.ID, From: b.Status, To: q.Status, Detail: q.Reason}
		switch {
		case q.Status == StatusFailed:
			if Warning(q, new.Strict) {
				c.To = "failed (SHOULD warning)"
			}
			d.Regressions = append(d.Regressions, c)
		case b.Status == StatusFailed:
			d.Improvements = append(d.Improvements, c)
		case q.Status == StatusSkipped:
			d.Unchecked = append(d.Unchecked, c)
		}
	}
	if bl, nl := base.Load, new.Load; bl != nil && nl != nil {
		lower := func(id string, b, n float64, unit string) {
			// higher is better: capacity, success ratio
			switch {
			case b > 0 && n < b*(1-maxRegression):
				d.Regressions = append(d.Regressions, Change{ID: id, From: figure(b, unit), To: figure(n, unit), Detail: fmt.Sprintf("%.1f %% lower", (b-n)/b*100)})
			case b > 0 && n > b*(1+maxRegression):
				d.Improvements = append(d.Improvements, Change{ID: id, From: figure(b, unit), To: figure(n, unit), Detail: fmt.Sprintf("%.1f %% higher", (n-b)/b*100)})
			}
		}
		if bl.CapacityRPS != nil && nl.CapacityRPS != nil {
			lower("load.capacity", *bl.CapacityRPS, *nl.CapacityRPS, "/s")
		}
		lower("load.success_ratio", bl.SuccessRatio, nl.SuccessRatio, "ratio")
		b, n := bl.LatencyMS.P99, nl.LatencyMS.P99
		switch {
		case b > 0 && n > b*(1+maxRegression):
			d.Regressions = append(d.Regressions, Change{ID: "load.p99", From: formatMS(b), To: formatMS(n), Detail: fmt.Sprintf("%.1f %% slower", (n-b)/b*100)})
		case b > 0 && n < b*(1-maxRegression):
			d.Improvements = append(d.Improvements, Change{ID: "load.p99", From: formatMS(b), To: formatMS(n), Detail: fmt.Sprintf("%.1f %% faster", (b-n)/b*100)})
		}
	}
	// A verdict that got worse with no requirement to blame (an
	// interrupted run, say) is a regression of its own.
	if base.Verdict == VerdictPass && new.Verdict != VerdictPass && !d.Regressed() {
		d.Regressions = append(d.Regressions, Change{ID: "verdict", From: base.Verdict, To: new.Verdict, Detail: new.Headline()})
	}
	return d
}

func figure(v float64, unit string) string {
	if unit == "ratio" {
		return percentText(v)
	}
	return numText(v) + unit
}

// WriteDiff writes d as plain text, or as Markdown for a pull-request
// comment when md is true.
func WriteDiff(w io.Writer, d Diff, md bool) error {
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	word := "no regression"
	if d.Regressed() {
		word = fmt.Sprintf("%d regression%s", len(d.Regressions), plural(len(d.Regressions)))
	}
	sections := []struct {
		title   string
		changes []Change
	}{{"Regressions", d.Regressions}, {"No longer checked", d.Unchecked}, {"Improvements", d.Improvements}}
	if md {
		p("## hookproof report diff: %s\n\n", word)
		p("Verdict %s → %s. Load figures are held to a %s threshold.\n", strings.ToUpper(d.Verdicts[0]), strings.ToUpper(d.Verdicts[1]), percentText(d.MaxRegression))
		for _, s := range sections {
			if len(s.changes) == 0 {
				continue
			}
			p("\n### %s\n\n| What | Base | New | Detail |\n|---|---|---|---|\n", s.title)
			for _, c := range s.changes {
				p("| %s | %s | %s | %s |\n", mdEscape(c.ID), mdEscape(c.From), mdEscape(c.To), mdEscape(c.Detail))
			}
		}
	} else {
		p("hookproof report diff: %s (verdict %s -> %s; load threshold %s)\n", word, d.Verdicts[0], d.Verdicts[1], percentText(d.MaxRegression))
		for _, s := range sections {
			if len(s.changes) == 0 {
				continue
			}
			p("\n%s:\n", s.title)
			for _, c := range s.changes {
				line := fmt.Sprintf("  %-18s %s -> %s", c.ID, c.From, c.To)
				if c.Detail != "" {
					line += ": " + oneLine(c.Detail, 160)
				}
				p("%s\n", strings.TrimRight(line, " "))
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("reports: write diff: %w", err)
	}
	return nil
}
