package oauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/internal/lifecycletest"
)

func TestServerOptionsValidation(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		opts  ServerOptions
		field string
	}{
		{"empty client id", ServerOptions{Clients: map[string]harness.Secret{"": "x"}, Key: key(t, 0)}, "Clients"},
		{"empty secret", ServerOptions{Clients: map[string]harness.Secret{"c": ""}, Key: key(t, 0)}, `Clients["c"]`},
		{"negative TTL", ServerOptions{TTL: -time.Second, Key: key(t, 0)}, "TTL"},
		{"small key", ServerOptions{Key: small}, "Key"},
		{"foreign key equals key", ServerOptions{Key: key(t, 0), ForeignKey: key(t, 0)}, "ForeignKey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iss, err := NewUnstartedServer(tc.opts)
			if err == nil {
				iss.Close()
				t.Fatalf("NewUnstartedServer(%s) = nil error", tc.name)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name field %s", err, tc.field)
			}
		})
	}
}

// TestIssuedTokenClaims decodes a token from the endpoint and checks every
// claim and header the task promises.
func TestIssuedTokenClaims(t *testing.T) {
	clock := newFakeClock()
	iss := newTestIssuer(t, clock, func(o *ServerOptions) { o.TTL = 5 * time.Minute; o.Audience = "rx" })
	var toks []string
	for range 2 {
		r := postToken(t, iss, url.Values{"grant_type": {"client_credentials"}, "scope": {"w"}}, testClient, testSecret)
		toks = append(toks, r.json["access_token"].(string))
	}
	parsed, err := jwt.ParseSigned(toks[0], []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if h := parsed.Headers[0]; h.KeyID != iss.KeyID() || h.Algorithm != "RS256" || h.ExtraHeaders["typ"] != "at+jwt" {
		t.Errorf("header = kid %q alg %q typ %v; want kid %q RS256 at+jwt", h.KeyID, h.Algorithm, h.ExtraHeaders["typ"], iss.KeyID())
	}
	var c wireClaims
	if err := parsed.Claims(&key(t, 0).PublicKey, &c); err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	if c.Issuer != iss.URL || !c.Audience.Contains("rx") || c.Subject != testClient || c.ClientID != testClient || c.Scope != "w" {
		t.Errorf("claims = %+v; want iss %s aud rx sub/client_id %s scope w", c, iss.URL, testClient)
	}
	if !c.IssuedAt.Time().Equal(now) || !c.NotBefore.Time().Equal(now) || !c.Expiry.Time().Equal(now.Add(5*time.Minute)) {
		t.Errorf("iat, nbf, exp = %v, %v, %v; want %v, %v, %v", c.IssuedAt.Time(), c.NotBefore.Time(), c.Expiry.Time(), now, now, now.Add(5*time.Minute))
	}
	var c2 wireClaims
	p2, _ := jwt.ParseSigned(toks[1], []jose.SignatureAlgorithm{jose.RS256})
	_ = p2.Claims(&key(t, 0).PublicKey, &c2)
	if c.ID == "" || c.ID == c2.ID {
		t.Errorf("jti = %q and %q; want unique non-empty", c.ID, c2.ID)
	}
}

func TestTokenRequestsRecorded(t *testing.T) {
	iss := newTestIssuer(t, newFakeClock(), nil)
	postToken(t, iss, url.Values{"grant_type": {"client_credentials"}}, testClient, testSecret)
	postToken(t, iss, url.Values{"grant_type": {"client_credentials"}, "client_id": {"other"}, "client_secret": {"bad"}}, "", "")
	got := iss.TokenRequests()
	if len(got) != 2 {
		t.Fatalf("TokenRequests() has %d entries; want 2", len(got))
	}
	if r := got[0]; r.ClientID != testClient || r.AuthMethod != "client_secret_basic" || r.Status != 200 || r.Error != "" || r.GrantType != "client_credentials" {
		t.Errorf("first request = %+v", r)
	}
	if r := got[1]; r.ClientID != "other" || r.AuthMethod != "client_secret_post" || r.Status != 401 || r.Error != "invalid_client" {
		t.Errorf("second request = %+v", r)
	}
}

func TestMetadata(t *testing.T) {
	iss := newTestIssuer(t, newFakeClock(), nil)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, iss.URL+MetadataPath, nil)
	r := do(t, iss.Client(), req)
	if r.status != 200 || r.json["issuer"] != iss.URL || r.json["token_endpoint"] != iss.TokenURL() || r.json["jwks_uri"] != iss.JWKSURL() {
		t.Errorf("metadata = %d %s", r.status, r.body)
	}
}

// TestHandlerMountedElsewhere runs the issuer's routes under a prefix on
// another server, as `hookproof receiver` may, with URL set to match.
func TestHandlerMountedElsewhere(t *testing.T) {
	host := httptest.NewUnstartedServer(nil)
	base := "http://" + host.Listener.Addr().String() + "/oauth"
	clock := newFakeClock()
	iss := newTestIssuer(t, clock, func(o *ServerOptions) { o.URL = base + "/" })
	mux := http.NewServeMux()
	mux.Handle("/oauth/", http.StripPrefix("/oauth", iss.Handler()))
	host.Config.Handler = mux
	host.Start()
	t.Cleanup(host.Close)

	if iss.TokenURL() != base+TokenPath || iss.JWKSURL() != base+JWKSPath {
		t.Fatalf("TokenURL, JWKSURL = %s, %s; want under %s", iss.TokenURL(), iss.JWKSURL(), base)
	}
	cfg := clientcredentials.Config{ClientID: testClient, ClientSecret: testSecret, TokenURL: iss.TokenURL()}
	tok, err := cfg.Token(context.WithValue(t.Context(), oauth2.HTTPClient, host.Client()))
	if err != nil {
		t.Fatalf("Token() via mounted handler = %v", err)
	}
	v := NewVerifier(VerifierOptions{Issuer: base, Client: host.Client(), Now: clock.Now})
	if _, err := v.Verify(t.Context(), tok.AccessToken); err != nil {
		t.Errorf("Verify(token from mounted issuer) = %v", err)
	}
}

func TestIssuerTLS(t *testing.T) {
	clock := newFakeClock()
	iss, err := NewUnstartedServer(ServerOptions{
		Clients: map[string]harness.Secret{testClient: testSecret}, Key: key(t, 0), Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	if err := iss.StartTLS(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(iss.URL, "https://127.0.0.1:") {
		t.Fatalf("URL = %s; want https on loopback", iss.URL)
	}
	cfg := clientcredentials.Config{ClientID: testClient, ClientSecret: testSecret, TokenURL: iss.TokenURL()}
	tok, err := cfg.Token(context.WithValue(t.Context(), oauth2.HTTPClient, iss.Client()))
	if err != nil {
		t.Fatalf("Token() over TLS = %v", err)
	}
	v := NewVerifier(VerifierOptions{Issuer: iss.URL, Client: iss.Client(), Now: clock.Now})
	if _, err := v.Verify(t.Context(), tok.AccessToken); err != nil {
		t.Errorf("Verify over TLS = %v", err)
	}
}

func TestMintRefusesBadInput(t *testing.T) {
	iss := newTestIssuer(t, newFakeClock(), nil)
	if _, err := iss.Mint("bogus", testClient); err == nil {
		t.Error("Mint(bogus kind) = nil error")
	}
	if _, err := iss.Mint(TokenValid, ""); err == nil {
		t.Error("Mint(valid, empty client) = nil error")
	}
	if _, err := iss.RotateKey(key(t, 0)); err == nil {
		t.Error("RotateKey(current key) = nil error; want already published")
	}
}

func TestStartListensOnAddrAndSetsURL(t *testing.T) {
	t.Parallel()
	iss, err := NewUnstartedServer(ServerOptions{Clients: map[string]harness.Secret{testClient: testSecret}, Key: key(t, 0)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	lifecycletest.Check(t, lifecycletest.Server{
		Start: func(addr string) error { iss.Addr = addr; return iss.Start() },
		URL:   func() string { return iss.URL },
	})
	if iss.TokenURL() != iss.URL+TokenPath {
		t.Errorf("TokenURL = %s; want URL+%s", iss.TokenURL(), TokenPath)
	}
	r := postToken(t, iss, url.Values{"grant_type": {"client_credentials"}}, testClient, testSecret)
	if r.status != http.StatusOK {
		t.Errorf("token request to the started server = %d; want 200", r.status)
	}
}
