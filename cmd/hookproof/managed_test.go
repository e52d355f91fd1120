package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/hookproof/hookproof/internal/dbtest"
	"github.com/hookproof/hookproof/internal/proc"
	"github.com/hookproof/hookproof/reports"
)

const managedToken = "managed-bearer-token"

// recordGroups makes managedStarted report every receiver group started.
func recordGroups(t *testing.T) (groups func() []int, started <-chan int) {
	t.Helper()
	var (
		mu sync.Mutex
		gs []int
	)
	ch := make(chan int, 16)
	prev := managedStarted
	managedStarted = func(pgid int) {
		mu.Lock()
		gs = append(gs, pgid)
		mu.Unlock()
		ch <- pgid
	}
	t.Cleanup(func() { managedStarted = prev })
	return func() []int { mu.Lock(); defer mu.Unlock(); return append([]int(nil), gs...) }, ch
}

func expectGroupsGone(t *testing.T, groups []int) {
	t.Helper()
	if len(groups) == 0 {
		t.Fatal("no receiver was started")
	}
	for _, pg := range groups {
		if left := proc.Members(pg); len(left) != 0 {
			t.Errorf("receiver process group %d left behind: pids %v", pg, left)
		}
	}
}

// A receiver that forks a child and then serves: Ctrl-C during the run
// must stop both, and exit 130.
func TestManagedReceiverStoppedOnInterrupt(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not found: it serves the receiver here")
	}
	g := gomega.NewWithT(t)
	t.Setenv("HOOKPROOF_BEARER_TOKEN", "")
	groups, started := recordGroups(t)
	port := dbtest.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// watch ends the watcher should certify return without it: its
	// Eventually then fails instead of outliving the test.
	watch, stopWatch := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-started:
		case <-watch.Done():
			return
		}
		// Interrupt once the receiver answers, i.e. with the run under way.
		g.Eventually(watch, func() error {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
			}
			return err
		}).WithTimeout(30 * time.Second).WithPolling(20 * time.Millisecond).Should(gomega.Succeed())
		cancel()
	}()
	dir := t.TempDir()
	_, errOut, code := cliCtx(ctx, t, "certify", "--target", "http://"+addr+"/webhooks/riskos",
		"--receiver-command", fmt.Sprintf("sleep 600 & exec python3 -m http.server %d --bind 127.0.0.1", port),
		"--report-dir", dir, "--color", "never")
	stopWatch()
	<-watched
	if code != exitInterrupted && code != exitUnreachable {
		t.Errorf("exit code %d; want %d (or %d if interrupted while starting)\n%s", code, exitInterrupted, exitUnreachable, errOut)
	}
	expectGroupsGone(t, groups())
}

func TestManagedReceiverStartFailures(t *testing.T) {
	t.Setenv("HOOKPROOF_BEARER_TOKEN", "")
	t.Run("exits before answering", func(t *testing.T) {
		groups, _ := recordGroups(t)
		port := dbtest.FreePort(t)
		_, errOut, code := cli(t, "certify", "--target", fmt.Sprintf("http://127.0.0.1:%d/hook", port),
			"--receiver-command", "echo boom-from-receiver >&2; exit 3", "--color", "never")
		if code != exitUnreachable || !strings.Contains(errOut, "boom-from-receiver") || !strings.Contains(errOut, "--receiver-command") {
			t.Errorf("exit %d; want %d with the receiver's output:\n%s", code, exitUnreachable, errOut)
		}
		expectGroupsGone(t, groups())
	})
	t.Run("port already taken", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		_, errOut, code := cli(t, "certify", "--target", "http://"+l.Addr().String()+"/hook",
			"--receiver-command", "true", "--color", "never")
		if code != exitUsage || !strings.Contains(errOut, "already answers") {
			t.Errorf("exit %d; want %d saying something already answers:\n%s", code, exitUsage, errOut)
		}
	})
}

func TestProbeFlagsValidated(t *testing.T) {
	t.Setenv("HOOKPROOF_BEARER_TOKEN", "")
	target := "http://127.0.0.1:1/hook"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--effects-match", "processed {event_id}"}, "--effects-match: needs --effects-log"},
		{[]string{"--effects-log", "/tmp/x.log"}, "--effects-match: required with --effects-log"},
		{[]string{"--effects-log", "/tmp/x.log", "--effects-match", "processed"}, "{event_id} exactly once"},
		{[]string{"--effects-command", "redis-cli SCARD x"}, "--effects-command"},
		{[]string{"--effects-command", "a | b {event_id}"}, "--effects-command-shell"},
		{[]string{"--effects-command-shell"}, "--effects-command-shell: only with --effects-command"},
		{[]string{"--effects-url", "http://127.0.0.1:1/e", "--effects-command", "echo {event_id}"}, "give one of"},
		{[]string{"--receiver-command", "true", "--restart-command", "true"}, "--receiver-command and --restart-command"},
	} {
		_, errOut, code := cli(t, append([]string{"certify", "--target", target}, tc.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d; want %d naming %q:\n%s", tc.args, code, exitUsage, tc.want, errOut)
		}
	}
}

// A log pattern that matches receipt rather than processing is caught by
// AUTH-06, whose reason names the pattern; the right pattern passes.
func TestLogPatternMatchingReceiptFailsAUTH06(t *testing.T) {
	t.Setenv("HOOKPROOF_BEARER_TOKEN", "")
	logPath := filepath.Join(t.TempDir(), "receiver.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	var mu sync.Mutex
	logLine := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(logf, format+"\n", a...)
	}
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		id := ""
		if i := strings.Index(string(body), `"event_id":"`); i >= 0 {
			rest := string(body)[i+len(`"event_id":"`):]
			id, _, _ = strings.Cut(rest, `"`)
		}
		logLine("received event_id=%s", id) // before auth: the receipt line
		if r.Header.Get("Authorization") != "Bearer "+managedToken {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		first := !seen[id]
		seen[id] = true
		mu.Unlock()
		if first {
			logLine("processed event_id=%s", id)
		}
	}))
	defer srv.Close()
	run := func(match string) *reports.Report {
		dir := t.TempDir()
		out, errOut, _ := cli(t, "certify", "--target", srv.URL+"/webhooks/riskos", "--auth", "bearer", "--bearer-token", managedToken,
			"--effects-log", logPath, "--effects-match", match, "--label-filter", "req:AUTH-06",
			"--report-dir", dir, "--color", "never", "--seed", "3")
		rep, err := reports.Read(filepath.Join(dir, "report.json"))
		if err != nil {
			t.Fatalf("report.json: %v\n%s%s", err, out, errOut)
		}
		return rep
	}
	rep := run("event_id={event_id}")
	var auth06 *reports.RequirementResult
	for i := range rep.Requirements {
		if rep.Requirements[i].ID == "AUTH-06" {
			auth06 = &rep.Requirements[i]
		}
	}
	if auth06 == nil || auth06.Status != reports.StatusFailed {
		t.Fatalf("AUTH-06 with a receipt pattern: %+v; want failed", auth06)
	}
	for _, want := range []string{`"event_id={event_id}"`, "not when a request arrives"} {
		if !strings.Contains(auth06.Reason, want) {
			t.Errorf("AUTH-06 reason %q lacks %q", auth06.Reason, want)
		}
	}
	if st := reqStatuses(run("processed event_id={event_id}"))["AUTH-06"]; st != reports.StatusPassed {
		t.Errorf("AUTH-06 with the processing pattern = %q; want passed", st)
	}
}
