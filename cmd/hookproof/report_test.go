package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/hookproof/hookproof/harness/load"
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

// TestReportMergeResults runs two load shards against the reference
// receiver and merges their raw results exactly.
func TestReportMergeResults(t *testing.T) {
	srv := startReceiver(t)
	dir := t.TempDir()
	var bins, jsons []string
	for i := range 2 {
		bin := filepath.Join(dir, fmt.Sprintf("shard%d.bin", i))
		rdir := filepath.Join(dir, fmt.Sprintf("shard%d", i))
		out, errOut, code := cli(t, "load", "--target", srv.WebhookURL(), "--rate", "200", "--duration", "1s",
			"--shard", fmt.Sprintf("%d/2", i), "--output", bin, "--report-dir", rdir)
		if code != exitOK {
			t.Fatalf("load shard %d/2: exit %d\n%s%s", i, code, out, errOut)
		}
		bins = append(bins, bin)
		jsons = append(jsons, filepath.Join(rdir, reports.FileJSON))
	}
	// What one Metrics makes of both files, read here without the code
	// under test.
	// Each result carries its schedule lag, which makes the latency from
	// the scheduled send that LOAD-01 judges.
	direct := load.NewMetrics(load.MetricsConfig{})
	attacks := map[string]int{}
	for _, b := range bins {
		f, err := os.Open(b)
		if err != nil {
			t.Fatal(err)
		}
		dec := vegeta.NewDecoder(f)
		for {
			var r vegeta.Result
			if err := dec.Decode(&r); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
			lag, err := strconv.ParseInt(r.Headers.Get(load.ResultScheduleLag), 10, 64)
			if err != nil {
				t.Fatalf("result %d lacks its schedule lag: %v", r.Seq, err)
			}
			direct.Add(&r, time.Duration(lag))
			attacks[r.Attack]++
		}
		f.Close()
	}
	want := direct.Summary()
	if len(attacks) != 2 || want.Requests != 200 {
		t.Fatalf("shard files hold %d results of attacks %v; want 200 of two attacks", want.Requests, attacks)
	}
	var naive []*reports.Report
	for _, j := range jsons {
		r, err := reports.Read(j)
		if err != nil {
			t.Fatal(err)
		}
		naive = append(naive, r)
	}

	t.Run("exact union passes", func(t *testing.T) {
		out, errOut, code := cli(t, "report", "merge", "--results", bins[0], "--results", bins[1], "--rate", "200")
		noStackTrace(t, out, errOut)
		if code != exitOK {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		r, err := reports.Decode([]byte(out))
		if err != nil {
			t.Fatal(err)
		}
		l := r.Load
		if l == nil || l.Requests != naive[0].Load.Requests+naive[1].Load.Requests || l.Requests != 200 || l.Shards != 2 || l.RequestedRate != 200 {
			t.Fatalf("load section %+v; want 200 requests (the sum) from 2 shards at 200/s", l)
		}
		q := want.ResponseLatencyMS
		if l.LatencyMS.P50 != q.P50 || l.LatencyMS.P99 != q.P99 || l.LatencyMS.P999 != q.P999 || l.LatencyMS.Max != q.Max {
			t.Errorf("latency %+v; want the union's from the schedule %+v", l.LatencyMS, q)
		}
		if sv := l.ServiceLatencyMS; sv == nil || sv.P99 != want.LatencyMS.P99 || sv.Max != want.LatencyMS.Max {
			t.Errorf("service latency %+v; want the union's from the send %+v", sv, want.LatencyMS)
		}
		if l.LatencyFrom != reports.LatencyFromSchedule || l.RunID == "" || l.RunID != naive[0].Load.RunID || !slices.Equal(l.ShardSet, []string{"0/2", "1/2"}) {
			t.Errorf("latency from %q, run %q, shards %v; want %q, the shards' run %q, [0/2 1/2]", l.LatencyFrom, l.RunID, l.ShardSet, reports.LatencyFromSchedule, naive[0].Load.RunID)
		}
		// The shards' own reports measured the same hits on the same
		// measure: the union's max is the larger max, and its p50 lies
		// between theirs.
		a, b := &naive[0].Load.LatencyMS, &naive[1].Load.LatencyMS
		if l.LatencyMS.Max != max(a.Max, b.Max) || l.LatencyMS.P50 < min(a.P50, b.P50) || l.LatencyMS.P50 > max(a.P50, b.P50) {
			t.Errorf("union max %g, p50 %g; want max %g and p50 within [%g, %g]", l.LatencyMS.Max, l.LatencyMS.P50, max(a.Max, b.Max), min(a.P50, b.P50), max(a.P50, b.P50))
		}
		if r.Verdict != reports.VerdictPass || reqStatus(r, "LOAD-01") != reports.StatusPassed {
			t.Errorf("verdict %s, LOAD-01 %s; want pass, passed", r.Verdict, reqStatus(r, "LOAD-01"))
		}
		notes := strings.Join(r.Notes, "\n")
		for _, w := range []string{"hookproof-shard-0-of-2", "hookproof-shard-1-of-2", "scheduled send"} {
			if !strings.Contains(notes, w) {
				t.Errorf("notes lack %q:\n%s", w, notes)
			}
		}
		if r.Target != naive[0].Target {
			t.Errorf("target %q; want the shards' %q", r.Target, naive[0].Target)
		}
	})

	t.Run("with the shard reports", func(t *testing.T) {
		out, errOut, code := cli(t, "report", "merge", "--from", jsons[0], "--from", jsons[1], "--results", bins[0], "--results", bins[1])
		if code != exitOK {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		r, err := reports.Decode([]byte(out))
		if err != nil {
			t.Fatal(err)
		}
		if r.Load.Requests != 200 || r.Load.LatencyMS.P99 != want.ResponseLatencyMS.P99 || len(r.Requirements) != len(naive[0].Requirements) {
			t.Errorf("requests %d, p99 %g, %d requirements; want 200, %g, %d", r.Load.Requests, r.Load.LatencyMS.P99, len(r.Requirements), want.ResponseLatencyMS.P99, len(naive[0].Requirements))
		}
		if notes := strings.Join(r.Notes, "\n"); strings.Contains(notes, "an exact merge needs the raw results") || !strings.Contains(notes, "merged from 2 reports") {
			t.Errorf("notes still call the load percentiles upper bounds:\n%s", strings.Join(r.Notes, "\n"))
		}
	})

	t.Run("a missing shard is refused", func(t *testing.T) {
		_, errOut, code := cli(t, "report", "merge", "--results", bins[0])
		if code != exitUsage || !strings.Contains(errOut, "only 1 of 2 shards") {
			t.Fatalf("exit %d; want 2 saying a shard is missing\n%s", code, errOut)
		}
	})

	t.Run("p99 over the budget fails", func(t *testing.T) {
		out, errOut, code := cli(t, "report", "merge", "--results", bins[0], "--results", bins[1], "--ack-budget", "1ns", "--format", "md")
		if code != exitFailed {
			t.Fatalf("exit %d; want %d\n%s", code, exitFailed, errOut)
		}
		if !strings.Contains(out, "LOAD-01") || !strings.Contains(errOut, "LOAD-01") {
			t.Errorf("neither output says LOAD-01 failed:\n%s\n%s", out, errOut)
		}
	})

	t.Run("bad input exits 2 naming the file", func(t *testing.T) {
		tmp := t.TempDir()
		notes := filepath.Join(tmp, "notes.txt")
		if err := os.WriteFile(notes, []byte("hello, world\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			args []string
			want []string
		}{
			{"not results", []string{"--results", bins[0], "--results", notes}, []string{"notes.txt", "not a vegeta results file"}},
			{"report as results", []string{"--results", jsons[0]}, []string{"report.json", "not a vegeta results file"}},
			{"missing", []string{"--results", filepath.Join(tmp, "nope.bin")}, []string{"--results", "nope.bin"}},
			{"same shard twice", []string{"--results", bins[0], "--results", bins[0]}, []string{"shard0.bin", "distinct attack names"}},
			{"bad budget", []string{"--results", bins[0], "--ack-budget", "0s"}, []string{"--ack-budget"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out, errOut, code := cli(t, append([]string{"report", "merge"}, tc.args...)...)
				noStackTrace(t, out, errOut)
				if code != exitUsage {
					t.Fatalf("exit %d; want %d\n%s%s", code, exitUsage, out, errOut)
				}
				for _, w := range tc.want {
					if !strings.Contains(errOut, w) {
						t.Errorf("stderr lacks %q:\n%s", w, errOut)
					}
				}
			})
		}
	})
}

// TestReportMergeResultsIsExactWhereMaxIsNot merges two crafted shard
// files whose union p90 is neither shard's: the naive max over shards
// would report the slow shard's p90.
func TestReportMergeResultsIsExactWhereMaxIsNot(t *testing.T) {
	dir := t.TempDir()
	start := time.Now().Add(-time.Minute)
	lat := []func(int) time.Duration{
		func(i int) time.Duration { return 2 * time.Millisecond },
		func(i int) time.Duration {
			if i%5 == 0 {
				return 400 * time.Millisecond // 20 %: shard 1's p90 is slow
			}
			return 20 * time.Millisecond
		},
	}
	var paths []string
	var p90s []float64
	for k := range 2 {
		path := filepath.Join(dir, fmt.Sprintf("s%d.bin", k))
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		enc := vegeta.NewEncoder(f)
		m := load.NewMetrics(load.MetricsConfig{})
		for i := range 500 {
			r := vegeta.Result{Attack: fmt.Sprintf("hookproof-shard-%d-of-2", k), Seq: uint64(i), Code: 200,
				Timestamp: start.Add(time.Duration(i) * 10 * time.Millisecond), Latency: lat[k](i), URL: "http://127.0.0.1:9/webhook"}
			if err := enc.Encode(&r); err != nil {
				t.Fatal(err)
			}
			m.Add(&r, 0)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
		p90s = append(p90s, m.Summary().LatencyMS.P90)
	}
	out, errOut, code := cli(t, "report", "merge", "--results", paths[0], "--results", paths[1])
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	r, err := reports.Decode([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	// Union: 10 % of hits at 400 ms, so p90 is a 20 ms hit.
	if got := r.Load.LatencyMS.P90; got < 19 || got > 21 || got == max(p90s[0], p90s[1]) {
		t.Errorf("merged p90 %g ms; want ~20 (the union's), not the naive max %g", got, max(p90s[0], p90s[1]))
	}
}

// TestReportDiff: a passing base against a failing new report exits 1 and
// names the requirement; two passing reports exit 0; a load regression
// beyond --max-regression exits 1, within it 0.
func TestReportDiff(t *testing.T) {
	pass := diffFixture(t, "", 100)
	out, errOut, code := cli(t, "report", "diff", pass, diffFixture(t, "IDEM-03", 100))
	if code != exitFailed || !strings.Contains(out, "IDEM-03") || !strings.Contains(errOut, "IDEM-03") {
		t.Errorf("pass vs fail: exit %d; want 1 naming IDEM-03\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if out, errOut, code := cli(t, "report", "diff", pass, diffFixture(t, "", 100)); code != exitOK || !strings.Contains(out, "no regression") {
		t.Errorf("pass vs pass: exit %d; want 0\n%s%s", code, out, errOut)
	}
	slower := diffFixture(t, "", 130)
	if out, _, code := cli(t, "report", "diff", pass, slower); code != exitFailed || !strings.Contains(out, "load.p99") {
		t.Errorf("p99 +30%% at the default 10%%: exit %d; want 1 naming load.p99\n%s", code, out)
	}
	if out, _, code := cli(t, "report", "diff", "--max-regression", "50%", pass, slower); code != exitOK {
		t.Errorf("p99 +30%% within --max-regression 50%%: exit %d; want 0\n%s", code, out)
	}
	out, _, code = cli(t, "report", "diff", "--format", "md", pass, diffFixture(t, "IDEM-03", 100))
	if code != exitFailed || !strings.Contains(out, "## hookproof report diff: 1 regression") || !strings.Contains(out, "| IDEM-03 | passed | failed |") {
		t.Errorf("--format md: exit %d\n%s", code, out)
	}
	if _, errOut, code := cli(t, "report", "diff", "--max-regression", "ten", pass, filepath.Join(t.TempDir(), "none.json")); code != exitUsage ||
		!strings.Contains(errOut, "--max-regression") || !strings.Contains(errOut, "none.json") {
		t.Errorf("bad input: exit %d; want 2 naming both problems\n%s", code, errOut)
	}
}

// diffFixture writes a passing report with a load section whose p99 is
// p99 ms, with requirement failed failing.
func diffFixture(t *testing.T, failed string, p99 float64) string {
	t.Helper()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	capacity := 200.0
	r := &reports.Report{Tool: reports.Tool{Name: "hookproof", Version: "test"}, Profile: "quick", Target: "http://127.0.0.1:9/hook",
		StartedAt: start, FinishedAt: start.Add(time.Minute),
		Load: &reports.LoadSection{RequestedRate: 50, Throughput: 50, Requests: 1500, SuccessRatio: 1,
			LatencyMS: reports.LatencyMS{P50: p99 / 2, P99: p99, Max: p99 * 2}, CapacityRPS: &capacity, DurationS: 30}}
	for _, q := range reports.Complete(nil, "quick", "") {
		q.Status, q.Reason = reports.StatusPassed, ""
		if q.ID == failed {
			q.Status, q.Reason = reports.StatusFailed, "the receiver processed event e-1 8 times; it must process it once"
		}
		r.Requirements = append(r.Requirements, q)
	}
	r.Decide(false)
	path := filepath.Join(t.TempDir(), "report.json")
	writeReport(t, path, r)
	return path
}
