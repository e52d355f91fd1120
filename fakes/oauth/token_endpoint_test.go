package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func TestTokenEndpointIssuesTokens(t *testing.T) {
	clock := newFakeClock()
	iss := newTestIssuer(t, clock, nil)
	v := newTestVerifier(iss, clock, nil)

	for _, tc := range []struct {
		name       string
		form       url.Values
		user, pass string
	}{
		{"client_secret_basic", url.Values{"grant_type": {"client_credentials"}}, testClient, testSecret},
		{"client_secret_post", url.Values{
			"grant_type": {"client_credentials"}, "client_id": {testClient}, "client_secret": {testSecret},
		}, "", ""},
		{"basic with matching client_id in body", url.Values{
			"grant_type": {"client_credentials"}, "client_id": {testClient},
		}, testClient, testSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := iss.Issued()
			r := postToken(t, iss, tc.form, tc.user, tc.pass)
			if r.status != http.StatusOK {
				t.Fatalf("status = %d; want 200 (body %s)", r.status, r.body)
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q; want no-store", got)
			}
			if got := r.header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
				t.Errorf("Content-Type = %q; want application/json", got)
			}
			if r.json["token_type"] != "Bearer" || r.json["expires_in"] != float64(3600) {
				t.Errorf("token_type, expires_in = %v, %v; want Bearer, 3600", r.json["token_type"], r.json["expires_in"])
			}
			if _, ok := r.json["scope"]; !ok {
				t.Errorf("response has no scope field: %s", r.body)
			}
			tok, _ := r.json["access_token"].(string)
			c, err := v.Verify(t.Context(), tok)
			if err != nil {
				t.Fatalf("Verify(issued token) = %v", err)
			}
			if c.ClientID != testClient || c.Subject != testClient {
				t.Errorf("client_id, sub = %q, %q; want %q", c.ClientID, c.Subject, testClient)
			}
			if got := iss.Issued() - before; got != 1 {
				t.Errorf("Issued() grew by %d; want 1", got)
			}
		})
	}
}

func TestTokenEndpointRefusals(t *testing.T) {
	const wrongSecret = "wrong-secret-value"
	clock := newFakeClock()
	iss := newTestIssuer(t, clock, func(o *ServerOptions) { o.Scopes = []string{"webhooks:write"} })
	cc := url.Values{"grant_type": {"client_credentials"}}
	post := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}

	for _, tc := range []struct {
		name       string
		form       url.Values
		user, pass string
		status     int
		code       string
		challenge  bool
	}{
		{"wrong secret in Basic header", cc, testClient, wrongSecret, 401, "invalid_client", true},
		{"wrong secret in body", post("grant_type", "client_credentials", "client_id", testClient, "client_secret", wrongSecret), "", "", 401, "invalid_client", false},
		{"unknown client in Basic header", cc, "nobody", wrongSecret, 401, "invalid_client", true},
		{"unknown client in body", post("grant_type", "client_credentials", "client_id", "nobody", "client_secret", wrongSecret), "", "", 401, "invalid_client", false},
		{"another client's secret", cc, testClient, "other-secret", 401, "invalid_client", true},
		{"no client authentication", cc, "", "", 401, "invalid_client", true},
		{"secret without client_id", post("grant_type", "client_credentials", "client_secret", testSecret), "", "", 401, "invalid_client", false},
		{"both Basic and body secret", post("grant_type", "client_credentials", "client_id", testClient, "client_secret", testSecret), testClient, testSecret, 400, "invalid_request", false},
		{"body client_id differs from Basic", post("grant_type", "client_credentials", "client_id", "other"), testClient, testSecret, 400, "invalid_request", false},
		{"password grant", post("grant_type", "password", "username", "u", "password", "p"), testClient, testSecret, 400, "unsupported_grant_type", false},
		{"missing grant_type", url.Values{}, testClient, testSecret, 400, "invalid_request", false},
		{"repeated grant_type", post("grant_type", "client_credentials", "grant_type", "client_credentials"), testClient, testSecret, 400, "invalid_request", false},
		{"scope not allowed", post("grant_type", "client_credentials", "scope", "admin"), testClient, testSecret, 400, "invalid_scope", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := iss.Issued()
			r := postToken(t, iss, tc.form, tc.user, tc.pass)
			if r.status != tc.status || r.json["error"] != tc.code {
				t.Fatalf("status, error = %d, %v; want %d, %s (body %s)", r.status, r.json["error"], tc.status, tc.code, r.body)
			}
			if got := r.header.Get("WWW-Authenticate"); (got != "") != tc.challenge || (tc.challenge && !strings.HasPrefix(got, "Basic realm=")) {
				t.Errorf("WWW-Authenticate = %q; want challenge %v", got, tc.challenge)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q; want no-store on errors too", r.header.Get("Cache-Control"))
			}
			for _, s := range []string{wrongSecret, testSecret, url.QueryEscape(testSecret), "other-secret"} {
				if strings.Contains(r.body, s) {
					t.Errorf("error body echoes a secret: %s", r.body)
				}
			}
			if iss.Issued() != before {
				t.Errorf("Issued() changed on a refused request")
			}
		})
	}
}

func TestTokenEndpointRequestShape(t *testing.T) {
	iss := newTestIssuer(t, newFakeClock(), nil)

	t.Run("GET is 405", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, iss.TokenURL()+"?grant_type=client_credentials", nil)
		req.SetBasicAuth(testClient, testSecret)
		r := do(t, iss.Client(), req)
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != http.MethodPost || r.json["error"] != "invalid_request" {
			t.Errorf("GET /token = %d Allow %q error %v; want 405 Allow POST invalid_request", r.status, r.header.Get("Allow"), r.json["error"])
		}
	})
	t.Run("credentials in the query string are ignored", func(t *testing.T) {
		q := url.Values{"client_id": {testClient}, "client_secret": {testSecret}}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, iss.TokenURL()+"?"+q.Encode(), strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r := do(t, iss.Client(), req); r.status != http.StatusUnauthorized {
			t.Errorf("query credentials: status %d; want 401", r.status)
		}
	})
	t.Run("JSON body is refused", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, iss.TokenURL(), strings.NewReader(`{"grant_type":"client_credentials"}`))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(testClient, testSecret)
		if r := do(t, iss.Client(), req); r.status != http.StatusBadRequest || r.json["error"] != "invalid_request" {
			t.Errorf("JSON body: %d %v; want 400 invalid_request", r.status, r.json["error"])
		}
	})
	t.Run("oversized body is refused", func(t *testing.T) {
		body := "grant_type=client_credentials&pad=" + strings.Repeat("x", maxTokenRequestBytes)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, iss.TokenURL(), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(testClient, testSecret)
		if r := do(t, iss.Client(), req); r.status != http.StatusBadRequest {
			t.Errorf("oversized body: status %d; want 400", r.status)
		}
	})
	t.Run("unescaped Basic credentials as curl -u sends them", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, iss.TokenURL(), strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(testClient, testSecret) // '+' would decode to ' ' if taken as escaped
		if r := do(t, iss.Client(), req); r.status != http.StatusOK {
			t.Errorf("raw Basic: status %d; want 200 (%s)", r.status, r.body)
		}
	})
}

func TestScopeGrant(t *testing.T) {
	iss := newTestIssuer(t, newFakeClock(), func(o *ServerOptions) { o.Scopes = []string{"a", "b"} })
	for _, tc := range []struct{ requested, granted string }{
		{"", "a b"},      // none requested: every allowed scope
		{"b", "b"},       // a subset is granted as asked
		{"b a b", "b a"}, // duplicates collapse
	} {
		form := url.Values{"grant_type": {"client_credentials"}}
		if tc.requested != "" {
			form.Set("scope", tc.requested)
		}
		r := postToken(t, iss, form, testClient, testSecret)
		if r.status != 200 || r.json["scope"] != tc.granted {
			t.Errorf("scope %q: status %d scope %v; want 200 %q", tc.requested, r.status, r.json["scope"], tc.granted)
		}
	}
}

// TestClientCredentialsLibrary shows a stock OAuth2 client, as a receiver's
// sender would use, obtains tokens with each client-authentication style.
func TestClientCredentialsLibrary(t *testing.T) {
	clock := newFakeClock()
	iss := newTestIssuer(t, clock, nil)
	v := newTestVerifier(iss, clock, nil)
	for _, tc := range []struct {
		name  string
		style oauth2.AuthStyle
	}{
		{"header", oauth2.AuthStyleInHeader},
		{"params", oauth2.AuthStyleInParams},
		{"autodetect", oauth2.AuthStyleAutoDetect},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := clientcredentials.Config{
				ClientID: testClient, ClientSecret: testSecret, TokenURL: iss.TokenURL(),
				AuthStyle: tc.style, Scopes: []string{"webhooks"},
			}
			ctx := context.WithValue(t.Context(), oauth2.HTTPClient, iss.Client())
			before := iss.Issued()
			tok, err := cfg.Token(ctx)
			if err != nil {
				t.Fatalf("Token() = %v", err)
			}
			if tok.TokenType != "Bearer" || tok.Expiry.IsZero() {
				t.Errorf("token type %q expiry %v; want Bearer with an expiry", tok.TokenType, tok.Expiry)
			}
			c, err := v.Verify(t.Context(), tok.AccessToken)
			if err != nil {
				t.Fatalf("Verify = %v", err)
			}
			if c.Scope != "webhooks" {
				t.Errorf("scope = %q; want webhooks", c.Scope)
			}
			if got := iss.Issued() - before; got != 1 {
				t.Errorf("Issued() grew by %d; want 1", got)
			}
		})
	}

	t.Run("wrong secret surfaces the OAuth2 error", func(t *testing.T) {
		cfg := clientcredentials.Config{ClientID: testClient, ClientSecret: "nope", TokenURL: iss.TokenURL(), AuthStyle: oauth2.AuthStyleInHeader}
		ctx := context.WithValue(t.Context(), oauth2.HTTPClient, iss.Client())
		_, err := cfg.Token(ctx)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != 401 {
			t.Fatalf("Token() with wrong secret = %v; want RetrieveError invalid_client 401", err)
		}
	})

	t.Run("refresh after expiry fetches a new token", func(t *testing.T) {
		cfg := clientcredentials.Config{ClientID: testClient, ClientSecret: testSecret, TokenURL: iss.TokenURL()}
		ctx := context.WithValue(t.Context(), oauth2.HTTPClient, iss.Client())
		// oauth2 judges expiry by the wall clock, so the issuer must hand out
		// a token that is already inside the library's expiry delta.
		short := newTestIssuer(t, clock, func(o *ServerOptions) { o.TTL = time.Second })
		cfg.TokenURL = short.TokenURL()
		src := cfg.TokenSource(ctx)
		for range 2 {
			if _, err := src.Token(); err != nil {
				t.Fatalf("Token() = %v", err)
			}
		}
		if got := short.Issued(); got != 2 {
			t.Errorf("Issued() = %d after two Token() calls on a 1 s token; want 2 (refreshed)", got)
		}
	})
}
