package reports

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestJUnitParsesBackWithTheRightCounts(t *testing.T) {
	r := scrubbedFixture()
	var b bytes.Buffer
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc JUnitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("junit.xml does not parse: %v", err)
	}
	c := Count(r.Requirements)
	wantFailures := c.MustFailed
	if r.Strict {
		wantFailures = c.Failed
	}
	if doc.Tests != c.Total || doc.Failures != wantFailures || doc.Errors != 0 {
		t.Errorf("testsuites tests/failures/errors = %d/%d/%d; want %d/%d/0", doc.Tests, doc.Failures, doc.Errors, c.Total, wantFailures)
	}
	if len(doc.Suites) != len(r.Areas()) {
		t.Errorf("%d suites; want one per area (%d)", len(doc.Suites), len(r.Areas()))
	}
	cases := map[string]JUnitCase{}
	for _, s := range doc.Suites {
		n, f, k := 0, 0, 0
		for _, tc := range s.Cases {
			id, _, _ := strings.Cut(tc.Name, ": ")
			cases[id] = tc
			n++
			if tc.Failure != nil {
				f++
			}
			if tc.Skipped != nil {
				k++
			}
		}
		if s.Tests != n || s.Failures != f || s.Skipped != k {
			t.Errorf("suite %s counts %d/%d/%d; its cases say %d/%d/%d", s.Name, s.Tests, s.Failures, s.Skipped, n, f, k)
		}
		props := map[string]string{}
		for _, p := range s.Properties {
			props[p.Name] = p.Value
		}
		if props["verdict"] != r.Verdict || props["profile"] != r.Profile || props["target"] != r.Target {
			t.Errorf("suite %s properties = %v; want verdict, profile and target", s.Name, props)
		}
	}
	for _, q := range r.Requirements {
		tc, ok := cases[q.ID]
		if !ok {
			t.Errorf("no test case for %s", q.ID)
			continue
		}
		if tc.Name != q.ID+": "+q.Title {
			t.Errorf("case name %q; want %q", tc.Name, q.ID+": "+q.Title)
		}
		switch q.Status {
		case StatusFailed:
			if Warning(q, r.Strict) {
				if tc.Failure != nil || tc.Skipped == nil || tc.Skipped.Type != "warning" || !strings.HasPrefix(tc.Skipped.Message, "WARNING") || !strings.Contains(tc.Skipped.Message, q.Reason) {
					t.Errorf("%s (SHOULD, not strict) = failure %+v, skipped %+v; want a skipped warning with the reason", q.ID, tc.Failure, tc.Skipped)
				}
				continue
			}
			if tc.Failure == nil || tc.Failure.Type != q.Level || !strings.Contains(tc.Failure.Message, q.Reason) {
				t.Errorf("%s failure = %+v; want type %s and the reason", q.ID, tc.Failure, q.Level)
			}
		case StatusSkipped:
			if tc.Skipped == nil || tc.Skipped.Message != q.Reason {
				t.Errorf("%s skipped = %+v; want message %q", q.ID, tc.Skipped, q.Reason)
			}
		}
	}
	// The VAL-03 reason carries markup and the ACK-02 body "<b>" and "&":
	// they must come back as text, which the parse above already proves,
	// and the evidence must be in the failure body.
	if got := cases["VAL-03"].Failure.Message; !strings.Contains(got, "<script>alert(1)</script>") {
		t.Errorf("VAL-03 message did not round-trip: %q", got)
	}
	if body := cases["ACK-02"].Failure.Body; !strings.Contains(body, "Authorization: Bearer [REDACTED]") || !strings.Contains(body, "status 200") {
		t.Errorf("ACK-02 failure body lacks the evidence:\n%s", body)
	}
}

func TestHTMLEscapesUntrustedText(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, scrubbedFixture()); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if strings.Contains(s, "<script>alert(1)") || strings.Contains(s, "<b>bold</b>") {
		t.Error("report.html contains raw markup from a reason or body excerpt")
	}
	if !strings.Contains(s, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("report.html lost the escaped reason text")
	}
	for _, banned := range []string{"http://", "https://cdn", "<link", "src=\"http", "@import"} {
		if banned == "http://" {
			continue // the config snapshot legitimately shows URLs as text
		}
		if strings.Contains(s, banned) {
			t.Errorf("report.html references the network: %q", banned)
		}
	}
}

func TestMarkdownEscapesTableCells(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, scrubbedFixture()); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "| AUTH-01 |") {
			if got := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); got != 5 {
				t.Errorf("AUTH-01 row has %d cell separators; want 5 (the reason's pipe escaped): %s", got, line)
			}
			return
		}
	}
	t.Error("no AUTH-01 row in summary.md")
}

func TestConsoleColourOnlyWhenAsked(t *testing.T) {
	var plain, colour bytes.Buffer
	r := scrubbedFixture()
	if err := WriteConsole(&plain, r, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteConsole(&colour, r, true); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(plain.Bytes(), []byte("\x1b[")) {
		t.Error("plain console output has ANSI escapes")
	}
	if !bytes.Contains(colour.Bytes(), []byte(ansiRed)) {
		t.Error("colour console output has no red for the failures")
	}
	r.Requirements[0].Reason = "evil \x1b[2J\x1b]0;title\x07 reason"
	plain.Reset()
	if err := WriteConsole(&plain, r, false); err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsAny(plain.Bytes(), "\x1b\x07") {
		t.Error("a control sequence in a reason reached the terminal")
	}
}

func TestWriteAllIsAtomicAndReadsBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out", "nested")
	r := scrubbedFixture()
	if err := WriteAll(dir, r); err != nil {
		t.Fatalf("WriteAll: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{FileJUnit, FileHTML, FileJSON, FileMarkdown} // ReadDir sorts by name
	if !reflect.DeepEqual(names, want) {
		t.Errorf("report dir holds %v; want exactly %v (no temp files)", names, want)
	}
	for _, f := range Renderers {
		var b bytes.Buffer
		if err := f.Render(&b, r); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, b.Bytes()) {
			t.Errorf("%s on disk differs from its renderer's output", f.Name)
		}
	}
	back, err := Read(filepath.Join(dir, FileJSON))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	// Re-rendering from report.json alone gives the same bytes: a report
	// never needs a live run to be regenerated.
	for _, f := range Renderers {
		var a, b bytes.Buffer
		if err := f.Render(&a, r); err != nil {
			t.Fatal(err)
		}
		if err := f.Render(&b, back); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s re-rendered from report.json differs:\n%s", f.Name, firstDiff(b.Bytes(), a.Bytes()))
		}
	}
}

// TestWriteFileAtomicLeavesNoTempFileOnFailure makes the final rename fail
// (the target name is a directory) and checks nothing half-written stays.
func TestWriteFileAtomicLeavesNoTempFileOnFailure(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, FileJSON), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(filepath.Join(dir, FileJSON), []byte("{}")); err == nil {
		t.Fatal("WriteFileAtomic onto a directory succeeded")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("dir holds %v after a failed write; want only the directory", names)
	}
	// An existing file is replaced whole.
	p := filepath.Join(dir, "x.json")
	if err := WriteFileAtomic(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("file holds %q; want new", b)
	}
}

func TestWriteAllFailsCleanlyWhenTheDirIsAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteAll(f, scrubbedFixture()); err == nil {
		t.Error("WriteAll into a regular file succeeded")
	}
}

func TestReadRejectsBadReports(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, body, wantErr string }{
		{"not json", "vegeta results\x00", "decode report.json"},
		{"bad verdict", `{"verdict":"maybe","requirements":[]}`, "verdict"},
		{"bad status", `{"verdict":"pass","requirements":[{"id":"ACK-01","status":"ok"}]}`, "requirements[0].status"},
		{"duplicate id", `{"verdict":"pass","requirements":[{"id":"ACK-01","status":"passed"},{"id":"ACK-01","status":"passed"}]}`, "requirements[1].id"},
	} {
		p := filepath.Join(dir, tc.name+".json")
		if err := os.WriteFile(p, []byte(tc.body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Read(p)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("Read(%s) error = %v; want one naming %q", tc.name, err, tc.wantErr)
		}
	}
	if _, err := Read(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("Read of a missing file succeeded")
	}
}

// FuzzDecode: report --from reads files a user points it at; no input may
// panic, and anything accepted must render in every format.
func FuzzDecode(f *testing.F) {
	// Arbitrary accepted input need not follow the schema (a negative
	// count decodes); what is checked here is that rendering never fails.
	schemaCheck.Store(false)
	f.Cleanup(func() { schemaCheck.Store(true) })
	var b bytes.Buffer
	if err := WriteJSON(&b, scrubbedFixture()); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte(`{"verdict":"pass","requirements":[{"id":"A","status":"passed","evidence":[{"request":{"headers":{"a":"b"}}}]}],"load":{"series":[{"t":1},{"t":0}]}}`))
	f.Add([]byte(`{"verdict":"fail","deliveries":{"histogram":[{"upper_ms":-1,"count":-5}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Decode(data)
		if err != nil {
			return
		}
		for _, fr := range Renderers {
			var w bytes.Buffer
			if err := fr.Render(&w, r); err != nil {
				t.Errorf("%s: %v", fr.Name, err)
			}
		}
		var w bytes.Buffer
		if err := WriteConsole(&w, r, true); err != nil {
			t.Error(err)
		}
	})
}
