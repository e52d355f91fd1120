package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookproof/hookproof/fakes/oauth"
	"github.com/hookproof/hookproof/fakes/receiver"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

// --insecure-skip-verify reaches every connection hookproof makes: the
// deliveries, the OAuth2 token fetch and the effects probe, all served here
// over HTTPS with certificates nobody trusts. Without it, the token fetch
// alone is enough to stop the run.
func TestInsecureSkipVerifyAppliesEverywhere(t *testing.T) {
	issuer, err := oauth.NewUnstartedServer(oauth.ServerOptions{Clients: map[string]harness.Secret{"riskos": "cs-untrusted-1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(issuer.Close)
	if err := issuer.StartTLS(); err != nil {
		t.Fatal(err)
	}
	v := oauth.NewVerifier(oauth.VerifierOptions{JWKSURL: issuer.JWKSURL(), Issuer: issuer.URL, Audience: issuer.Audience(), Client: issuer.Client()})
	_, leaf, _ := testCA(t) // its CA file is never passed: nothing trusts it
	srv, err := receiver.NewUnstartedServer(receiver.Options{Auth: harness.AuthConfig{Type: harness.AuthOAuth2}, Verifier: receiver.VerifierOf(v)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if err := srv.StartTLS(leaf); err != nil {
		t.Fatal(err)
	}

	certify := func(t *testing.T, extra ...string) (*reports.Report, string, int) {
		dir := t.TempDir()
		args := append([]string{"certify", "--target", srv.WebhookURL(), "--effects-url", srv.EffectsURL(),
			"--auth", "oauth2", "--oauth2-token-url", issuer.TokenURL(), "--oauth2-client-id", "riskos", "--oauth2-client-secret", "cs-untrusted-1",
			"--label-filter", "req:ACK-01 || req:IDEM-02 || req:AUTH-07", "--event-types", "decision_update",
			"--report-dir", dir, "--color", "never"}, extra...)
		out, errOut, code := cliCtx(context.Background(), t, args...)
		noStackTrace(t, out, errOut)
		rep, err := reports.Read(filepath.Join(dir, "report.json"))
		if err != nil {
			t.Fatalf("report.json: %v\n%s%s", err, out, errOut)
		}
		return rep, out + errOut, code
	}

	t.Run("with --insecure-skip-verify", func(t *testing.T) {
		rep, out, code := certify(t, "--insecure-skip-verify")
		if code != exitOK {
			t.Fatalf("exit %d; want 0\n%s", code, out)
		}
		for _, id := range []string{"ACK-01", "IDEM-02", "AUTH-07"} {
			if r := requirement(t, rep, id); r.Status != reports.StatusPassed {
				t.Errorf("%s is %s (%s); want passed: the token fetch and the probe must skip verification too", id, r.Status, r.Reason)
			}
		}
		if !rep.Insecure || !strings.Contains(strings.Join(rep.Notes, " "), "insecure-skip-verify") {
			t.Errorf("the report does not say loudly that verification was off: insecure=%v notes=%v", rep.Insecure, rep.Notes)
		}
	})
	t.Run("without it", func(t *testing.T) {
		// Nothing trusts these certificates: the token fetch, made before
		// the run, is the first to say so, and the run stops there as a
		// configuration error instead of failing the receiver.
		args := []string{"certify", "--target", srv.WebhookURL(), "--effects-url", srv.EffectsURL(),
			"--auth", "oauth2", "--oauth2-token-url", issuer.TokenURL(), "--oauth2-client-id", "riskos", "--oauth2-client-secret", "cs-untrusted-1",
			"--label-filter", "req:ACK-01", "--color", "never"}
		out, errOut, code := cli(t, args...)
		if code != exitUsage || !strings.Contains(errOut, "--oauth2-token-url") || !strings.Contains(errOut, "certificate") {
			t.Errorf("exit %d; want 2 with the token endpoint's certificate error\n%s%s", code, out, errOut)
		}
		// With bearer auth and no probe, the deliveries fail instead.
		dir := t.TempDir()
		args = []string{"certify", "--target", srv.WebhookURL(), "--auth", "bearer", "--bearer-token", "bt-untrusted-1",
			"--label-filter", "req:ACK-01", "--color", "never", "--report-dir", dir}
		_, _, code = cli(t, args...)
		rep, err := reports.Read(filepath.Join(dir, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		if r := requirement(t, rep, "ACK-01"); code != exitFailed || r.Status != reports.StatusFailed {
			t.Errorf("exit %d, ACK-01 %s; want 1, failed", code, r.Status)
		}
	})
}
