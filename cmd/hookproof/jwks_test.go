package main

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookproof/hookproof/fakes/oauth"
	"github.com/hookproof/hookproof/fakes/receiver"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

// TestAUTH05WithAThirdPartyIssuer: against an issuer hookproof does not run,
// AUTH-05 says how many of its checks ran and why the others did not; with
// the issuer's keys (discovered from its metadata here) the forgeries that
// need only public keys run too, and catch a receiver that lets the token
// choose HS256.
func TestAUTH05WithAThirdPartyIssuer(t *testing.T) {
	issuer, err := oauth.NewServer(oauth.ServerOptions{Clients: map[string]harness.Secret{"riskos": "cs-third-1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(issuer.Close)
	v := oauth.NewVerifier(oauth.VerifierOptions{JWKSURL: issuer.JWKSURL(), Issuer: issuer.URL, Audience: issuer.Audience(), Client: issuer.Client()})
	start := func(t *testing.T, verify receiver.TokenVerifier) *receiver.Server {
		srv, err := receiver.NewServer(receiver.Options{Auth: harness.AuthConfig{Type: harness.AuthOAuth2}, Verifier: verify})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		return srv
	}
	certify := func(t *testing.T, srv *receiver.Server, extra ...string) reports.RequirementResult {
		dir := t.TempDir()
		args := append([]string{"certify", "--target", srv.WebhookURL(),
			"--auth", "oauth2", "--oauth2-token-url", issuer.TokenURL(), "--oauth2-client-id", "riskos", "--oauth2-client-secret", "cs-third-1",
			"--label-filter", "req:AUTH-05", "--report-dir", dir, "--color", "never"}, extra...)
		out, errOut, _ := cliCtx(context.Background(), t, args...)
		noStackTrace(t, out, errOut)
		rep, err := reports.Read(filepath.Join(dir, "report.json"))
		if err != nil {
			t.Fatalf("report.json: %v\n%s%s", err, out, errOut)
		}
		return requirement(t, rep, "AUTH-05")
	}

	t.Run("keys discovered: 6 of 13 checks", func(t *testing.T) {
		q := certify(t, start(t, receiver.VerifierOf(v)))
		if q.Status != reports.StatusPassed || q.ChecksRun != 6 || q.ChecksTotal != 13 ||
			!strings.HasPrefix(q.Reason, "6 of 13 checks ran") || !strings.Contains(q.Reason, "needs tokens issued by hookproof") {
			t.Errorf("AUTH-05 = %s, %d of %d: %q", q.Status, q.ChecksRun, q.ChecksTotal, q.Reason)
		}
	})
	t.Run("no keys: 4 of 13, saying how to get the others", func(t *testing.T) {
		q := certify(t, start(t, receiver.VerifierOf(v)), "--oauth2-jwks-url", issuer.URL+"/no-such-jwks")
		if q.Status != reports.StatusPassed || q.ChecksRun != 4 || !strings.Contains(q.Reason, "--oauth2-jwks-url") {
			t.Errorf("AUTH-05 = %s, %d of %d: %q", q.Status, q.ChecksRun, q.ChecksTotal, q.Reason)
		}
	})
	t.Run("a receiver that lets the token choose HS256 fails", func(t *testing.T) {
		naive := receiver.TokenVerifierFunc(func(ctx context.Context, tok string) error {
			if h, _, ok := strings.Cut(tok, "."); ok {
				if b, err := base64.RawURLEncoding.DecodeString(h); err == nil && strings.Contains(string(b), `"HS256"`) {
					return nil // "verified" with whatever key it was handed
				}
			}
			_, err := v.Verify(ctx, tok)
			return err
		})
		q := certify(t, start(t, naive))
		if q.Status != reports.StatusFailed || !strings.Contains(q.Reason, "HS256") {
			t.Errorf("AUTH-05 = %s: %q; want failed on the HS256 forgery", q.Status, q.Reason)
		}
	})
}
