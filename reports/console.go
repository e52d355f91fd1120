package reports

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// ANSI colours for the console table.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
)

// consoleReasonWidth keeps each row on one line of a 120-column terminal.
const consoleReasonWidth = 80

// WriteConsole writes the final table for the terminal: one row per
// requirement, then the counts and the verdict line. ANSI colour is used
// only when color is true: the caller decides (a terminal, no NO_COLOR),
// so CI logs stay free of escape codes.
func WriteConsole(w io.Writer, r *Report, color bool) error {
	if r == nil {
		return errors.New("reports: nil report")
	}
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return code + s + ansiReset
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%-9s %-6s %-7s %s\n", "ID", "LEVEL", "STATUS", "REASON")
	for _, q := range r.Requirements {
		status := fmt.Sprintf("%-7s", strings.ToUpper(statusWord(q.Status)))
		switch q.Status {
		case StatusPassed:
			status = paint(ansiGreen, status)
		case StatusFailed:
			if q.Level == "MUST" {
				status = paint(ansiBold+ansiRed, status)
			} else {
				status = paint(ansiYellow, status)
			}
		default:
			status = paint(ansiDim, status)
		}
		fmt.Fprintf(bw, "%-9s %-6s %s %s\n", oneLine(q.ID, 9), oneLine(q.Level, 6), status, oneLine(q.Reason, consoleReasonWidth))
	}
	for _, q := range r.Requirements {
		if q.Status != StatusFailed || q.Reproduce == nil {
			continue
		}
		fmt.Fprintf(bw, "\nreproduce %s: %s\n", q.ID, oneLine(q.Reproduce.Command, 400))
		for _, rq := range q.Reproduce.Requests {
			fmt.Fprintf(bw, "  request %s: %s\n", rq.File, oneLine(rq.Send, 400))
		}
	}
	c := Count(r.Requirements)
	fmt.Fprintf(bw, "\n%d passed, %d failed (%d MUST, %d SHOULD), %d skipped", c.Passed, c.Failed, c.MustFailed, c.ShouldFailed, c.Skipped)
	if d := r.Deliveries; d != nil && d.Total > 0 {
		fmt.Fprintf(bw, "; %d deliveries, ack p99 %s", d.Total, formatMS(d.AckLatencyMS.P99))
	}
	if l := r.Load; l != nil {
		fmt.Fprintf(bw, "; load %d requests at %s/s, p99 %s %s, %s acked, %d lost", l.Requests, numText(l.Throughput), formatMS(l.LatencyMS.P99), l.LatencyBasis(), percentText(l.SuccessRatio), l.Lost)
	}
	fmt.Fprintf(bw, " in %s\n", formatDuration(r.Duration()))
	for _, n := range r.Notes {
		fmt.Fprintf(bw, "note: %s\n", oneLine(n, 200))
	}
	head := strings.ToUpper(verdictWord(r.Verdict)) + ": " + r.Headline()
	if r.Partial() && r.Kind != KindLoad {
		head = "PARTIAL CERTIFICATION (" + r.Filter + "): " + head + " (only the selected checks ran)"
	}
	if r.Verdict == VerdictPass {
		head = paint(ansiBold+ansiGreen, head)
	} else {
		head = paint(ansiBold+ansiRed, head)
	}
	fmt.Fprintln(bw, head)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("reports: write console summary: %w", err)
	}
	return nil
}

func statusWord(s string) string {
	switch s {
	case StatusPassed:
		return "pass"
	case StatusFailed:
		return "FAIL"
	}
	return "skip"
}

// oneLine flattens s to one line of at most n runes, and strips control
// characters: a receiver's answer quoted in a reason must not be able to
// move the cursor or recolour the terminal.
func oneLine(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	return string(rs[:n-1]) + "…"
}
