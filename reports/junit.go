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
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	// No skipped attribute: the Jenkins xunit schema does not allow one
	// on <testsuites> (suites carry theirs).
	Time   string       `xml:"time,attr"`
	Suites []JUnitSuite `xml:"testsuite"`
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
	Error     *JUnitFailure `xml:"error"`
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

// JUnitSkipped is a skipped requirement, or a SHOULD warning (Type
// "warning") when the run is not strict.
type JUnitSkipped struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes r as junit.xml: one test suite per area, one test case
// per requirement named "ID: title". A failed MUST (or, under --strict, a
// failed SHOULD) is a <failure> whose type is its level and whose body
// lists the evidence and the reproduction.
//
// A failed SHOULD without --strict does not fail the run, so it must not
// turn the CI test view red on a green job; it is a <skipped type="warning">
// whose message starts with "WARNING". Of the ways to keep it visible, that
// one shows best: GitLab, Jenkins and the GitHub test-report actions list
// skipped cases with their message in the summary (Jenkins keeps the build
// SUCCESS, not UNSTABLE), whereas a passed case's <system-out> is only seen
// by someone who opens that case.
//
// A run that did not finish (interrupted, or an error verdict: the target
// became unreachable) adds a "hookproof.run" suite whose one case is an
// <error>, so that CI shows the run as broken rather than green.
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
	if r.Seed != 0 {
		props = append(props, JUnitProperty{Name: "seed", Value: strconv.FormatInt(r.Seed, 10)})
	}
	if r.Partial() {
		props = append(props, JUnitProperty{Name: "partial", Value: r.Filter})
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
	if msg := runError(r); msg != "" {
		doc.Suites = append(doc.Suites, JUnitSuite{
			Name: "hookproof.run", Tests: 1, Errors: 1, Time: seconds(r.Duration().Seconds()), Timestamp: stamp, Properties: props,
			Cases: []JUnitCase{{Name: "the run completed", Classname: "hookproof.run", Time: seconds(r.Duration().Seconds()),
				Error: &JUnitFailure{Message: msg, Type: "run"}}},
		})
		doc.Tests++
		doc.Errors++
	}
	for _, g := range r.Areas() {
		s := JUnitSuite{Name: "hookproof." + g.Area, Timestamp: stamp, Properties: props}
		var total float64
		for _, q := range g.Requirements {
			if r.Kind == KindLoad && q.Status == StatusSkipped {
				continue // a load report judges only the load requirements
			}
			c := JUnitCase{
				Name:      q.ID + ": " + q.Title,
				Classname: "hookproof." + g.Area,
				Time:      seconds(q.DurationMS / 1000),
			}
			total += q.DurationMS / 1000
			s.Tests++
			switch {
			case q.Status == StatusFailed && Warning(q, r.Strict):
				s.Skipped++
				c.Skipped = &JUnitSkipped{Type: "warning",
					Message: "WARNING: SHOULD requirement failed (a warning: it fails the run only with --strict): " + q.Reason,
					Body:    failureText(q)}
			case q.Status == StatusFailed:
				s.Failures++
				c.Failure = &JUnitFailure{Message: q.Level + ": " + q.Reason, Type: q.Level, Body: failureText(q)}
			case q.Status == StatusSkipped:
				s.Skipped++
				c.Skipped = &JUnitSkipped{Message: q.Reason}
			default:
				c.SystemOut = strings.TrimSpace(q.Reason + "\n" + evidenceText(q))
			}
			s.Cases = append(s.Cases, c)
		}
		if s.Tests == 0 {
			continue
		}
		s.Time = seconds(total)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
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

// Warning reports whether q is a failed SHOULD that does not fail the run.
func Warning(q RequirementResult, strict bool) bool {
	return q.Status == StatusFailed && q.Level != "MUST" && !strict
}

// runError says why the run itself is broken, "" when it finished.
func runError(r *Report) string {
	switch {
	case r.Verdict == VerdictError:
		return "the run could not be completed (target unreachable): " + r.Headline()
	case r.Interrupted:
		return "the run was interrupted before it finished: requirements not reached are skipped and nothing is certified"
	}
	return ""
}

// failureText is a failure's evidence followed by how to reproduce it.
func failureText(q RequirementResult) string {
	t := evidenceText(q)
	if rp := q.Reproduce; rp != nil {
		t += "\nreproduce: " + rp.Command + "\n"
		for _, rq := range rp.Requests {
			t += "  request saved as " + rq.File + "\n  " + rq.Send + "\n  " + rq.Curl + "\n"
		}
	}
	return t
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
