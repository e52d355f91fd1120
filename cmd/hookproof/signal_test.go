package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookproof/hookproof/internal/testbin"
	"github.com/hookproof/hookproof/reports"
)

// buildHookproof builds the real binary once per test process: signals must
// reach a real process with main's handler installed, and the detection
// matrix runs several certify processes at once, which one process cannot
// (Ginkgo's suite is process-global).
func buildHookproof(t *testing.T) string { return testbin.Hookproof(t, ".") }

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// firstSpecLine matches a progress line ("   1 PASS ACK-01 ..."): at that
// point the run is mid-flight, with specs still to run.
var firstSpecLine = regexp.MustCompile(`^\s*\d+ \S+`)

// startInterruptible starts certify against a receiver that leaves every
// other request unanswered, so specs are mid-flight until the per-attempt timeout, and returns
// once the first spec has reported.
func startInterruptible(t *testing.T, bin, dir string) (*exec.Cmd, chan error, *strings.Builder) {
	t.Helper()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var n atomic.Int64
	url, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		// Every other request is answered (the preflight delivery first),
		// so the run starts and the target never looks dead to the
		// breaker; the others hang until the attempt timeout.
		if n.Add(1)%2 == 1 {
			w.WriteHeader(http.StatusOK)
			return
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, "certify", "--target", url, "--auth", "bearer", "--bearer-token", hostileToken,
		"--label-filter", "area:ack || area:idem || area:val", "--event-types", "decision_update",
		"--timeout", "1s", "--time-scale", "0.001", "--report-dir", dir, "--color", "never")
	cmd.Env = append(os.Environ(), "HOOKPROOF_BEARER_TOKEN=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
			if !signalled && firstSpecLine.MatchString(sc.Text()) {
				signalled = true
				close(ready)
			}
		}
		io.Copy(io.Discard, stderr)
		if !signalled {
			close(ready)
		}
		done <- cmd.Wait()
	}()
	<-ready
	return cmd, done, &seen
}

func exitOf(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if !errors.As(err, &ee) {
		t.Fatalf("wait: %v", err)
	}
	return ee.ExitCode() // -1 when killed by the signal itself
}

// SIGINT mid-run: in-flight attempts stop, the partial report is written
// with the unreached requirements skipped as interrupted, and the exit code
// is 130.
func TestSIGINTWritesPartialReportAndExits130(t *testing.T) {
	bin := buildHookproof(t)
	dir := t.TempDir()
	cmd, done, seen := startInterruptible(t, bin, dir)
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := <-done
	took := time.Since(sent)
	if code := exitOf(t, err); code != exitInterrupted {
		t.Fatalf("exit %d; want 130\n%s", code, seen)
	}
	if took > 5*time.Second {
		t.Errorf("took %s after SIGINT; want a second or two", took)
	}
	rep, rerr := reports.Read(filepath.Join(dir, "report.json"))
	if rerr != nil {
		t.Fatalf("report.json: %v\n%s", rerr, seen)
	}
	if rep.Verdict == reports.VerdictPass || !rep.Interrupted {
		t.Errorf("verdict %s, interrupted %v; want not pass, true", rep.Verdict, rep.Interrupted)
	}
	interrupted := 0
	for _, r := range rep.Requirements {
		if r.Status == reports.StatusPassed {
			continue
		}
		if r.Status == reports.StatusSkipped && strings.HasSuffix(r.Reason, "interrupted") && !strings.HasPrefix(r.Reason, "\n") {
			interrupted++
		}
	}
	if interrupted == 0 {
		var got []string
		for _, r := range rep.Requirements {
			got = append(got, r.ID+"="+r.Status+":"+r.Reason)
		}
		t.Errorf("no requirement skipped as interrupted:\n%s", strings.Join(got, "\n"))
	}
	if strings.Contains(seen.String(), "goroutine ") {
		t.Errorf("stack trace on interrupt:\n%s", seen)
	}
}

// A second SIGINT exits at once, with 130, even while the first is still
// winding the run down.
func TestSecondSIGINTExitsAtOnce(t *testing.T) {
	bin := buildHookproof(t)
	cmd, done, seen := startInterruptible(t, bin, t.TempDir())
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	code := exitOf(t, <-done)
	if code != exitInterrupted {
		t.Errorf("exit %d; want 130\n%s", code, seen)
	}
	if took := time.Since(sent); took > 2*time.Second {
		t.Errorf("took %s after the second SIGINT", took)
	}
}
