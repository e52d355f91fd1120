package oauth

import (
	"context"
	"errors"
	"github.com/hookproof/hookproof/internal/fakeclock"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestVerifierRefusesEveryBadKind(t *testing.T) {
	clock := newFakeClock()
	iss := newTestIssuer(t, clock, nil)
	v := newTestVerifier(iss, clock, nil)

	good, err := iss.Mint(TokenValid, testClient)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), good); err != nil {
		t.Fatalf("Verify(valid) = %v", err)
	}
	seen := map[TokenKind]bool{TokenValid: true}
	for _, k := range TokenKinds() {
		t.Run(string(k.Kind), func(t *testing.T) {
			if seen[k.Kind] {
				t.Fatalf("TokenKinds lists %s twice or lists TokenValid", k.Kind)
			}
			seen[k.Kind] = true
			if k.Description == "" || k.Want == nil {
				t.Errorf("TokenKinds entry %s lacks a description or sentinel", k.Kind)
			}
			tok, err := iss.Mint(k.Kind, testClient)
			if err != nil {
				t.Fatalf("Mint(%s) = %v", k.Kind, err)
			}
			_, err = v.Verify(t.Context(), tok)
			if !errors.Is(err, k.Want) {
				t.Fatalf("Verify(%s) = %v; want %v", k.Kind, err, k.Want)
			}
			if strings.Contains(err.Error(), tok) {
				t.Errorf("error message contains the token")
			}
		})
	}
	if iss.Issued() != 0 {
		t.Errorf("Issued() = %d after Mint only; want 0", iss.Issued())
	}
}

func TestVerifierMalformed(t *testing.T) {
	clock := newFakeClock()
	iss := newTestIssuer(t, clock, nil)
	v := newTestVerifier(iss, clock, nil)
	good, _ := iss.Mint(TokenValid, testClient)
	h, p, _, _ := splitCompact(good)
	for _, tc := range []struct{ name, token string }{
		{"empty", ""},
		{"random", "d2hhdGV2ZXI"},
		{"two parts", h + "." + p},
		{"five parts (JWE shape)", "a.b.c.d.e"},
		{"bad base64 header", "!!!." + p + ".sig"},
		{"header not JSON", "bm90IGpzb24." + p + ".c2ln"},
		{"oversized", strings.Repeat("a", maxTokenBytes) + ".b.c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := v.Verify(t.Context(), tc.token); !errors.Is(err, ErrTokenMalformed) {
				t.Errorf("Verify(%s) = %v; want ErrTokenMalformed", tc.name, err)
			}
		})
	}
}

func TestVerifierClockLeeway(t *testing.T) {
	clock := newFakeClock()
	iss := newTestIssuer(t, clock, nil)
	v := newTestVerifier(iss, clock, func(o *VerifierOptions) { o.KeyCacheTTL = 24 * time.Hour })
	tok, _ := iss.Mint(TokenValid, testClient)

	clock.Advance(DefaultTTL + DefaultLeeway - time.Second)
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatalf("Verify 1 s before exp+leeway = %v; want accepted", err)
	}
	clock.Advance(time.Second)
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("Verify at exp+leeway = %v; want ErrTokenExpired", err)
	}

	// A verifier whose clock runs slightly behind the issuer's still accepts.
	behind := fakeclock.New(clock.Now().Add(-DefaultLeeway + time.Second))
	vb := newTestVerifier(iss, behind, nil)
	fresh, _ := iss.Mint(TokenValid, testClient)
	if _, err := vb.Verify(t.Context(), fresh); err != nil {
		t.Errorf("Verify with clock %v behind = %v; want accepted within leeway", DefaultLeeway-time.Second, err)
	}
}

func TestVerifierAllowedClients(t *testing.T) {
	clock := newFakeClock()
	iss := newTestIssuer(t, clock, nil)
	v := newTestVerifier(iss, clock, func(o *VerifierOptions) { o.AllowedClients = []string{testClient} })

	mine, _ := iss.Mint(TokenValid, testClient)
	if c, err := v.Verify(t.Context(), mine); err != nil || c.ClientID != testClient {
		t.Fatalf("Verify(own client's token) = %+v, %v; want accepted", c, err)
	}
	theirs, _ := iss.Mint(TokenValid, "another-client")
	if _, err := v.Verify(t.Context(), theirs); !errors.Is(err, ErrTokenClient) {
		t.Errorf("Verify(another client's token) = %v; want ErrTokenClient", err)
	}
	// Without a restriction the same token is fine: it is genuinely valid.
	open := newTestVerifier(iss, clock, nil)
	if _, err := open.Verify(t.Context(), theirs); err != nil {
		t.Errorf("unrestricted Verify(another client's token) = %v; want accepted", err)
	}
}

func TestVerifierWrongAudienceConfigured(t *testing.T) {
	clock := newFakeClock()
	iss := newTestIssuer(t, clock, nil)
	v := newTestVerifier(iss, clock, func(o *VerifierOptions) { o.Audience = "some-other-receiver" })
	tok, _ := iss.Mint(TokenValid, testClient)
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, ErrTokenAudience) {
		t.Errorf("Verify with another audience configured = %v; want ErrTokenAudience", err)
	}
}

func TestVerifierConfig(t *testing.T) {
	v := NewVerifier(VerifierOptions{})
	if !errors.Is(v.Err(), ErrVerifierConfig) {
		t.Fatalf("NewVerifier without Issuer: Err() = %v; want ErrVerifierConfig", v.Err())
	}
	if _, err := v.Verify(context.Background(), "a.b.c"); !errors.Is(err, ErrVerifierConfig) {
		t.Errorf("Verify on misconfigured verifier = %v; want ErrVerifierConfig", err)
	}
	v = NewVerifier(VerifierOptions{Issuer: "http://127.0.0.1:1/"})
	if v.Err() != nil || v.opts.JWKSURL != "http://127.0.0.1:1"+JWKSPath || v.opts.Audience != DefaultAudience {
		t.Errorf("defaults: err %v JWKSURL %q Audience %q", v.Err(), v.opts.JWKSURL, v.opts.Audience)
	}
}

// TestVerifierKeyCache shows keys are fetched once, refetched only when a
// kid is unknown and the rate limit allows, and that rotation is picked up.
func TestVerifierKeyCache(t *testing.T) {
	clock := newFakeClock()
	iss := newTestIssuer(t, clock, nil)
	v := newTestVerifier(iss, clock, nil)
	tok, _ := iss.Mint(TokenValid, testClient)

	for range 20 {
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if got := iss.JWKSRequests(); got != 1 {
		t.Fatalf("JWKS requests after 20 verifies = %d; want 1 (cached)", got)
	}

	// Forged kids: one refetch at most per interval, however many arrive.
	forged, _ := iss.Mint(TokenUnknownKid, testClient)
	clock.Advance(DefaultMinRefetchInterval)
	for range 20 {
		if _, err := v.Verify(t.Context(), forged); !errors.Is(err, ErrTokenSignature) {
			t.Fatalf("Verify(unknown kid) = %v; want ErrTokenSignature", err)
		}
	}
	if got := iss.JWKSRequests(); got != 2 {
		t.Fatalf("JWKS requests after 20 unknown-kid tokens = %d; want 2 (one refetch)", got)
	}

	// Rotation: the new key's tokens verify once the rate limit allows a
	// refetch, and tokens signed before the rotation still verify.
	if _, err := iss.RotateKey(key(t, 2)); err != nil {
		t.Fatal(err)
	}
	rotated, _ := iss.Mint(TokenValid, testClient)
	if _, err := v.Verify(t.Context(), rotated); !errors.Is(err, ErrTokenSignature) {
		t.Fatalf("Verify(new kid) inside the refetch interval = %v; want ErrTokenSignature", err)
	}
	clock.Advance(DefaultMinRefetchInterval)
	if _, err := v.Verify(t.Context(), rotated); err != nil {
		t.Fatalf("Verify(new kid) after the interval = %v; want accepted", err)
	}
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Errorf("Verify(token from before rotation) = %v; want accepted", err)
	}
	if got := iss.JWKSRequests(); got != 3 {
		t.Errorf("JWKS requests = %d; want 3", got)
	}

	// Stale keys are refetched after the cache TTL.
	clock.Advance(DefaultKeyCacheTTL)
	fresh, _ := iss.Mint(TokenValid, testClient)
	if _, err := v.Verify(t.Context(), fresh); err != nil {
		t.Fatal(err)
	}
	if got := iss.JWKSRequests(); got != 4 {
		t.Errorf("JWKS requests after the cache TTL = %d; want 4", got)
	}
}

// TestVerifierConcurrentColdCache: many first requests at once share one
// fetch, and the verifier is race-free.
func TestVerifierConcurrentColdCache(t *testing.T) {
	clock := newFakeClock()
	iss := newTestIssuer(t, clock, nil)
	v := newTestVerifier(iss, clock, nil)
	good, _ := iss.Mint(TokenValid, testClient)
	bad, _ := iss.Mint(TokenUnknownKid, testClient)

	const n = 32
	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tok, want := good, error(nil)
			if i%2 == 1 {
				tok, want = bad, ErrTokenSignature
			}
			if _, err := v.Verify(context.Background(), tok); !errors.Is(err, want) {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Verify: %v", err)
	}
	if got := iss.JWKSRequests(); got != 1 {
		t.Errorf("JWKS requests from %d concurrent verifies = %d; want 1", n, got)
	}
}

func TestVerifierJWKSUnavailable(t *testing.T) {
	clock := newFakeClock()
	iss := newTestIssuer(t, clock, nil)
	tok, _ := iss.Mint(TokenValid, testClient)

	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"server error", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }},
		{"not JSON", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }},
		{"no RSA keys", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"x"}]}`))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			t.Cleanup(srv.Close)
			v := newTestVerifier(iss, clock, func(o *VerifierOptions) {
				o.JWKSURL = srv.URL
				o.Client = srv.Client()
			})
			if _, err := v.Verify(t.Context(), tok); !errors.Is(err, ErrJWKSUnavailable) {
				t.Errorf("Verify with JWKS %s = %v; want ErrJWKSUnavailable", tc.name, err)
			}
			// Still unavailable, not a token problem, while rate-limited.
			if _, err := v.Verify(t.Context(), tok); !errors.Is(err, ErrJWKSUnavailable) {
				t.Errorf("second Verify = %v; want ErrJWKSUnavailable", err)
			}
		})
	}

	t.Run("cancelled context does not poison the cache", func(t *testing.T) {
		v := newTestVerifier(iss, clock, nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrJWKSUnavailable) || !errors.Is(err, context.Canceled) {
			t.Fatalf("Verify(cancelled) = %v; want ErrJWKSUnavailable wrapping context.Canceled", err)
		}
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Errorf("Verify after a cancelled attempt = %v; want accepted without waiting out the rate limit", err)
		}
	})
}

func TestJWKSServesPublicKeysOnly(t *testing.T) {
	iss := newTestIssuer(t, newFakeClock(), nil)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, iss.JWKSURL(), nil)
	r := do(t, iss.Client(), req)
	if r.status != http.StatusOK {
		t.Fatalf("GET JWKS = %d", r.status)
	}
	keys, _ := r.json["keys"].([]any)
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys; want 1: %s", len(keys), r.body)
	}
	k := keys[0].(map[string]any)
	if k["kty"] != "RSA" || k["alg"] != "RS256" || k["use"] != "sig" || k["kid"] != iss.KeyID() || k["kid"] == "" {
		t.Errorf("JWKS key = %v; want kty RSA, alg RS256, use sig, kid %q", k, iss.KeyID())
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		if _, ok := k[private]; ok {
			t.Errorf("JWKS key has private member %q", private)
		}
	}
	post, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, iss.JWKSURL(), nil)
	if r := do(t, iss.Client(), post); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST JWKS = %d; want 405", r.status)
	}
}
