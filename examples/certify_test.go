package examples_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookproof/hookproof/internal/dbtest"
	"github.com/hookproof/hookproof/internal/proc"
	"github.com/hookproof/hookproof/internal/testbin"
	"github.com/hookproof/hookproof/reports"
)

// The example receivers in examples/ are certified here the way their
// READMEs tell a team to: one certify command that starts the receiver
// itself (--receiver-command), each read through a different probe. Each
// must pass every MUST with IDEM-05 run, and its NO_DEDUPE variant must
// fail the idempotency checks, so the probes are shown to bite on code
// hookproof knows nothing about.

const exampleToken = "example-bearer-token"

// needTool skips t when a tool an example needs is absent, except in CI,
// where scripts/test installs it and its absence is a failure.
func needTool(t *testing.T, what, hint string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	msg := fmt.Sprintf("%s not available; %s (scripts/test does)", what, hint)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// exampleRun is one managed certification of an example receiver.
type exampleRun struct {
	rep  *reports.Report
	out  string
	code int
}

// hookproof builds the hookproof binary once per test binary. The examples
// are certified by the binary, as a team would run it, and in a package of
// their own, so they run beside cmd/hookproof's tests, not after them.
func hookproof(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds hookproof and certifies real receivers")
	}
	return testbin.Hookproof(t, "../cmd/hookproof")
}

// certifyManaged runs certify --receiver-command and checks that no process
// of the receiver is left when it returns: every process carrying the
// run's marker variable, which the receiver and anything it forks inherit,
// whatever process group they moved to.
func certifyManaged(t *testing.T, receiverCmd string, port int, extra ...string) exampleRun {
	t.Helper()
	bin := hookproof(t)
	marker := fmt.Sprintf("HOOKPROOF_EXAMPLE_RUN=%s-%d", strings.ReplaceAll(t.Name(), "/", "."), time.Now().UnixNano())
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := append([]string{"certify", "--target", fmt.Sprintf("http://127.0.0.1:%d/webhooks/riskos", port),
		"--auth", "bearer", "--bearer-token", exampleToken, "--receiver-command", marker + " " + receiverCmd,
		"--report-dir", dir, "--color", "never", "--seed", "5"}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOOKPROOF_BEARER_TOKEN=")
	out, code := testbin.Run(t, cmd)
	if strings.Contains(out, "goroutine ") || strings.Contains(out, "panic:") {
		t.Errorf("output has a stack trace:\n%s", out)
	}
	if left := proc.WithEnv(marker); len(left) != 0 {
		t.Errorf("receiver processes left behind: pids %v", left)
	}
	log, err := os.ReadFile(filepath.Join(dir, "receiver.log"))
	if err != nil || len(log) == 0 {
		t.Errorf("the receiver's output was not captured in receiver.log: %v", err)
	}
	rep, err := reports.Read(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatalf("report.json: %v\n%s", err, out)
	}
	return exampleRun{rep: rep, out: out, code: code}
}

func reqStatuses(rep *reports.Report) map[string]string {
	m := map[string]string{}
	for _, r := range rep.Requirements {
		m[r.ID] = r.Status
	}
	return m
}

// expectPassesEveryMust checks a compliant example: exit 0, no MUST
// failed, and IDEM-05 ran on a restart hookproof did itself.
func expectPassesEveryMust(t *testing.T, r exampleRun) {
	t.Helper()
	if r.code != 0 {
		t.Errorf("exit code %d; want 0\n%s", r.code, r.out)
	}
	for _, req := range r.rep.Requirements {
		if req.Level == "MUST" && req.Status == reports.StatusFailed {
			t.Errorf("%s (MUST) failed: %s", req.ID, req.Reason)
		}
	}
	if st := reqStatuses(r.rep)["IDEM-05"]; st != reports.StatusPassed {
		t.Errorf("IDEM-05 = %q; want passed after the managed restart", st)
	}
}

func expectFails(t *testing.T, r exampleRun, ids ...string) {
	t.Helper()
	st := reqStatuses(r.rep)
	for _, id := range ids {
		if st[id] != reports.StatusFailed {
			t.Errorf("%s = %q; want failed\n%s", id, st[id], r.out)
		}
	}
	if r.code != 1 {
		t.Errorf("exit code %d; want 1 (a MUST failed)", r.code)
	}
}

func examplesDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Express, read through its own log lines: no probe code in the receiver.
func TestExampleExpressWithLogProbe(t *testing.T) {
	_, err := exec.LookPath("node")
	needTool(t, "node", "install nodejs", err == nil)
	app := filepath.Join(examplesDir(t), "express")
	_, err = os.Stat(filepath.Join(app, "node_modules", "express"))
	needTool(t, "examples/express/node_modules", "run npm ci in examples/express", err == nil)
	match := "processed event_id={event_id}"
	cmd := func(port int, env string) string {
		return fmt.Sprintf("%s PORT=%d AUTH=bearer BEARER_TOKEN=%s DATA_FILE=%s exec node %s",
			env, port, exampleToken, filepath.Join(t.TempDir(), "events.jsonl"), filepath.Join(app, "server.js"))
	}
	t.Run("compliant", func(t *testing.T) {
		port := dbtest.FreePort(t)
		r := certifyManaged(t, cmd(port, ""), port, "--effects-match", match)
		expectPassesEveryMust(t, r)
		if !strings.Contains(strings.Join(r.rep.Notes, "\n"), "log lines matching") {
			t.Errorf("notes %q do not name the log probe", r.rep.Notes)
		}
	})
	t.Run("no dedupe", func(t *testing.T) {
		port := dbtest.FreePort(t)
		r := certifyManaged(t, cmd(port, "NO_DEDUPE=1"), port, "--effects-match", match,
			"--label-filter", "area:idem || req:LOAD-03")
		expectFails(t, r, "IDEM-02", "IDEM-03", "LOAD-03")
	})
}

// Flask, read through a command against a real Redis the receiver writes to.
func TestExampleFlaskWithCommandProbe(t *testing.T) {
	err := exec.Command("python3", "-c", "import flask").Run()
	needTool(t, "python3 with Flask", "install python3-flask", err == nil)
	redis := dbtest.StartRedis(t)
	app := filepath.Join(examplesDir(t), "flask", "app.py")
	probe := "redis-cli -h 127.0.0.1 -p " + strconv.Itoa(redis.Port) + " SCARD processed:{event_id}"
	cmd := func(port int, env string) string {
		return fmt.Sprintf("%s PORT=%d AUTH=bearer BEARER_TOKEN=%s DB=%s REDIS=%s exec python3 %s",
			env, port, exampleToken, filepath.Join(t.TempDir(), "receiver.sqlite3"), redis.Addr(), app)
	}
	t.Run("compliant", func(t *testing.T) {
		port := dbtest.FreePort(t)
		r := certifyManaged(t, cmd(port, ""), port, "--effects-command", probe)
		expectPassesEveryMust(t, r)
	})
	t.Run("no dedupe", func(t *testing.T) {
		port := dbtest.FreePort(t)
		r := certifyManaged(t, cmd(port, "NO_DEDUPE=1"), port, "--effects-command", probe, "--label-filter", "req:IDEM-02")
		expectFails(t, r, "IDEM-02")
	})
}

// Go net/http, read through its test-only effects endpoint.
func TestExampleGoWithEffectsURL(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "receiver")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join(examplesDir(t), "go")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building examples/go: %v\n%s", err, out)
	}
	cmd := func(port int, env string) string {
		return fmt.Sprintf("%s ADDR=127.0.0.1:%d AUTH=bearer BEARER_TOKEN=%s EFFECTS=1 DATA_DIR=%s exec %s",
			env, port, exampleToken, t.TempDir(), bin)
	}
	effects := func(port int) string { return fmt.Sprintf("http://127.0.0.1:%d/_hookproof/effects", port) }
	t.Run("compliant", func(t *testing.T) {
		port := dbtest.FreePort(t)
		r := certifyManaged(t, cmd(port, ""), port, "--effects-url", effects(port))
		expectPassesEveryMust(t, r)
	})
	t.Run("no dedupe", func(t *testing.T) {
		port := dbtest.FreePort(t)
		r := certifyManaged(t, cmd(port, "NO_DEDUPE=1"), port, "--effects-url", effects(port), "--label-filter", "req:IDEM-02")
		expectFails(t, r, "IDEM-02")
	})
}

// The leftover check must see a process that carries the marker.
func TestLeftoverCheckSeesAMarkedProcess(t *testing.T) {
	marker := fmt.Sprintf("HOOKPROOF_EXAMPLE_RUN=self-check-%d", time.Now().UnixNano())
	c := exec.Command("sleep", "60")
	c.Env = append(os.Environ(), marker)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Process.Kill(); _ = c.Wait() }()
	if got := proc.WithEnv(marker); !slices.Equal(got, []int{c.Process.Pid}) {
		t.Errorf("proc.WithEnv = %v; want [%d]", got, c.Process.Pid)
	}
}
