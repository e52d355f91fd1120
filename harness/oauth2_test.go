package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/hookproof/hookproof/internal/fakeclock"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"golang.org/x/oauth2"
)

const (
	testTokenURL = "https://issuer.test/oauth/token"
	testClientID = "hookproof-client"
	// testSecret has characters that form encoding escapes, so the
	// scrubber is exercised on every form the secret can take.
	testSecret = "s3cr3t/VALUE+with=chars"
)

// fakeClock is a settable clock the test moves by hand.
type fakeClock = fakeclock.Clock

func newFakeClock() *fakeClock { return fakeclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) }

func testOAuth2Config(style string) AuthConfig {
	return AuthConfig{Type: AuthOAuth2, OAuth2: OAuth2Config{
		TokenURL: testTokenURL, ClientID: testClientID, ClientSecret: Secret(testSecret),
		Scopes: []string{"webhooks:write", "events"}, AuthStyle: style,
	}}
}

// newTestOAuth2 builds the authorizer over the project's client stack with
// httpmock at the bottom, reading the fake clock.
func newTestOAuth2(t *testing.T, cfg AuthConfig, mock *httpmock.MockTransport, clock *fakeClock) *OAuth2Authorizer {
	t.Helper()
	az, err := newAuthorizer(cfg, newClient(mock), clock.Now)
	if err != nil {
		t.Fatalf("newAuthorizer: %v", err)
	}
	a, ok := az.(*OAuth2Authorizer)
	if !ok {
		t.Fatalf("newAuthorizer(oauth2) = %T; want *OAuth2Authorizer", az)
	}
	return a
}

// tokenResponder issues tok-1, tok-2, ... with the given expires_in (0: none).
func tokenResponder(expiresIn int) httpmock.Responder {
	var n atomic.Int64
	return func(*http.Request) (*http.Response, error) {
		body := map[string]any{"access_token": fmt.Sprintf("tok-%d", n.Add(1)), "token_type": "Bearer"}
		if expiresIn > 0 {
			body["expires_in"] = expiresIn
		}
		return httpmock.NewJsonResponse(http.StatusOK, body)
	}
}

func jsonResponder(status int, body string) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		r := httpmock.NewStringResponse(status, body)
		r.Header.Set("Content-Type", "application/json")
		return r, nil
	}
}

// assertNoSecret fails if s holds the client secret in any encoding.
func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(testClientID) + ":" + url.QueryEscape(testSecret)))
	for _, form := range []string{testSecret, url.QueryEscape(testSecret), basic} {
		if strings.Contains(s, form) {
			t.Errorf("%s leaks the client secret (%q): %s", what, form, s)
		}
	}
}

func TestOAuth2TokenEndpointErrors(t *testing.T) {
	t.Parallel()
	long := `{"error":"server_error","error_description":"` + strings.Repeat("x", 4000) + `"}`
	for _, tc := range []struct {
		name      string
		responder httpmock.Responder
		status    int
		code      string
		contains  []string
	}{
		{
			// The endpoint echoes the secret back; the error must not.
			name:      "401 with an OAuth2 error body",
			responder: jsonResponder(401, `{"error":"invalid_client","error_description":"secret `+testSecret+` rejected"}`),
			status:    401, code: "invalid_client",
			contains: []string{"oauth2 token endpoint " + testTokenURL + " answered 401: ", `{"error":"invalid_client"`, Redacted},
		},
		{
			name:      "malformed JSON",
			responder: jsonResponder(200, `{"access_token": "tok`),
			status:    200,
			contains:  []string{"answered 200: cannot parse json", `{"access_token": "tok`},
		},
		{
			name:      "missing access_token",
			responder: jsonResponder(200, `{"token_type":"Bearer","expires_in":3600}`),
			status:    200,
			contains:  []string{"answered 200: server response missing access_token: ", `"token_type":"Bearer"`},
		},
		{
			name:      "error code in a 200",
			responder: jsonResponder(200, `{"error":"invalid_scope"}`),
			status:    200, code: "invalid_scope",
			contains: []string{"answered 200: ", `{"error":"invalid_scope"}`},
		},
		{
			name:      "long body is cut",
			responder: jsonResponder(500, long),
			status:    500, code: "server_error",
			contains: []string{"answered 500: ", "xxx..."},
		},
		{
			name:      "endpoint unreachable",
			responder: httpmock.NewErrorResponder(errors.New("connect: connection refused")),
			contains:  []string{"oauth2 token endpoint " + testTokenURL + ": ", "connection refused"},
		},
		{
			name:      "empty 502",
			responder: httpmock.NewStringResponder(502, ""),
			status:    502,
			contains:  []string{"answered 502 with an empty body"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mock := httpmock.NewMockTransport()
			mock.RegisterResponder(http.MethodPost, testTokenURL, tc.responder)
			a := newTestOAuth2(t, testOAuth2Config(OAuth2StyleHeader), mock, newFakeClock())

			req, _ := http.NewRequest(http.MethodPost, "https://receiver.test/hook", nil)
			err := a.Authorize(context.Background(), req)
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("Authorize() = %v; want a *TokenError", err)
			}
			if te.Status != tc.status || te.Code != tc.code {
				t.Errorf("TokenError status, code = %d, %q; want %d, %q", te.Status, te.Code, tc.status, tc.code)
			}
			if len(te.Body) > MaxTokenErrorBody {
				t.Errorf("len(TokenError.Body) = %d; want ≤ %d", len(te.Body), MaxTokenErrorBody)
			}
			msg := err.Error()
			for _, want := range tc.contains {
				if !strings.Contains(msg, want) {
					t.Errorf("Authorize() error = %q; want it to contain %q", msg, want)
				}
			}
			assertNoSecret(t, "error", msg)
			assertNoSecret(t, "%+v of error", fmt.Sprintf("%+v %#v", err, err))
			for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
				assertNoSecret(t, "wrapped error", u.Error())
			}
			if got := req.Header.Get("Authorization"); got != "" {
				t.Errorf("Authorization after a failed fetch = %q; want none", got)
			}
		})
	}
}

func TestOAuth2ErrorHidesURLPassword(t *testing.T) {
	t.Parallel()
	mock := httpmock.NewMockTransport()
	mock.RegisterNoResponder(jsonResponder(401, `{"error":"invalid_client"}`))
	cfg := testOAuth2Config(OAuth2StyleBody)
	cfg.OAuth2.TokenURL = "https://user:urlpassword@issuer.test/token"
	a := newTestOAuth2(t, cfg, mock, newFakeClock())
	_, err := a.Token(context.Background())
	if err == nil || strings.Contains(err.Error(), "urlpassword") {
		t.Fatalf("Token() error = %v; want an error without the URL's password", err)
	}
	if fmt.Sprint(a) != "OAuth2Authorizer(https://user:[REDACTED]@issuer.test/token)" {
		t.Errorf("fmt.Sprint(authorizer) = %q; want the redacted URL only", fmt.Sprint(a))
	}
}

func TestOAuth2ClientAuthStyles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		style      string
		wantHeader bool
	}{
		{OAuth2StyleHeader, true},
		{OAuth2StyleBody, false},
	} {
		t.Run(tc.style, func(t *testing.T) {
			t.Parallel()
			mock := httpmock.NewMockTransport()
			var seen []string
			var mu sync.Mutex
			mock.RegisterResponder(http.MethodPost, testTokenURL, func(r *http.Request) (*http.Response, error) {
				if err := r.ParseForm(); err != nil {
					return nil, err
				}
				user, pass, hasBasic := r.BasicAuth()
				mu.Lock()
				seen = append(seen, fmt.Sprintf("basic=%v", hasBasic))
				mu.Unlock()
				switch {
				case r.PostForm.Get("grant_type") != "client_credentials":
					return httpmock.NewStringResponse(400, `{"error":"unsupported_grant_type"}`), nil
				case r.PostForm.Get("scope") != "webhooks:write events":
					return httpmock.NewStringResponse(400, `{"error":"invalid_scope"}`), nil
				case hasBasic != tc.wantHeader:
					return httpmock.NewStringResponse(401, `{"error":"invalid_client","error_description":"wrong client auth style"}`), nil
				case hasBasic && (user != testClientID || pass != url.QueryEscape(testSecret) || r.PostForm.Has("client_secret")):
					return httpmock.NewStringResponse(401, `{"error":"invalid_client"}`), nil
				case !hasBasic && (r.PostForm.Get("client_id") != testClientID || r.PostForm.Get("client_secret") != testSecret):
					return httpmock.NewStringResponse(401, `{"error":"invalid_client"}`), nil
				}
				return tokenResponder(3600)(r)
			})
			a := newTestOAuth2(t, testOAuth2Config(tc.style), mock, newFakeClock())
			tok, err := a.Token(context.Background())
			if err != nil || tok != "tok-1" {
				t.Fatalf("Token() = %q, %v; want tok-1", tok, err)
			}
			if a.Fetches() != 1 {
				t.Errorf("Fetches() = %d; want 1 (requests seen: %v)", a.Fetches(), seen)
			}
		})
	}
}

func TestOAuth2AutoStyleFallsBackToBodyAndRemembers(t *testing.T) {
	t.Parallel()
	mock := httpmock.NewMockTransport()
	var n atomic.Int64
	mock.RegisterResponder(http.MethodPost, testTokenURL, func(r *http.Request) (*http.Response, error) {
		if _, _, ok := r.BasicAuth(); ok {
			return httpmock.NewStringResponse(401, `{"error":"invalid_client"}`), nil
		}
		if err := r.ParseForm(); err != nil || r.PostForm.Get("client_secret") != testSecret {
			return httpmock.NewStringResponse(401, `{"error":"invalid_client"}`), nil
		}
		return httpmock.NewJsonResponse(200, map[string]any{"access_token": fmt.Sprintf("tok-%d", n.Add(1)), "expires_in": 3600})
	})
	for _, style := range []string{"", OAuth2StyleAuto} {
		n.Store(0)
		a := newTestOAuth2(t, testOAuth2Config(style), mock, newFakeClock())
		if tok, err := a.Token(context.Background()); err != nil || tok != "tok-1" {
			t.Fatalf("style %q: Token() = %q, %v; want tok-1", style, tok, err)
		}
		if a.Fetches() != 2 {
			t.Errorf("style %q: Fetches() after the probe = %d; want 2 (header refused, then body)", style, a.Fetches())
		}
		a.Invalidate()
		if tok, err := a.Token(context.Background()); err != nil || tok != "tok-2" {
			t.Fatalf("style %q: Token() after Invalidate = %q, %v; want tok-2", style, tok, err)
		}
		if a.Fetches() != 3 {
			t.Errorf("style %q: Fetches() = %d; want 3 (the body style is remembered)", style, a.Fetches())
		}
	}
}

func TestOAuth2CachesAndRefreshesBeforeExpiry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		expiresIn int
		// fresh is the last moment the first token is still used; the
		// next second it is refetched.
		fresh time.Duration
	}{
		// 1 h token: refreshed 10 s (MaxRefreshMargin) before expiry.
		{"one hour", 3600, 3589 * time.Second},
		// 20 s token: 10 % of its lifetime is 2 s, less than 10 s.
		{"twenty seconds", 20, 17 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mock := httpmock.NewMockTransport()
			mock.RegisterResponder(http.MethodPost, testTokenURL, tokenResponder(tc.expiresIn))
			clock := newFakeClock()
			a := newTestOAuth2(t, testOAuth2Config(OAuth2StyleHeader), mock, clock)
			ctx := context.Background()

			if tok, _ := a.Token(ctx); tok != "tok-1" {
				t.Fatalf("first Token() = %q; want tok-1", tok)
			}
			clock.Advance(tc.fresh)
			if tok, _ := a.Token(ctx); tok != "tok-1" || a.Fetches() != 1 {
				t.Fatalf("Token() at +%s = %q after %d fetches; want the cached tok-1 after 1", tc.fresh, tok, a.Fetches())
			}
			clock.Advance(time.Second)
			if tok, _ := a.Token(ctx); tok != "tok-2" || a.Fetches() != 2 {
				t.Fatalf("Token() at +%s = %q after %d fetches; want a refreshed tok-2 after 2", tc.fresh+time.Second, tok, a.Fetches())
			}
		})
	}
}

func TestOAuth2WithoutExpiryIsReusedUntilInvalidated(t *testing.T) {
	t.Parallel()
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder(http.MethodPost, testTokenURL, tokenResponder(0))
	clock := newFakeClock()
	a := newTestOAuth2(t, testOAuth2Config(OAuth2StyleHeader), mock, clock)
	ctx := context.Background()
	req, _ := http.NewRequest(http.MethodPost, "https://receiver.test/hook", nil)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Static", "v")

	for range 3 {
		if err := a.Authorize(ctx, req); err != nil {
			t.Fatal(err)
		}
		clock.Advance(1000 * time.Hour)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer tok-1" || a.Fetches() != 1 {
		t.Fatalf("Authorization = %q after %d fetches; want Bearer tok-1 after 1", got, a.Fetches())
	}
	if len(req.Header) != 3 || req.Header.Get("X-Static") != "v" {
		t.Errorf("headers after Authorize = %v; want only Authorization added", req.Header)
	}

	a.Invalidate()
	if err := a.Authorize(ctx, req); err != nil {
		t.Fatal(err)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer tok-2" || a.Fetches() != 2 {
		t.Fatalf("Authorization after Invalidate = %q after %d fetches; want Bearer tok-2 after 2", got, a.Fetches())
	}
}

// blockingIssuer answers token requests only when released, and reports
// when one has started.
type blockingIssuer struct {
	started chan struct{}
	release chan struct{}
	n       atomic.Int64
}

func newBlockingIssuer() *blockingIssuer {
	return &blockingIssuer{started: make(chan struct{}, 16), release: make(chan struct{})}
}

func (b *blockingIssuer) respond(r *http.Request) (*http.Response, error) {
	b.started <- struct{}{}
	select {
	case <-b.release:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return httpmock.NewJsonResponse(200, map[string]any{"access_token": fmt.Sprintf("tok-%d", b.n.Add(1)), "expires_in": 60})
}

func TestOAuth2ConcurrentRefreshFetchesOnce(t *testing.T) {
	t.Parallel()
	const callers = 16
	issuer := newBlockingIssuer()
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder(http.MethodPost, testTokenURL, issuer.respond)
	clock := newFakeClock()
	a := newTestOAuth2(t, testOAuth2Config(OAuth2StyleHeader), mock, clock)
	joined := make(chan struct{}, callers)
	a.joined = func() { joined <- struct{}{} }

	// Obtain tok-1, then move past its refresh time so every caller below
	// needs a new token at once.
	go func() { <-issuer.started; issuer.release <- struct{}{} }()
	if tok, err := a.Token(context.Background()); err != nil || tok != "tok-1" {
		t.Fatalf("Token() = %q, %v; want tok-1", tok, err)
	}
	clock.Advance(time.Minute)

	var wg sync.WaitGroup
	got := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, "https://receiver.test/hook", nil)
			errs[i] = a.Authorize(context.Background(), req)
			got[i] = req.Header.Get("Authorization")
		})
	}
	<-issuer.started // one caller fetches...
	for waiting := 0; waiting < callers-1; {
		select {
		case <-joined: // ...and every other one waits for it
			waiting++
		case <-issuer.started:
			close(issuer.release)
			wg.Wait()
			t.Fatalf("a second token fetch started while one was in flight (%d callers waiting)", waiting)
		}
	}
	close(issuer.release)
	wg.Wait()

	for i := range callers {
		if errs[i] != nil || got[i] != "Bearer tok-2" {
			t.Errorf("caller %d: Authorization = %q, %v; want Bearer tok-2", i, got[i], errs[i])
		}
	}
	if a.Fetches() != 2 {
		t.Errorf("Fetches() = %d; want 2 (one initial, one refresh for %d callers)", a.Fetches(), callers)
	}
}

func TestOAuth2WaiterOutlivesCancelledFetcher(t *testing.T) {
	t.Parallel()
	issuer := newBlockingIssuer()
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder(http.MethodPost, testTokenURL, issuer.respond)
	a := newTestOAuth2(t, testOAuth2Config(OAuth2StyleHeader), mock, newFakeClock())
	joined := make(chan struct{}, 1)
	a.joined = func() { joined <- struct{}{} }

	fetcherCtx, cancel := context.WithCancel(context.Background())
	fetcherErr := make(chan error, 1)
	go func() { _, err := a.Token(fetcherCtx); fetcherErr <- err }()
	<-issuer.started

	waiterTok := make(chan string, 1)
	waiterErr := make(chan error, 1)
	go func() {
		tok, err := a.Token(context.Background())
		waiterTok <- tok
		waiterErr <- err
	}()
	<-joined
	cancel()
	if err := <-fetcherErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled fetcher's Token() = %v; want context.Canceled", err)
	}
	// The waiter must not inherit the fetcher's cancellation: it fetches
	// for itself.
	<-issuer.started
	close(issuer.release)
	if tok, err := <-waiterTok, <-waiterErr; err != nil || tok != "tok-1" {
		t.Fatalf("waiter's Token() = %q, %v; want tok-1 from its own fetch", tok, err)
	}
}

func TestOAuth2WaiterHonoursItsOwnContext(t *testing.T) {
	t.Parallel()
	issuer := newBlockingIssuer()
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder(http.MethodPost, testTokenURL, issuer.respond)
	a := newTestOAuth2(t, testOAuth2Config(OAuth2StyleHeader), mock, newFakeClock())
	joined := make(chan struct{}, 1)
	a.joined = func() { joined <- struct{}{} }

	fetched := make(chan string, 1)
	go func() { tok, _ := a.Token(context.Background()); fetched <- tok }()
	<-issuer.started

	ctx, cancel := context.WithCancel(context.Background())
	waiterErr := make(chan error, 1)
	go func() { _, err := a.Token(ctx); waiterErr <- err }()
	<-joined
	cancel()
	if err := <-waiterErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("waiter's Token() after cancel = %v; want context.Canceled", err)
	}
	close(issuer.release)
	if tok := <-fetched; tok != "tok-1" {
		t.Fatalf("fetcher's Token() = %q; want tok-1", tok)
	}
}

func TestTokenLifetimeFromFormResponse(t *testing.T) {
	t.Parallel()
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder(http.MethodPost, testTokenURL, func(*http.Request) (*http.Response, error) {
		r := httpmock.NewStringResponse(200, "access_token=form-tok&token_type=bearer&expires_in=100")
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r, nil
	})
	clock := newFakeClock()
	a := newTestOAuth2(t, testOAuth2Config(OAuth2StyleHeader), mock, clock)
	if tok, err := a.Token(context.Background()); err != nil || tok != "form-tok" {
		t.Fatalf("Token() = %q, %v; want form-tok", tok, err)
	}
	clock.Advance(90 * time.Second) // 100 s lifetime, 10 s margin
	if _, err := a.Token(context.Background()); err != nil || a.Fetches() != 2 {
		t.Fatalf("Token() at the refresh time: %v after %d fetches; want a refetch (2)", err, a.Fetches())
	}
}

// Compile-time check that x/oauth2's error type is what tokenError maps.
var _ error = (*oauth2.RetrieveError)(nil)

// TestOAuth2TokenURLUsesRunTLS fetches a token from a real loopback TLS
// issuer: through the run's client the custom CA is trusted, while a client
// without it fails with a TokenError naming the endpoint.
func TestOAuth2TokenURLUsesRunTLS(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	issuer := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, secret, ok := r.BasicAuth(); !ok || id != testClientID || secret != url.QueryEscape(testSecret) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"tls-tok","token_type":"Bearer","expires_in":3600}`)
	}))
	issuer.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}}
	issuer.Config.ErrorLog = log.New(io.Discard, "", 0)
	issuer.StartTLS()
	t.Cleanup(issuer.Close)
	cfg := testOAuth2Config(OAuth2StyleHeader)
	cfg.OAuth2.TokenURL = issuer.URL + "/token"

	client, err := NewClient(testConfig(TLSConfig{CACert: pki.caFile}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.CloseIdleConnections)
	a, err := NewAuthorizer(cfg, client)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if tok, err := a.(*OAuth2Authorizer).Token(ctx); err != nil || tok != "tls-tok" {
		t.Fatalf("Token() through the run's client = %q, %v; want tls-tok", tok, err)
	}

	untrusting, err := NewClient(testConfig(TLSConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	a, _ = NewAuthorizer(cfg, untrusting)
	_, err = a.(*OAuth2Authorizer).Token(ctx)
	var te *TokenError
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &te) || te.Status != 0 || !errors.As(err, &ua) || !strings.Contains(err.Error(), "oauth2 token endpoint "+cfg.OAuth2.TokenURL) {
		t.Fatalf("Token() without the CA = %v; want a TokenError from the TLS verification", err)
	}
	assertNoSecret(t, "error", err.Error())
}
