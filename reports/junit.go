package reports

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// JUnit XML as Jenkins, GitLab and GitHub test reporters read it. The
// types are exported so tests and tools can parse junit.xml back.

// JUnitSuites is the document root.
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one requirement area.
type JUnitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []JUnitProperty `xml:"properties>property"`
	Cases      []JUnitCase     `xml:"testcase"`
}

// JUnitProperty is a name/value pair on a suite.
type JUnitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// JUnitCase is one requirement.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitFailure `xml:"failure"`
	Skipped   *JUnitSkipped `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitFailure is a failed requirement: Type is its level (MUST or SHOULD),
// so a CI reader can tell a failed certification from a warning.
type JUnitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

// JUnitSkipped is a skipped requirement.
type JUnitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes r as junit.xml: one test suite per area, one test case
// per requirement named "ID: title". A failed requirement is a <failure>
// whose type is its level and whose body lists the evidence; a failed
// SHOULD is a failure too (CI should show it), while the suites' verdict
// property and the exit code carry whether the run failed.
func WriteJUnit(w io.Writer, r *Report) error {
	if r == nil {
		return errors.New("reports: nil report")
	}
	doc := JUnitSuites{Name: "hookproof", Time: seconds(r.Duration().Seconds())}
	props := []JUnitProperty{
		{Name: "hookproof.version", Value: r.Tool.Version},
		{Name: "profile", Value: r.Profile},
		{Name: "target", Value: r.Target},
		{Name: "verdict", Value: r.Verdict},
		{Name: "interrupted", Value: strconv.FormatBool(r.Interrupted)},
	}
	if r.Insecure {
		props = append(props, JUnitProperty{Name: "certifiable", Value: "false: TLS verification was turned off"})
	}
	for i, n := range r.Notes {
		props = append(props, JUnitProperty{Name: fmt.Sprintf("note.%d", i+1), Value: n})
	}
	stamp := ""
	if !r.StartedAt.IsZero() {
		stamp = r.StartedAt.UTC().Format("2006-01-02T15:04:05")
	}
	for _, g := range r.Areas() {
		s := JUnitSuite{Name: "hookproof." + g.Area, Timestamp: stamp, Properties: props}
		var total float64
		for _, q := range g.Requirements {
			c := JUnitCase{
				Name:      q.ID + ": " + q.Title,
				Classname: "hookproof." + g.Area,
				Time:      seconds(q.DurationMS / 1000),
			}
			total += q.DurationMS / 1000
			s.Tests++
			switch q.Status {
			case StatusFailed:
				s.Failures++
				c.Failure = &JUnitFailure{Message: q.Level + ": " + q.Reason, Type: q.Level, Body: evidenceText(q)}
			case StatusSkipped:
				s.Skipped++
				c.Skipped = &JUnitSkipped{Message: q.Reason}
			default:
				c.SystemOut = strings.TrimSpace(q.Reason + "\n" + evidenceText(q))
			}
			s.Cases = append(s.Cases, c)
		}
		s.Time = seconds(total)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("reports: write junit.xml: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("reports: encode junit.xml: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("reports: write junit.xml: %w", err)
	}
	return nil
}

func seconds(s float64) string { return strconv.FormatFloat(s, 'f', 3, 64) }

// evidenceText renders a result's evidence as plain text, one block per
// observation, for JUnit bodies and the console.
func evidenceText(q RequirementResult) string {
	var b strings.Builder
	for i, e := range q.Evidence {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "- %s\n", e.Summary)
		if e.Request != nil {
			fmt.Fprintf(&b, "  request: %s %s\n", e.Request.Method, e.Request.URL)
			for _, k := range sortedKeys(e.Request.Headers) {
				fmt.Fprintf(&b, "    %s: %s\n", k, e.Request.Headers[k])
			}
			if e.Request.BodyExcerpt != "" {
				fmt.Fprintf(&b, "  body: %s\n", e.Request.BodyExcerpt)
			}
		}
		if line := answerLine(e); line != "" {
			fmt.Fprintf(&b, "  answer: %s\n", line)
		}
		if e.Expected != "" {
			fmt.Fprintf(&b, "  expected: %s\n", e.Expected)
		}
		if e.EventID != "" {
			fmt.Fprintf(&b, "  event_id: %s\n", e.EventID)
		}
		if e.ProbeCount != nil {
			fmt.Fprintf(&b, "  processed (probe count): %d\n", *e.ProbeCount)
		}
	}
	return b.String()
}

// answerLine says what came back: status and latency, or the error.
func answerLine(e Evidence) string {
	var parts []string
	if e.Status != 0 {
		parts = append(parts, "status "+strconv.Itoa(e.Status))
	}
	if e.Error != "" {
		parts = append(parts, "error "+e.Error)
	}
	if e.LatencyMS != 0 {
		parts = append(parts, formatMS(e.LatencyMS))
	}
	return strings.Join(parts, ", ")
}

// formatMS prints a latency with precision that suits its size.
func formatMS(v float64) string {
	switch {
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + " s"
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
	default:
		return strconv.FormatFloat(v, 'f', 2, 64) + " ms"
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// formatDuration prints a run duration for humans.
func formatDuration(d time.Duration) string {
	if d <= 0 {
		return "n/a"
	}
	return d.Round(time.Millisecond).String()
}
