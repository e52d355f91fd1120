package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/hookproof/hookproof/fakes/receiver"
)

// startReceiverCmd runs `hookproof receiver --listen 127.0.0.1:0` in-process
// until the test ends. It returns the webhook URL the command printed once
// it listened, and every stderr line up to that one.
func startReceiverCmd(t *testing.T, args ...string) (webhookURL string, stderr []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := run(ctx, append([]string{"receiver", "--listen", "127.0.0.1:0"}, args...), io.Discard, pw)
		pw.CloseWithError(fmt.Errorf("receiver command returned: %v", err))
	}()
	t.Cleanup(func() { cancel(); <-done })
	webhookAt := regexp.MustCompile(`webhook at (\S+),`)
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		stderr = append(stderr, sc.Text())
		if m := webhookAt.FindStringSubmatch(sc.Text()); m != nil {
			webhookURL = m[1]
			break
		}
	}
	if webhookURL == "" {
		t.Fatalf("no webhook URL printed (%v):\n%s", sc.Err(), strings.Join(stderr, "\n"))
	}
	// The pipe is synchronous: keep draining it, or the receiver's logging
	// blocks.
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return webhookURL, stderr
}

// The address printed is the one bound: with port 0 it names the port the
// system chose, and a delivery to it is acknowledged.
func TestReceiverPrintsTheBoundAddress(t *testing.T) {
	url, _ := startReceiverCmd(t)
	if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.Contains(url, "127.0.0.1:0/") {
		t.Fatalf("printed webhook URL %q; want the bound port on 127.0.0.1", url)
	}
	out, errOut, code := cli(t, "send", "--target", url, "--event", "evaluation_completed")
	if code != exitOK || !strings.Contains(out, "1 acknowledged, 0 lost") {
		t.Errorf("send to the printed URL: exit %d\n%s%s", code, out, errOut)
	}
}

// hookproof send → hookproof receiver, both from the command line, for each auth type.
func TestSendToReceiverCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		rx   []string
		tx   []string
	}{
		{"none", nil, nil},
		{"basic", []string{"--auth", "basic", "--basic-user", "u", "--basic-password", "p-123"}, []string{"--auth", "basic", "--basic-user", "u", "--basic-password", "p-123"}},
		{"bearer", []string{"--auth", "bearer", "--bearer-token", "t-123"}, []string{"--auth", "bearer", "--bearer-token", "t-123"}},
		{"oauth2", []string{"--auth", "oauth2", "--oauth2-client-id", "c", "--oauth2-client-secret", "s-123"}, []string{"--auth", "oauth2", "--oauth2-client-id", "c", "--oauth2-client-secret", "s-123"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, stderr := startReceiverCmd(t, tc.rx...)
			tx := tc.tx
			if tc.name == "oauth2" {
				// The receiver prints the token URL of the issuer it started.
				re := regexp.MustCompile(`token URL (\S+)`)
				var tokenURL string
				for _, line := range stderr {
					if m := re.FindStringSubmatch(line); m != nil {
						tokenURL = m[1]
					}
				}
				if tokenURL == "" {
					t.Fatalf("no token URL printed:\n%s", strings.Join(stderr, "\n"))
				}
				tx = append(tx, "--oauth2-token-url", tokenURL)
			}
			out, errOut, code := cli(t, append([]string{"send", "--target", url, "--event", "case_status_updated", "--count", "2"}, tx...)...)
			if code != exitOK || !strings.Contains(out, "2 acknowledged, 0 lost") {
				t.Errorf("exit %d\n%s%s", code, out, errOut)
			}
			if tc.name != "none" {
				out, _, code := cli(t, "send", "--target", url, "--event", "case_status_updated")
				if code != exitFailed || !strings.Contains(out, " 401 ") {
					t.Errorf("unauthenticated send: exit %d; want 1 with 401\n%s", code, out)
				}
			}
		})
	}
}

func TestReceiverListFaults(t *testing.T) {
	out, _, code := cli(t, "receiver", "--list-faults")
	if code != exitOK || !strings.Contains(out, "racy-dedupe") || !strings.Contains(out, "IDEM-03") {
		t.Errorf("exit %d\n%s", code, out)
	}
	for _, f := range receiver.Matrix() {
		if !strings.Contains(out, string(f.Name)) {
			t.Errorf("--list-faults does not list %s\n%s", f.Name, out)
		}
	}
	if !regexp.MustCompile(`(?m)^rate-limit +variant +none `).MatchString(out) ||
		!regexp.MustCompile(`(?m)^short-dedupe-memory +fault +IDEM-04, IDEM-07 \(not in quick\)`).MatchString(out) {
		t.Errorf("variant and fault rows not as expected\n%s", out)
	}
}

func TestReceiverNegativeVariantParametersAreUsageErrors(t *testing.T) {
	_, errOut, code := cli(t, "receiver", "--rate-limit", "-1", "--worker-rate", "-2", "--dedupe-memory", "-1s")
	if code != exitUsage {
		t.Fatalf("exit %d; want 2\n%s", code, errOut)
	}
	for _, flag := range []string{"--rate-limit", "--worker-rate", "--dedupe-memory"} {
		if !strings.Contains(errOut, flag) {
			t.Errorf("the error does not name %s\n%s", flag, errOut)
		}
	}
}
