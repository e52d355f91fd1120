package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookproof/hookproof/reports"
)

// TestReport runs one short demo certification and re-renders and merges
// its report.json; the subtests share it because a certification is the
// slow part.
func TestReport(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := cli(t, "certify", "--demo", "--label-filter", "area:ack", "--report-dir", dir)
	if code != exitOK {
		t.Fatalf("certify --demo: exit %d\n%s%s", code, out, errOut)
	}
	pass := filepath.Join(dir, "report.json")
	orig, err := reports.Read(pass)
	if err != nil {
		t.Fatal(err)
	}
	fail := writeFailedCopy(t, orig, "ACK-01")

	t.Run("re-render in each format", func(t *testing.T) {
		for _, tc := range []struct {
			format string
			check  func(t *testing.T, out string)
		}{
			{"json", func(t *testing.T, out string) {
				r, err := reports.Decode([]byte(out))
				if err != nil {
					t.Fatalf("not a valid report.json: %v", err)
				}
				if r.Verdict != reports.VerdictPass || len(r.Requirements) != len(orig.Requirements) || r.Target != orig.Target {
					t.Errorf("re-rendered JSON: verdict %q, %d requirements, target %q; want pass, %d, %q", r.Verdict, len(r.Requirements), r.Target, len(orig.Requirements), orig.Target)
				}
			}},
			{"junit", func(t *testing.T, out string) {
				var suites struct {
					XMLName xml.Name
					Tests   int `xml:"tests,attr"`
				}
				if err := xml.Unmarshal([]byte(out), &suites); err != nil {
					t.Fatalf("not XML: %v\n%s", err, out)
				}
				if suites.XMLName.Local != "testsuites" || suites.Tests != len(orig.Requirements) {
					t.Errorf("JUnit root <%s tests=%d>; want <testsuites tests=%d>", suites.XMLName.Local, suites.Tests, len(orig.Requirements))
				}
				if !strings.Contains(out, "ACK-01") || !strings.Contains(out, "<testcase") {
					t.Errorf("JUnit has no ACK-01 test case:\n%s", out)
				}
			}},
			{"md", func(t *testing.T, out string) {
				if !strings.Contains(out, "PASS") || !strings.Contains(out, "| ACK-01 | MUST | passed |") {
					t.Errorf("Markdown lacks the verdict or the ACK-01 row:\n%s", out)
				}
			}},
			{"html", func(t *testing.T, out string) {
				if !strings.Contains(strings.ToLower(out), "<html") || !strings.Contains(out, "ACK-01") {
					t.Errorf("HTML lacks <html> or ACK-01 (%d bytes)", len(out))
				}
			}},
		} {
			t.Run(tc.format, func(t *testing.T) {
				out, errOut, code := cli(t, "report", "--from", pass, "--format", tc.format)
				if code != exitOK {
					t.Fatalf("exit %d\n%s", code, errOut)
				}
				tc.check(t, out)
			})
		}
	})

	t.Run("output file and report dir", func(t *testing.T) {
		tmp := t.TempDir()
		file := filepath.Join(tmp, "summary.md")
		rdir := filepath.Join(tmp, "again")
		out, errOut, code := cli(t, "report", "--from", pass, "--format", "md", "--output", file, "--report-dir", rdir)
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		if out != "" {
			t.Errorf("stdout is not empty with --output:\n%s", out)
		}
		md, err := os.ReadFile(file)
		if err != nil || !bytes.Contains(md, []byte("ACK-01")) {
			t.Errorf("--output file: %v, %d bytes without ACK-01", err, len(md))
		}
		for _, f := range []string{reports.FileJSON, reports.FileJUnit, reports.FileMarkdown, reports.FileHTML} {
			if fi, err := os.Stat(filepath.Join(rdir, f)); err != nil || fi.Size() == 0 {
				t.Errorf("--report-dir: %s missing or empty (%v)", f, err)
			}
		}
		again, err := reports.Read(filepath.Join(rdir, reports.FileJSON))
		if err != nil || again.Verdict != orig.Verdict || len(again.Requirements) != len(orig.Requirements) {
			t.Errorf("report.json rewritten by --report-dir does not read back as the original: %v", err)
		}
	})

	t.Run("merge of pass and fail fails", func(t *testing.T) {
		for _, args := range [][]string{
			{"report", "--from", pass, "--from", fail, "--format", "json"},
			{"report", "merge", pass, fail},
			{"report", "merge", "--from", pass, fail},
		} {
			out, errOut, code := cli(t, args...)
			if code != exitFailed {
				t.Fatalf("%v: exit %d; want %d\n%s", args, code, exitFailed, errOut)
			}
			r, err := reports.Decode([]byte(out))
			if err != nil {
				t.Fatalf("%v: merged output is not a report: %v", args, err)
			}
			if r.Verdict != reports.VerdictFail || reqStatus(r, "ACK-01") != reports.StatusFailed {
				t.Errorf("%v: merged verdict %q, ACK-01 %q; want fail, failed", args, r.Verdict, reqStatus(r, "ACK-01"))
			}
			if !strings.Contains(errOut, "ACK-01") {
				t.Errorf("%v: stderr does not say why the merge failed:\n%s", args, errOut)
			}
		}
	})

	t.Run("merge of two passes passes", func(t *testing.T) {
		out, errOut, code := cli(t, "report", "merge", pass, pass, "--format", "md")
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		if !strings.Contains(out, "merged from 2 reports") {
			t.Errorf("the merged report does not say it was merged:\n%s", out)
		}
	})

	t.Run("bad input exits 2 naming file and field", func(t *testing.T) {
		tmp := t.TempDir()
		badVerdict := filepath.Join(tmp, "bad-verdict.json")
		raw, err := os.ReadFile(pass)
		if err != nil {
			t.Fatal(err)
		}
		broken := bytes.Replace(raw, []byte(`"verdict": "pass"`), []byte(`"verdict": "maybe"`), 1)
		broken = bytes.Replace(broken, []byte(`"status": "passed"`), []byte(`"status": "fine"`), 1)
		if err := os.WriteFile(badVerdict, broken, 0o600); err != nil {
			t.Fatal(err)
		}
		other := *orig
		other.Target = "http://127.0.0.1:1/elsewhere"
		otherTarget := filepath.Join(tmp, "other-target.json")
		writeReport(t, otherTarget, &other)
		notJSON := filepath.Join(tmp, "notes.txt")
		if err := os.WriteFile(notJSON, []byte("hello"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			args []string
			want []string
		}{
			{"missing file", []string{"report", "--from", filepath.Join(tmp, "nope.json"), "--format", "md"}, []string{"--from", "nope.json"}},
			{"bad verdict", []string{"report", "--from", badVerdict, "--format", "md"}, []string{"bad-verdict.json: verdict", "maybe", "bad-verdict.json: requirements[0].status", "fine"}},
			{"not JSON", []string{"report", "--from", notJSON, "--format", "md"}, []string{"notes.txt"}},
			{"different targets", []string{"report", "merge", pass, otherTarget}, []string{"other-target.json", "target"}},
			{"unknown format", []string{"report", "--from", pass, "--format", "pdf"}, []string{"--format", "pdf"}},
			{"no format", []string{"report", "--from", pass}, []string{"--format"}},
			{"no from", []string{"report", "--format", "md"}, []string{"--from"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out, errOut, code := cli(t, tc.args...)
				if code != exitUsage {
					t.Fatalf("exit %d; want %d\n%s%s", code, exitUsage, out, errOut)
				}
				for _, w := range tc.want {
					if !strings.Contains(errOut, w) {
						t.Errorf("stderr does not name %q:\n%s", w, errOut)
					}
				}
				noStackTrace(t, out, errOut)
			})
		}
	})
}

// writeFailedCopy writes a copy of r in which requirement id failed, with
// the verdict that follows, and returns its path.
func writeFailedCopy(t *testing.T, r *reports.Report, id string) string {
	t.Helper()
	c := *r
	c.Requirements = append([]reports.RequirementResult(nil), r.Requirements...)
	found := false
	for i := range c.Requirements {
		if c.Requirements[i].ID == id {
			c.Requirements[i].Status, c.Requirements[i].Reason = reports.StatusFailed, "answered 500"
			found = true
		}
	}
	if !found {
		t.Fatalf("report has no %s", id)
	}
	if c.Decide(false) != reports.VerdictFail {
		t.Fatalf("failing %s did not fail the report", id)
	}
	path := filepath.Join(t.TempDir(), "shard-fail.json")
	writeReport(t, path, &c)
	return path
}

func writeReport(t *testing.T, path string, r *reports.Report) {
	t.Helper()
	var buf bytes.Buffer
	if err := reports.WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func reqStatus(r *reports.Report, id string) string {
	for _, q := range r.Requirements {
		if q.ID == id {
			return q.Status
		}
	}
	return ""
}
