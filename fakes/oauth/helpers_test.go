package oauth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"github.com/hookproof/hookproof/internal/fakeclock"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// testKeys are generated once per test binary: RSA generation is the slow
// part of these tests, and under -race it is slower still.
var testKeys = sync.OnceValues(func() ([]*rsa.PrivateKey, error) {
	keys := make([]*rsa.PrivateKey, 3)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, rsaBits)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	return keys, nil
})

// key returns shared test key n (0: signing, 1: foreign, 2: rotation).
func key(t testing.TB, n int) *rsa.PrivateKey {
	t.Helper()
	keys, err := testKeys()
	if err != nil {
		t.Fatalf("generate test keys: %v", err)
	}
	return keys[n]
}

// fakeClock is a settable clock the test moves by hand.
type fakeClock = fakeclock.Clock

func newFakeClock() *fakeClock { return fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) }

const (
	testClient = "riskos"
	testSecret = "s3cr3t+with/odd=chars"
)

// newTestIssuer starts an issuer with one client and the shared keys on
// the given clock, closed when the test ends.
func newTestIssuer(t testing.TB, clock *fakeClock, mod func(*ServerOptions)) *Server {
	t.Helper()
	opts := ServerOptions{
		Clients:    map[string]harness.Secret{testClient: testSecret, "other": "other-secret"},
		Key:        key(t, 0),
		ForeignKey: key(t, 1),
		Now:        clock.Now,
	}
	if mod != nil {
		mod(&opts)
	}
	iss, err := NewServer(opts)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(iss.Close)
	return iss
}

// newTestVerifier returns a verifier for iss on clock, using the issuer's
// client so idle connections are closed with it.
func newTestVerifier(iss *Server, clock *fakeClock, mod func(*VerifierOptions)) *Verifier {
	opts := VerifierOptions{
		Issuer:   iss.URL,
		Audience: iss.Audience(),
		Client:   iss.Client(),
		Now:      clock.Now,
	}
	if mod != nil {
		mod(&opts)
	}
	return NewVerifier(opts)
}

// reply is a token endpoint answer, decoded loosely so tests see every field.
type reply struct {
	status int
	header http.Header
	body   string
	json   map[string]any
}

// postToken sends a token request with an optional Basic header.
func postToken(t *testing.T, iss *Server, form url.Values, basicUser, basicPass string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, iss.TokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" || basicPass != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	return do(t, iss.Client(), req)
}

func do(t *testing.T, c *http.Client, req *http.Request) reply {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
	_ = json.Unmarshal(b, &r.json)
	return r
}
