package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/hookproof/hookproof/reports"
)

// hangUntilCleanup answers nothing until the test ends.
func hangUntilCleanup(t *testing.T) func(w http.ResponseWriter, r *http.Request) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	return func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
}

// A target that accepts connections and never answers: the preflight
// delivery finds it, certify exits 3 well within a minute, and all four
// reports say verdict error with the cause.
func TestCertifyAgainstASilentTargetExits3WithReports(t *testing.T) {
	t.Setenv("HOOKPROOF_BEARER_TOKEN", "")
	url, _ := serve(t, hangUntilCleanup(t))
	dir := t.TempDir()
	start := time.Now()
	out, errOut, code := cli(t, "certify", "--profile", "quick", "--target", url, "--report-dir", dir, "--color", "never")
	took := time.Since(start)
	if code != exitUnreachable {
		t.Fatalf("exit %d; want 3\n%s%s", code, out, errOut)
	}
	if took > 60*time.Second {
		t.Errorf("took %s; want under 60 s", took)
	}
	if !strings.Contains(errOut, "did not answer") {
		t.Errorf("stderr does not give the cause:\n%s", errOut)
	}
	rep, err := reports.Read(filepath.Join(dir, reports.FileJSON))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != reports.VerdictError || !strings.Contains(rep.Error, "did not answer") {
		t.Errorf("verdict %q, error %q; want error with the cause", rep.Verdict, rep.Error)
	}
	for _, f := range []string{reports.FileJUnit, reports.FileMarkdown, reports.FileHTML} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
		} else if !strings.Contains(string(b), "did not answer") {
			t.Errorf("%s does not give the cause", f)
		}
	}
}

// A target that answers the first delivery and then nothing: the breaker
// stops the run, the checks not reached say why, and the run ends well
// within its deadline.
func TestCertifyStopsOnceTheTargetStopsAnswering(t *testing.T) {
	t.Setenv("HOOKPROOF_BEARER_TOKEN", "")
	var n atomic.Int64
	hang := hangUntilCleanup(t)
	url, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			drain(r)
			w.WriteHeader(http.StatusOK)
			return
		}
		hang(w, r)
	})
	dir := t.TempDir()
	const deadline = 90 * time.Second
	start := time.Now()
	out, errOut, code := cli(t, "certify", "--profile", "quick", "--target", url, "--report-dir", dir, "--color", "never",
		"--timeout", "1s", "--time-scale", "0.001", "--max-duration", deadline.String())
	took := time.Since(start)
	if code != exitFailed {
		t.Fatalf("exit %d; want 1\n%s%s", code, out, errOut)
	}
	if took > deadline {
		t.Errorf("took %s; want within the %s deadline", took, deadline)
	}
	rep, err := reports.Read(filepath.Join(dir, reports.FileJSON))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stopped == "" || rep.Verdict != reports.VerdictFail {
		t.Errorf("stopped %q, verdict %q; want a stopped, failed run", rep.Stopped, rep.Verdict)
	}
	notRun := 0
	for _, q := range rep.Requirements {
		if q.Status == reports.StatusSkipped && strings.Contains(q.Reason, "not run: the target stopped answering") {
			notRun++
		}
	}
	if notRun == 0 {
		t.Errorf("no requirement skipped as not run because the target stopped answering")
	}
}

// --max-duration ends a run that would go on: no check starts after it.
func TestCertifyMaxDurationStopsTheRun(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	out, errOut, code := cli(t, "certify", "--demo", "--max-duration", "1s", "--report-dir", dir, "--color", "never", "--seed", "3")
	if code != exitFailed {
		t.Fatalf("exit %d; want 1\n%s%s", code, out, errOut)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("a 1 s deadline took %s", took)
	}
	b, _ := os.ReadFile(filepath.Join(dir, reports.FileJSON))
	var rep struct {
		Stopped string `json:"stopped"`
	}
	json.Unmarshal(b, &rep)
	if !strings.Contains(rep.Stopped, "--max-duration") {
		t.Errorf("stopped %q; want the deadline named", rep.Stopped)
	}
}

// Ending --restart-command (Ctrl-C, the run deadline) ends its whole
// process group: no grandchild survives it.
func TestRestartCommandLeavesNoOrphan(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		// The grandchild ignores SIGTERM, so only the group kill ends it.
		done <- runRestart(ctx, "sh -c 'trap \"\" TERM; echo $$ > "+pidFile+"; while :; do sleep 1; done' & wait", os.Stderr)
	}()
	g := gomega.NewWithT(t)
	var pid int
	g.Eventually(func() error {
		b, err := os.ReadFile(pidFile)
		if err == nil {
			pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		return err
	}, 10*time.Second, 20*time.Millisecond).Should(gomega.Succeed())
	pgid, err := syscall.Getpgid(pid)
	if err != nil {
		t.Fatal(err)
	}
	if pgid == syscall.Getpgrp() {
		t.Fatalf("the restart command runs in hookproof's own process group %d", pgid)
	}
	cancel() // what SIGINT does to the run's context
	g.Eventually(done, 10*time.Second).Should(gomega.Receive())
	g.Eventually(func() []int { return groupMembers(pgid) }, 10*time.Second, 50*time.Millisecond).Should(gomega.BeEmpty(),
		"processes of the restart command's group %d are still running", pgid)
}

// groupMembers lists the live (not zombie) processes of process group pgid.
func groupMembers(pgid int) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so split
		// after its closing parenthesis.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+1:])
		if len(f) > 2 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Configuration problems found before anything is sent: exit 2, and not a
// single delivery.
func TestCertifyValidatesBeforeTheRun(t *testing.T) {
	t.Setenv("HOOKPROOF_BEARER_TOKEN", "")
	var hits atomic.Int64
	url, _ := serve(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1); drain(r) })
	ro := filepath.Join(t.TempDir(), "ro")
	os.Mkdir(ro, 0o555)
	notDir := writeFile(t, "file", "x")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"report dir under a file", []string{"--report-dir", filepath.Join(notDir, "reports")}, "--report-dir"},
		{"port out of range", []string{"--target", "http://127.0.0.1:99999/"}, "--target"},
		{"NaN time scale", []string{"--time-scale", "NaN"}, "--time-scale"},
		{"unknown colour", []string{"--color", "purple"}, "--color"},
		{"negative deadline", []string{"--max-duration", "-1s"}, "--max-duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"certify", "--target", url}, tc.args...)
			out, errOut, code := cli(t, args...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d; want 2 naming %s\n%s%s", code, tc.want, out, errOut)
			}
		})
	}
	if os.Geteuid() != 0 {
		_, errOut, code := cli(t, "certify", "--target", url, "--report-dir", filepath.Join(ro, "x"))
		if code != exitUsage || !strings.Contains(errOut, "--report-dir") {
			t.Errorf("unwritable report dir: exit %d\n%s", code, errOut)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d deliveries sent before the configuration was refused", n)
	}
	for _, args := range [][]string{
		{"send", "--event", "decision_update", "--target", "http://127.0.0.1:99999/"},
		{"send", "--event", "decision_update", "--target", url, "--time-scale", "NaN", "--retry"},
	} {
		if _, errOut, code := cli(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d; want 2\n%s", args, code, errOut)
		}
	}
}

// report --from recomputes the verdict: a stored "pass" over a failed MUST
// is rendered as the failure it is.
func TestReportFromRecomputesTheVerdict(t *testing.T) {
	rep := &reports.Report{Tool: reports.Tool{Name: "hookproof"}, Profile: "quick", Target: "http://x/",
		Requirements: reports.Complete([]reports.RequirementResult{
			{ID: "ACK-01", Status: reports.StatusFailed, Reason: "no"},
			{ID: "ACK-03", Status: reports.StatusPassed},
		}, "quick", "not run")}
	rep.Verdict = reports.VerdictPass // as a hand edit, or an old bug, left it
	dir := t.TempDir()
	if err := reports.WriteAll(dir, rep); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := cli(t, "report", "--from", filepath.Join(dir, reports.FileJSON), "--format", "json")
	if code != exitFailed {
		t.Errorf("exit %d; want 1 for a failed MUST\n%s", code, errOut)
	}
	if !strings.Contains(out, `"verdict": "fail"`) && !strings.Contains(out, `"verdict":"fail"`) {
		t.Errorf("rendered report keeps the stored verdict:\n%.400s", out)
	}
}

// receiver: a port in use is a configuration error (exit 2), and no banner
// claims a receiver that never listened.
func TestReceiverPortInUseExits2WithoutBanner(t *testing.T) {
	url, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {})
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/hook")
	_, errOut, code := cli(t, "receiver", "--listen", addr, "--auth", "oauth2", "--oauth2-client-id", "c", "--oauth2-client-secret", "s3cret-value")
	if code != exitUsage || !strings.Contains(errOut, "--listen") {
		t.Errorf("exit %d; want 2 naming --listen\n%s", code, errOut)
	}
	if strings.Contains(errOut, "token URL") || strings.Contains(errOut, "webhook at") {
		t.Errorf("a banner was printed for a receiver that never listened:\n%s", errOut)
	}
}
