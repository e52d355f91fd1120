package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookproof/hookproof/fakes/oauth"
	"github.com/hookproof/hookproof/fakes/receiver"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/internal/devca"
	"github.com/hookproof/hookproof/reports"
)

// --insecure-skip-verify reaches every connection hookproof makes: the
// deliveries, the OAuth2 token fetch and the effects probe, all served here
// over HTTPS with certificates nobody trusts. Without it, the token fetch
// alone is enough to stop the run.
func TestInsecureSkipVerifyAppliesEverywhere(t *testing.T) {
	issuer, err := oauth.NewUnstartedIssuer(oauth.IssuerOptions{Clients: map[string]harness.Secret{"riskos": "cs-untrusted-1"}})
	if err != nil {
		t.Fatal(err)
	}
	issuer.StartTLS()
	t.Cleanup(issuer.Close)
	v := oauth.NewVerifier(oauth.VerifierOptions{JWKSURL: issuer.JWKSURL(), Issuer: issuer.URL(), Audience: issuer.Audience(), Client: issuer.Client()})
	ca, err := devca.New("untrusted CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := receiver.NewUnstartedServer(receiver.Options{Auth: harness.AuthConfig{Type: harness.AuthOAuth2}, Verifier: receiver.VerifierOf(v)})
	if err != nil {
		t.Fatal(err)
	}
	srv.StartTLS(leaf)
	t.Cleanup(srv.Close)

	certify := func(extra ...string) (*reports.Report, string, int) {
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
		rep, out, code := certify("--insecure-skip-verify")
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
		rep, out, code := certify()
		if code != exitFailed {
			t.Fatalf("exit %d; want 1\n%s", code, out)
		}
		if r := requirement(t, rep, "ACK-01"); r.Status != reports.StatusFailed {
			t.Errorf("ACK-01 is %s; want failed (nothing trusts these certificates)", r.Status)
		}
	})
}
