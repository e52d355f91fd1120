package reports

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// There is no XSD validator in Go's standard library or this module's
// dependencies (the usual ones bind libxml2 through cgo), so the test
// interprets the subset of XML Schema that testdata/junit.xsd uses:
// top-level elements, each either xs:string text or a complexType with
// attributes (required or not, typed by a pattern restriction or
// xs:string), child element refs in a sequence or choice, and mixed
// content. It checks element names, allowed children, allowed and
// required attributes, attribute patterns and where text may appear; it
// does not check ordering or occurrence counts, which the JUnit schema
// leaves unbounded anyway.

type xsdElement struct {
	text     bool // xs:string or mixed: character data allowed
	children map[string]bool
	attrs    map[string]*regexp.Regexp // nil pattern: any string
	required []string
}

type xsdNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []xsdNode  `xml:",any"`
}

func (n xsdNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n xsdNode) walk(f func(xsdNode)) {
	f(n)
	for _, c := range n.Children {
		c.walk(f)
	}
}

// loadXSD reads the schema into one rule per top-level element.
func loadXSD(t *testing.T, path string) map[string]*xsdElement {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var root xsdNode
	if err := xml.Unmarshal(b, &root); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	patterns := map[string]*regexp.Regexp{}
	for _, st := range root.Children {
		if st.XMLName.Local != "simpleType" {
			continue
		}
		st.walk(func(n xsdNode) {
			if n.XMLName.Local == "pattern" {
				patterns[st.attr("name")] = regexp.MustCompile("^(?:" + n.attr("value") + ")$")
			}
		})
	}
	rules := map[string]*xsdElement{}
	for _, el := range root.Children {
		if el.XMLName.Local != "element" {
			continue
		}
		r := &xsdElement{children: map[string]bool{}, attrs: map[string]*regexp.Regexp{}}
		if el.attr("type") == "xs:string" {
			r.text = true
		}
		for _, ct := range el.Children {
			if ct.XMLName.Local != "complexType" {
				continue
			}
			r.text = ct.attr("mixed") == "true"
			ct.walk(func(n xsdNode) {
				switch n.XMLName.Local {
				case "element":
					r.children[n.attr("ref")] = true
				case "attribute":
					name := n.attr("name")
					r.attrs[name] = patterns[n.attr("type")]
					if n.attr("use") == "required" {
						r.required = append(r.required, name)
					}
				}
			})
		}
		rules[el.attr("name")] = r
	}
	if len(rules) == 0 {
		t.Fatalf("%s declares no elements", path)
	}
	return rules
}

// textNode keeps character data, which xsdNode drops.
type textNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []textNode `xml:",any"`
}

// validateXSD returns every way doc breaks the rules.
func validateXSD(rules map[string]*xsdElement, root string, doc []byte) []string {
	var n textNode
	if err := xml.Unmarshal(doc, &n); err != nil {
		return []string{err.Error()}
	}
	if n.XMLName.Local != root {
		return []string{fmt.Sprintf("root element <%s>; want <%s>", n.XMLName.Local, root)}
	}
	var problems []string
	var check func(n textNode, path string)
	check = func(n textNode, path string) {
		path += "/" + n.XMLName.Local
		r, ok := rules[n.XMLName.Local]
		if !ok {
			problems = append(problems, path+": element not in the schema")
			return
		}
		seen := map[string]bool{}
		for _, a := range n.Attrs {
			seen[a.Name.Local] = true
			pat, ok := r.attrs[a.Name.Local]
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("%s: attribute %s is not allowed", path, a.Name.Local))
			case pat != nil && !pat.MatchString(a.Value):
				problems = append(problems, fmt.Sprintf("%s: attribute %s=%q does not match %s", path, a.Name.Local, a.Value, pat))
			}
		}
		for _, req := range r.required {
			if !seen[req] {
				problems = append(problems, fmt.Sprintf("%s: required attribute %s is missing", path, req))
			}
		}
		if !r.text && strings.TrimSpace(n.Text) != "" {
			problems = append(problems, path+": text is not allowed here")
		}
		for _, c := range n.Children {
			if !r.children[c.XMLName.Local] {
				problems = append(problems, fmt.Sprintf("%s: <%s> is not allowed inside", path, c.XMLName.Local))
				continue
			}
			check(c, path)
		}
	}
	check(n, "")
	return problems
}

func junitOf(t *testing.T, r *Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The validator itself must reject what the schema forbids, or the test
// below proves nothing.
func TestJUnitXSDValidatorRejectsInvalidDocuments(t *testing.T) {
	rules := loadXSD(t, "testdata/junit.xsd")
	for name, doc := range map[string]string{
		"skipped on testsuites": `<testsuites skipped="1"></testsuites>`,
		"suite without errors":  `<testsuites><testsuite name="a" tests="1" failures="0"></testsuite></testsuites>`,
		"case without name":     `<testsuites><testsuite name="a" tests="1" failures="0" errors="0"><testcase/></testsuite></testsuites>`,
		"bad time":              `<testsuites time="1s"></testsuites>`,
		"unknown child":         `<testsuites><testsuite name="a" tests="1" failures="0" errors="0"><testcase name="x"><warning/></testcase></testsuite></testsuites>`,
		"text in testcase":      `<testsuites><testsuite name="a" tests="1" failures="0" errors="0"><testcase name="x">oops</testcase></testsuite></testsuites>`,
	} {
		if p := validateXSD(rules, "testsuites", []byte(doc)); len(p) == 0 {
			t.Errorf("%s: accepted %s", name, doc)
		}
	}
}

// TestJUnitValidatesAgainstXSD: every shape of junit.xml hookproof writes
// (the fixture, strict, SHOULD-only warnings, interrupted, error verdict,
// a load report, an empty report) follows the Jenkins JUnit schema.
func TestJUnitValidatesAgainstXSD(t *testing.T) {
	rules := loadXSD(t, "testdata/junit.xsd")
	variants := map[string]func(r *Report){
		"fixture":     func(*Report) {},
		"strict":      func(r *Report) { r.Decide(true) },
		"interrupted": func(r *Report) { r.Interrupted = true; r.Decide(false) },
		"error":       func(r *Report) { r.Verdict = VerdictError },
		"load":        func(r *Report) { r.Kind = KindLoad },
		"empty":       func(r *Report) { r.Requirements = nil },
		"should-only": func(r *Report) { *r = *shouldOnlyReport(false) },
	}
	for name, mutate := range variants {
		r := scrubbedFixture()
		mutate(r)
		if p := validateXSD(rules, "testsuites", junitOf(t, r)); len(p) > 0 {
			t.Errorf("%s: junit.xml breaks testdata/junit.xsd:\n%s", name, strings.Join(p, "\n"))
		}
	}
}

// shouldOnlyReport passes every MUST and fails one SHOULD (ACK-03).
func shouldOnlyReport(strict bool) *Report {
	var reqs []RequirementResult
	for _, q := range Complete(nil, "quick", "") {
		q.Status = StatusPassed
		if q.ID == "ACK-03" {
			q.Status, q.Reason = StatusFailed, "answered 202 to 5 valid events; some RiskOS products accept only 200"
		}
		reqs = append(reqs, q)
	}
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &Report{Tool: Tool{Name: "hookproof", Version: "test"}, Profile: "quick", Target: "http://127.0.0.1:9/hook",
		StartedAt: start, FinishedAt: start.Add(time.Second), Requirements: reqs}
	r.Decide(strict)
	return r
}

func TestJUnitShouldFailureIsAWarningUnlessStrict(t *testing.T) {
	for _, strict := range []bool{false, true} {
		r := shouldOnlyReport(strict)
		var doc JUnitSuites
		if err := xml.Unmarshal(junitOf(t, r), &doc); err != nil {
			t.Fatal(err)
		}
		var ack03 JUnitCase
		failures := 0
		for _, s := range doc.Suites {
			failures += s.Failures
			for _, c := range s.Cases {
				if strings.HasPrefix(c.Name, "ACK-03:") {
					ack03 = c
				}
			}
		}
		if !strict {
			if r.Verdict != VerdictPass || doc.Failures != 0 || failures != 0 {
				t.Errorf("not strict: verdict %s, failures=%d (suites %d); want pass and 0", r.Verdict, doc.Failures, failures)
			}
			if ack03.Skipped == nil || ack03.Skipped.Type != "warning" || !strings.Contains(ack03.Skipped.Message, "WARNING") || !strings.Contains(ack03.Skipped.Message, "202") {
				t.Errorf("not strict: ACK-03 = %+v; want a visible warning with the reason", ack03)
			}
			continue
		}
		if r.Verdict != VerdictFail || doc.Failures != 1 || ack03.Failure == nil || ack03.Failure.Type != "SHOULD" {
			t.Errorf("strict: verdict %s, failures=%d, ACK-03 failure %+v; want fail, 1, a SHOULD failure", r.Verdict, doc.Failures, ack03.Failure)
		}
	}
}

func TestJUnitInterruptedRunIsAnError(t *testing.T) {
	for name, mutate := range map[string]func(*Report){
		"interrupted": func(r *Report) { r.Interrupted = true; r.Decide(false) },
		"error":       func(r *Report) { r.Verdict = VerdictError },
	} {
		r := shouldOnlyReport(false)
		mutate(r)
		var doc JUnitSuites
		if err := xml.Unmarshal(junitOf(t, r), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Errors != 1 || len(doc.Suites) == 0 || doc.Suites[0].Errors != 1 || doc.Suites[0].Cases[0].Error == nil {
			t.Errorf("%s: errors=%d, first suite %+v; want one <error> case", name, doc.Errors, doc.Suites[0])
		}
	}
}
