package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookproof/hookproof/fakes/receiver"
	"github.com/hookproof/hookproof/internal/testbin"
	"github.com/hookproof/hookproof/reports"
)

// notInQuick are the requirements the quick profile does not judge:
// AUTH-05 needs --auth oauth2 (the matrix runs Bearer), IDEM-07 a
// retention to wait out (--dedupe-retention, or --profile production).
var notInQuick = []string{"AUTH-05", "IDEM-07"}

func failing(rep *reports.Report) []string {
	var ids []string
	for _, r := range rep.Requirements {
		if r.Status == reports.StatusFailed {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// The detection matrix: the compliant reference receiver passes, and each
// fault makes exactly its own requirements fail. Each case is a real
// hookproof process (the Ginkgo suite is process-global), several at once:
// the runs mostly wait on paced load and settling probes, so they share the
// cores without disturbing each other's latency budgets.
func TestDetectionMatrix(t *testing.T) {
	bin := buildHookproof(t)
	sem := make(chan struct{}, matrixParallelism)
	certify := func(t *testing.T, args ...string) (*reports.Report, string, int) {
		sem <- struct{}{}
		defer func() { <-sem }()
		dir := t.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"certify", "--demo", "--report-dir", dir, "--seed", "7", "--color", "never"}, args...)...)
		out, code := testbin.Run(t, cmd)
		noStackTrace(t, out)
		rep, err := reports.Read(filepath.Join(dir, "report.json"))
		if err != nil {
			t.Fatalf("report.json: %v\n%s", err, out)
		}
		for _, f := range []string{"junit.xml", "summary.md", "report.html"} {
			if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
				t.Errorf("%s missing or empty: %v", f, err)
			}
		}
		return rep, out, code
	}
	t.Run("compliant", func(t *testing.T) {
		t.Parallel()
		rep, out, code := certify(t)
		if code != exitOK || rep.Verdict != reports.VerdictPass {
			t.Fatalf("exit %d, verdict %s; want 0, pass\n%s", code, rep.Verdict, out)
		}
		if got := failing(rep); len(got) != 0 {
			t.Errorf("failing = %v; want none\n%s", got, out)
		}
		for _, r := range rep.Requirements {
			if r.Status == reports.StatusPassed && len(r.Evidence) == 0 {
				t.Errorf("%s passed without evidence", r.ID)
			}
		}
	})
	// Every row of the matrix: the compliant designs (a rate limiter, an
	// in-flight lock answering 409, one slow worker, ...) must fail nothing
	// but their own SHOULD rows, and each fault exactly its rows. A demo
	// fault implies --strict, so a row with anything to fail exits 1.
	for _, f := range receiver.Matrix() {
		t.Run(string(f.Name), func(t *testing.T) {
			t.Parallel()
			rep, out, code := certify(t, "--demo-fault", string(f.Name))
			var want []string
			for _, id := range f.Breaks {
				if !slices.Contains(notInQuick, id) && !slices.Contains(f.NotInQuick, id) {
					want = append(want, id)
				}
			}
			expectFailing(t, rep, out, code, want)
		})
	}
	// IDEM-07 waits out a retention in real time, so it runs only when
	// asked: a 2 s wait catches the short dedupe memory and not the
	// compliant receiver's durable one.
	for _, row := range []struct {
		name, fault string
		want        []string
	}{{"compliant", "", nil}, {string(receiver.FaultShortDedupeMemory), string(receiver.FaultShortDedupeMemory), []string{"IDEM-07"}}} {
		t.Run("IDEM-07 "+row.name, func(t *testing.T) {
			t.Parallel()
			// IDEM-02 rides along: a run that checks no MUST certifies nothing.
			args := []string{"--dedupe-retention", "2s", "--label-filter", "req:IDEM-07 || req:IDEM-02", "--strict"}
			if row.fault != "" {
				args = append(args, "--demo-fault", row.fault)
			}
			rep, out, code := certify(t, args...)
			expectFailing(t, rep, out, code, row.want)
			if r := requirement(t, rep, "IDEM-07"); r.Status == reports.StatusSkipped {
				t.Errorf("IDEM-07 skipped (%s); want it run", r.Reason)
			}
		})
	}
}

// expectFailing checks that exactly want failed, and the exit code that
// follows from it (0 when nothing failed, else 1).
func expectFailing(t *testing.T, rep *reports.Report, out string, code int, want []string) {
	t.Helper()
	got := failing(rep)
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("failing = %v; want %v\n%s", got, want, out)
	}
	wantCode := exitOK
	if len(want) > 0 {
		wantCode = exitFailed
	}
	if code != wantCode {
		t.Errorf("exit code = %d; want %d", code, wantCode)
	}
}

// matrixParallelism bounds concurrent certify processes in the matrix: the
// runs mostly wait (paced deliveries, retry waits, probe polls), so six
// share two cores without pushing a compliant run over its latency budgets.
const matrixParallelism = 6

func TestCertifyUnreachableExits3Fast(t *testing.T) {
	start := time.Now()
	out, errOut, code := cli(t, "certify", "--target", "http://127.0.0.1:1/hook")
	if code != exitUnreachable {
		t.Fatalf("exit code = %d; want 3\n%s%s", code, out, errOut)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s; want under 5s", d)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, "unreachable") || !strings.Contains(last, "127.0.0.1:1") {
		t.Errorf("last line %q does not say the target is unreachable", last)
	}
}

func TestCertifyNeverPrintsSecrets(t *testing.T) {
	const token = "tok-4b1d-distinctive-7e57"
	dir := t.TempDir()
	out, errOut, code := cli(t, "certify", "--demo", "--auth", "bearer", "--bearer-token", token,
		"--report-dir", dir, "--label-filter", "area:auth || area:ack", "--color", "never")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	everything := out + errOut
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		everything += string(b)
	}
	if strings.Contains(everything, token) {
		t.Errorf("the bearer token appears in the output or reports")
	}
}

func TestCertifyInterruptedWritesPartialReport(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // interrupted before the first spec: nothing may pass
	_, _, code := cliCtx(ctx, t, "certify", "--demo", "--report-dir", dir)
	if code != exitInterrupted {
		t.Errorf("exit code = %d; want 130", code)
	}
	rep, err := reports.Read(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatalf("no valid partial report: %v", err)
	}
	if rep.Verdict == reports.VerdictPass || !rep.Interrupted {
		t.Errorf("verdict %s, interrupted %v; want fail, true", rep.Verdict, rep.Interrupted)
	}
	for _, r := range rep.Requirements {
		if r.Status != reports.StatusSkipped || r.Reason != "interrupted" {
			t.Errorf("%s = %s (%q); want skipped: interrupted", r.ID, r.Status, r.Reason)
		}
	}
}
