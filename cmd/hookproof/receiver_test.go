package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookproof/hookproof/fakes/receiver"
)

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// startReceiverCmd runs `hookproof receiver` in-process until the test
// ends and returns its base URL and what it printed on stderr so far.
func startReceiverCmd(t *testing.T, args ...string) (string, <-chan string) {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(ctx, append([]string{"receiver", "--listen", addr}, args...), io.Discard, pw)
		pw.Close()
	}()
	t.Cleanup(func() { cancel(); <-done })
	// Drain stderr continuously: the pipe is synchronous and the receiver
	// prints before it listens.
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody is waiting for more lines
			}
		}
	}()
	// Poll until it accepts connections (bounded), rather than sleeping.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("receiver never listened on %s: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond) // polling a socket, not synchronising goroutines
	}
	return "http://" + addr, lines
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
			base, stderr := startReceiverCmd(t, tc.rx...)
			tx := tc.tx
			if tc.name == "oauth2" {
				// The receiver prints the token URL of the issuer it started.
				re := regexp.MustCompile(`token URL (\S+)`)
				var tokenURL string
				for tokenURL == "" {
					line, ok := <-stderr
					if !ok {
						t.Fatal("no token URL printed")
					}
					if m := re.FindStringSubmatch(line); m != nil {
						tokenURL = m[1]
					}
				}
				tx = append(tx, "--oauth2-token-url", tokenURL)
			}
			out, errOut, code := cli(t, append([]string{"send", "--target", base + "/webhooks/riskos", "--event", "case_status_updated", "--count", "2"}, tx...)...)
			if code != exitOK || !strings.Contains(out, "2 acknowledged, 0 lost") {
				t.Errorf("exit %d\n%s%s", code, out, errOut)
			}
			if tc.name != "none" {
				out, _, code := cli(t, "send", "--target", base+"/webhooks/riskos", "--event", "case_status_updated")
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
