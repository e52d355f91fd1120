package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookproof/hookproof/fakes/oauth"
	"github.com/hookproof/hookproof/fakes/receiver"
	"github.com/hookproof/hookproof/harness"
)

// send → the reference receiver, over real sockets, for every auth type.
func TestSendDeliversWithEveryAuthType(t *testing.T) {
	issuer, err := oauth.NewServer(oauth.ServerOptions{Clients: map[string]harness.Secret{"riskos": "client-secret-1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(issuer.Close)
	v := oauth.NewVerifier(oauth.VerifierOptions{JWKSURL: issuer.JWKSURL(), Issuer: issuer.URL, Audience: issuer.Audience(), Client: issuer.Client()})
	for _, tc := range []struct {
		name string
		auth harness.AuthConfig
		args []string
	}{
		{"none", harness.AuthConfig{Type: harness.AuthNone}, nil},
		{"basic", harness.AuthConfig{Type: harness.AuthBasic, BasicUser: "riskos", BasicPassword: "pw-1"},
			[]string{"--auth", "basic", "--basic-user", "riskos", "--basic-password", "pw-1"}},
		{"bearer", harness.AuthConfig{Type: harness.AuthBearer, BearerToken: "tok-1"},
			[]string{"--auth", "bearer", "--bearer-token", "tok-1"}},
		{"oauth2", harness.AuthConfig{Type: harness.AuthOAuth2},
			[]string{"--auth", "oauth2", "--oauth2-token-url", issuer.TokenURL(), "--oauth2-client-id", "riskos", "--oauth2-client-secret", "client-secret-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := receiver.Options{Auth: tc.auth}
			if tc.auth.Type == harness.AuthOAuth2 {
				opts.Verifier = receiver.VerifierOf(v)
			}
			srv, err := receiver.NewServer(opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Close)
			args := append([]string{"send", "--target", srv.WebhookURL(), "--event", "decision_update", "--count", "3", "--duplicates", "2"}, tc.args...)
			out, errOut, code := cli(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			if n := strings.Count(out, "attempt 1 "); n != 6 {
				t.Errorf("%d attempt lines; want 6 (3 events × 2 copies)\n%s", n, out)
			}
			if !strings.Contains(out, "6 acknowledged, 0 lost") {
				t.Errorf("summary does not say 6 acknowledged:\n%s", out)
			}
			// Processing follows the ack asynchronously: poll until it shows.
			if got := eventually(func() int { return srv.Receiver().Processed() }, 3); got != 3 {
				t.Errorf("receiver processed %d events; want 3 (duplicates deduplicated)", got)
			}
			for _, s := range []string{"pw-1", "tok-1", "client-secret-1"} {
				if strings.Contains(out+errOut, s) {
					t.Errorf("secret %q printed", s)
				}
			}
		})
		t.Run(tc.name+"/wrong credentials are refused", func(t *testing.T) {
			if tc.auth.Type == harness.AuthNone || tc.auth.Type == harness.AuthOAuth2 {
				t.Skip("no static credential to get wrong")
			}
			srv, err := receiver.NewServer(receiver.Options{Auth: tc.auth})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Close)
			wrong := map[harness.AuthType][]string{
				harness.AuthBasic:  {"--auth", "basic", "--basic-user", "riskos", "--basic-password", "nope"},
				harness.AuthBearer: {"--auth", "bearer", "--bearer-token", "nope"},
			}[tc.auth.Type]
			out, _, code := cli(t, append([]string{"send", "--target", srv.WebhookURL(), "--event", "decision_update"}, wrong...)...)
			if code != exitFailed || !strings.Contains(out, " 401 ") {
				t.Errorf("exit %d; want 1 with a 401 attempt\n%s", code, out)
			}
		})
	}
}

// eventually polls f until it returns want or 5 s pass, and returns its last value.
func eventually(f func() int, want int) int {
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	got := f()
	for got != want && time.Now().Before(deadline) {
		<-tick.C
		got = f()
	}
	return got
}

// The ledger printed by send shows every attempt of a retried delivery
// against a receiver answering 503, with RiskOS's waits (scaled and real).
func TestSendRetryShowsTheRiskOSSchedule(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	out, errOut, code := cliCtx(context.Background(), t, "send", "--target", srv.URL, "--event", "evaluation_completed",
		"--retry", "--time-scale", "0.001")
	if code != exitFailed {
		t.Fatalf("exit %d; want 1 (the event is lost after 10 retries)\n%s%s", code, out, errOut)
	}
	if hits.Load() != 11 {
		t.Errorf("server saw %d attempts; want 11", hits.Load())
	}
	re := regexp.MustCompile(`(?m)^attempt (\d+) .* 503 .*\(RiskOS: (\w+)\)`)
	var real []string
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		real = append(real, m[2])
	}
	want := []string{"2s", "4s", "8s", "16s", "32s", "1m0s", "1m0s", "1m0s", "1m0s", "1m0s"}
	if strings.Join(real, " ") != strings.Join(want, " ") {
		t.Errorf("real waits = %v; want %v\n%s", real, want, out)
	}
	if !strings.Contains(out, "retry-after=1") || !strings.Contains(out, "11 attempts") {
		t.Errorf("ledger lines lack Retry-After or the summary lacks the attempt count:\n%s", out)
	}
}

// send --body-file replays a saved body exactly; --concurrent releases the
// copies at one instant: a racy dedupe processes them more than once, a
// correct receiver once.
func TestSendBodyFileConcurrent(t *testing.T) {
	body := []byte(`{"event_id":"e-replay-1","event_type":"decision_update","event_at":"2026-01-02T03:04:05Z","data":{"id":"x"}}`)
	path := filepath.Join(t.TempDir(), "IDEM-03-1.json")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		faults []receiver.Fault
		many   bool
	}{{"correct", nil, false}, {"racy dedupe", []receiver.Fault{receiver.FaultRacyDedupe}, true}} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := receiver.NewServer(receiver.Options{Auth: harness.AuthConfig{Type: harness.AuthNone}, Faults: tc.faults})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Close)
			out, errOut, code := cli(t, "send", "--target", srv.WebhookURL(), "--body-file", path, "--concurrent", "8", "--retry", "--time-scale", "0.01")
			if code != exitOK {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			if !strings.Contains(out, "8 deliveries") || !strings.Contains(out, "e-replay-1") {
				t.Errorf("want 8 deliveries of e-replay-1:\n%s", out)
			}
			count := func() int { return srv.Receiver().Count("e-replay-1") }
			var n int
			if tc.many {
				// Processing is asynchronous: wait for a second processing,
				// however many the race produced.
				n = eventually(func() int { return min(count(), 2) }, 2)
			} else {
				n = eventually(count, 1)
			}
			if tc.many != (n > 1) || n == 0 {
				t.Errorf("processed %d times; want %s", n, map[bool]string{true: "more than once", false: "once"}[tc.many])
			}
		})
	}
	if _, errOut, code := cli(t, "send", "--target", "http://127.0.0.1:9/x", "--body-file", path, "--event", "decision_update", "--concurrent", "0"); code != exitUsage ||
		!strings.Contains(errOut, "--body-file") || !strings.Contains(errOut, "--concurrent") {
		t.Errorf("bad flags: exit %d; want 2 naming --body-file and --concurrent\n%s", code, errOut)
	}
}
