package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// cli runs hookproof in-process and returns its output and exit code.
func cli(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return cliCtx(context.Background(), t, args...)
}

func cliCtx(ctx context.Context, t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(ctx, args, &out, &errb)
	if err != nil {
		errb.WriteString("hookproof: " + err.Error() + "\n")
	}
	return out.String(), errb.String(), exitCode(ctx, err)
}

// noStackTrace fails if output looks like a panic.
func noStackTrace(t *testing.T, outs ...string) {
	t.Helper()
	for _, o := range outs {
		if strings.Contains(o, "goroutine ") || strings.Contains(o, "panic:") {
			t.Errorf("output has a stack trace:\n%s", o)
		}
	}
}

func TestBadInputExits2NamingTheField(t *testing.T) {
	t.Setenv("HOOKPROOF_BEARER_TOKEN", "")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unknown event type", []string{"send", "--target", "http://127.0.0.1:9/x", "--event", "no_such_event"}, []string{"--event", "no_such_event", "evaluation_completed"}},
		{"invalid URL", []string{"send", "--target", "ftp//nope", "--event", "decision_update"}, []string{"--target"}},
		{"missing secret", []string{"send", "--target", "http://127.0.0.1:9/x", "--event", "decision_update", "--auth", "bearer"}, []string{"--bearer-token", "HOOKPROOF_BEARER_TOKEN"}},
		{"several problems at once", []string{"send", "--target", "nope", "--event", "x", "--auth", "basic"}, []string{"--target", "--event", "--basic-user", "--basic-password"}},
		{"unknown flag", []string{"send", "--no-such-flag"}, []string{"--no-such-flag"}},
		{"unknown sample type", []string{"events", "sample", "nope"}, []string{"nope"}},
		{"bad count", []string{"events", "sample", "decision_update", "--count", "0"}, []string{"--count"}},
		{"unknown fault", []string{"receiver", "--fault", "nope"}, []string{"--fault", "racy-dedupe"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := cli(t, tc.args...)
			if code != exitUsage {
				t.Fatalf("exit code = %d; want %d\nstdout: %s\nstderr: %s", code, exitUsage, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr does not name %q:\n%s", w, errOut)
				}
			}
			noStackTrace(t, out, errOut)
		})
	}
}
