package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookproof/hookproof/internal/dbtest"
	"github.com/hookproof/hookproof/internal/proc"
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

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// exampleRun is one managed certification of an example receiver.
type exampleRun struct {
	rep  *reports.Report
	out  string
	code int
	dir  string
}

// certifyManaged runs certify with --receiver-command and checks that every
// process group it started is gone when it returns.
func certifyManaged(t *testing.T, receiverCmd string, port int, extra ...string) exampleRun {
	t.Helper()
	t.Setenv("HOOKPROOF_BEARER_TOKEN", "")
	var (
		mu     sync.Mutex
		groups []int
	)
	prev := managedStarted
	managedStarted = func(pgid int) { mu.Lock(); groups = append(groups, pgid); mu.Unlock() }
	defer func() { managedStarted = prev }()

	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := append([]string{"certify", "--target", fmt.Sprintf("http://127.0.0.1:%d/webhooks/riskos", port),
		"--auth", "bearer", "--bearer-token", exampleToken, "--receiver-command", receiverCmd,
		"--report-dir", dir, "--color", "never", "--seed", "5"}, extra...)
	stdout, stderr, code := cliCtx(ctx, t, args...)
	all := stdout + stderr
	noStackTrace(t, all)

	mu.Lock()
	defer mu.Unlock()
	if len(groups) == 0 {
		t.Fatalf("no receiver was started\n%s", all)
	}
	for _, pg := range groups {
		if left := proc.Members(pg); len(left) != 0 {
			t.Errorf("receiver process group %d left behind: pids %v", pg, left)
		}
	}
	rep, err := reports.Read(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatalf("report.json: %v\n%s", err, all)
	}
	if _, err := os.Stat(filepath.Join(dir, receiverLogName)); err != nil {
		t.Errorf("the receiver's output was not captured: %v", err)
	}
	return exampleRun{rep: rep, out: all, code: code, dir: dir}
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
	if r.code != exitFailed {
		t.Errorf("exit code %d; want %d", r.code, exitFailed)
	}
}

func examplesDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs("../../examples")
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
		port := freeLoopbackPort(t)
		r := certifyManaged(t, cmd(port, ""), port, "--effects-match", match)
		expectPassesEveryMust(t, r)
		if !strings.Contains(strings.Join(r.rep.Notes, "\n"), "log lines matching") {
			t.Errorf("notes %q do not name the log probe", r.rep.Notes)
		}
	})
	t.Run("no dedupe", func(t *testing.T) {
		port := freeLoopbackPort(t)
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
		port := freeLoopbackPort(t)
		r := certifyManaged(t, cmd(port, ""), port, "--effects-command", probe)
		expectPassesEveryMust(t, r)
	})
	t.Run("no dedupe", func(t *testing.T) {
		port := freeLoopbackPort(t)
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
		port := freeLoopbackPort(t)
		r := certifyManaged(t, cmd(port, ""), port, "--effects-url", effects(port))
		expectPassesEveryMust(t, r)
	})
	t.Run("no dedupe", func(t *testing.T) {
		port := freeLoopbackPort(t)
		r := certifyManaged(t, cmd(port, "NO_DEDUPE=1"), port, "--effects-url", effects(port), "--label-filter", "req:IDEM-02")
		expectFails(t, r, "IDEM-02")
	})
}
