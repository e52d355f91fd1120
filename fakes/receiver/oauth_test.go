package receiver

import (
	"context"
	"net/http"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/hookproof/hookproof/fakes/oauth"
	"github.com/hookproof/hookproof/harness"
)

// TestRealIssuerTokensAreAcceptedAndBadOnesRefused wires the receiver to the
// fakes/oauth issuer through its JWKS: a token fetched with the
// client-credentials grant is accepted, also after a refresh (AUTH-07), and
// every bad token kind the issuer can mint is refused and not processed
// (AUTH-05, AUTH-06).
func TestRealIssuerTokensAreAcceptedAndBadOnesRefused(t *testing.T) {
	t.Parallel()
	iss, err := oauth.NewServer(oauth.ServerOptions{Clients: map[string]harness.Secret{"riskos": "issuer-secret"}})
	if err != nil {
		t.Fatalf("oauth NewServer: %v", err)
	}
	t.Cleanup(iss.Close)
	v := oauth.NewVerifier(oauth.VerifierOptions{Issuer: iss.URL, AllowedClients: []string{"riskos"}})
	s := startServer(t, Options{Auth: harness.AuthConfig{Type: harness.AuthOAuth2}, Verifier: VerifierOf(v)})

	cc := clientcredentials.Config{ClientID: "riskos", ClientSecret: "issuer-secret", TokenURL: iss.TokenURL()}
	for round := range 2 { // the second fetch is the refresh
		tok, err := cc.Token(context.Background())
		if err != nil {
			t.Fatalf("token fetch %d: %v", round, err)
		}
		id := newID()
		if r := send(t, s.WebhookURL(), "Bearer "+tok.AccessToken, "application/json", validEvent(id)); r.status != http.StatusOK {
			t.Fatalf("delivery with fetched token %d = %d %s; want 200", round, r.status, r.body)
		}
		if n := probeCount(t, s, id); n != 1 {
			t.Errorf("processed %d; want 1", n)
		}
	}
	before := s.Receiver().Processed()

	bad := map[string]string{}
	for _, k := range oauth.TokenKinds() {
		tok, err := iss.Mint(k.Kind, "riskos")
		if err != nil {
			t.Fatalf("Mint(%s): %v", k.Kind, err)
		}
		bad[string(k.Kind)] = tok
	}
	other, err := iss.Mint(oauth.TokenValid, "someone-else")
	if err != nil {
		t.Fatal(err)
	}
	bad["token for another client"] = other
	bad["random"] = "not-a-token"
	for name, tok := range bad {
		r := send(t, s.WebhookURL(), "Bearer "+tok, "application/json", validEvent(newID()))
		if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: status %d WWW-Authenticate %q; want 401 with a challenge", name, r.status, r.header.Get("WWW-Authenticate"))
		}
	}
	s.Receiver().settle()
	if n := s.Receiver().Processed() - before; n != 0 {
		t.Errorf("processed %d events with bad tokens; want 0", n)
	}
}
