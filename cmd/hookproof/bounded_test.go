package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookproof/hookproof/reports"
)

// sparse makes a file of size bytes that takes no disk space.
func sparse(t *testing.T, name string, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Skipf("no sparse file of %d bytes here: %v", size, err)
	}
	return p
}

// Every file input, given /dev/zero or a file over its cap, is refused
// with exit 2 naming the flag, in under 2 s and 100 MB of memory, by the
// real binary (so the measure is the process's own peak RSS).
func TestEveryFileInputIsBounded(t *testing.T) {
	bin := buildHookproof(t)
	target := []string{"--target", "http://127.0.0.1:9/hook"}
	send := append([]string{"send", "--event", "decision_update"}, target...)
	for _, tc := range []struct {
		name string
		args []string
		flag string
	}{
		{"bearer token @/dev/zero", append(send, "--auth", "bearer", "--bearer-token", "@/dev/zero"), "--bearer-token"},
		{"basic password @/dev/zero", append(send, "--auth", "basic", "--basic-user", "u", "--basic-password", "@/dev/zero"), "--basic-password"},
		{"client secret @/dev/zero", append(send, "--auth", "oauth2", "--oauth2-client-secret", "@/dev/zero"), "--oauth2-client-secret"},
		{"effects DSN @/dev/zero", append([]string{"certify", "--effects-sql", "@/dev/zero"}, target...), "--effects-sql"},
		{"oversized secret file", append(send, "--auth", "bearer", "--bearer-token", "@"+sparse(t, "token", 1<<20)), "--bearer-token"},
		{"config /dev/zero", append(send, "--config", "/dev/zero"), "--config"},
		{"oversized config", append(send, "--config", sparse(t, "hookproof.yaml", 50<<20)), "--config"},
		{"replay --from /dev/zero", append([]string{"replay", "--from", "/dev/zero"}, target...), "--from"},
		{"oversized replay file", append([]string{"replay", "--from", sparse(t, "events.jsonl", maxReplayFileBytes+1)}, target...), "--from"},
		{"report --from /dev/zero", []string{"report", "--from", "/dev/zero"}, "--from"},
		{"oversized report", []string{"report", "--from", sparse(t, "report.json", reports.MaxReportSize+1)}, "--from"},
		{"report merge --from /dev/zero", []string{"report", "merge", "--from", "/dev/zero"}, "--from"},
		{"send --body-file /dev/zero", []string{"send", "--target", "http://127.0.0.1:9/x", "--body-file", "/dev/zero"}, "--body-file"},
		{"report merge --results /dev/zero", []string{"report", "merge", "--results", "/dev/zero"}, "--results"},
		{"oversized results", []string{"report", "merge", "--results", sparse(t, "results.bin", maxResultsFileBytes+1)}, "--results"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, tc.args...)
			cmd.Env = append(os.Environ(), "HOOKPROOF_BEARER_TOKEN=", "HOOKPROOF_CONFIG=", "HOOKPROOF_OAUTH2_CLIENT_SECRET=")
			cmd.Dir = t.TempDir() // no ./hookproof.yaml
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			start := time.Now()
			err := cmd.Run()
			took := time.Since(start)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitUsage {
				t.Fatalf("err %v; want exit 2\n%s", err, stderr.String())
			}
			if took > 2*time.Second {
				t.Errorf("took %s; want under 2s", took)
			}
			if rss := ee.SysUsage().(*syscall.Rusage).Maxrss; rss > 100<<10 { // KiB on Linux
				t.Errorf("peak RSS %d KiB; want under 100 MB", rss)
			}
			msg := stderr.String()
			if !strings.Contains(msg, tc.flag) {
				t.Errorf("stderr does not name %s:\n%s", tc.flag, msg)
			}
			if !strings.Contains(msg, "not a regular file") && !strings.Contains(msg, "larger than") {
				t.Errorf("stderr says neither 'not a regular file' nor the cap:\n%s", msg)
			}
		})
	}
}

// A pipe is a fine place for a secret (--bearer-token @<(vault read ...)).
func TestSecretFromAPipe(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			f.WriteString("piped-secret-value\n")
			f.Close()
		}
	}()
	sec, err := readSecret("--bearer-token", "@"+fifo)
	if err != nil || sec.Reveal() != "piped-secret-value" {
		t.Errorf("secret %q, err %v", sec.Reveal(), err)
	}
}
