package receiver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// testTimeout bounds every request a test makes.
const testTimeout = 10 * time.Second

// goodToken is what the stand-in OAuth2 verifier accepts.
const goodToken = "header.payload.signature"

// standInVerifier accepts goodToken only, like a JWKS verifier would accept
// only tokens its issuer signed.
var standInVerifier = TokenVerifierFunc(func(_ context.Context, token string) error {
	if token != goodToken {
		return errors.New("signature does not verify")
	}
	return nil
})

func authOptions(typ harness.AuthType) Options {
	o := Options{Auth: harness.AuthConfig{Type: typ}}
	switch typ {
	case harness.AuthBasic:
		o.Auth.BasicUser, o.Auth.BasicPassword = "riskos", "s3cr:et£"
	case harness.AuthBearer:
		o.Auth.BearerToken = "6f1c2f1e-4c1b-4a7e-9d8e-1f2a3b4c5d6e"
	case harness.AuthOAuth2:
		o.Verifier = standInVerifier
	}
	return o
}

// goodAuth is the Authorization value that authenticates under o.
func goodAuth(o Options) string {
	switch o.Auth.Type {
	case harness.AuthBasic:
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(o.Auth.BasicUser+":"+o.Auth.BasicPassword.Reveal()))
	case harness.AuthBearer:
		return "Bearer " + o.Auth.BearerToken.Reveal()
	case harness.AuthOAuth2:
		return "Bearer " + goodToken
	}
	return ""
}

func startServer(t *testing.T, o Options) *Server {
	t.Helper()
	s, err := NewServer(o)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// testClient never follows redirects: RiskOS does not.
var testClient = &http.Client{
	Timeout:       testTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type result struct {
	status int
	header http.Header
	body   string
	took   time.Duration
}

// send POSTs body to url with auth (if not empty) and contentType, plus
// any extra header lines "Name: value".
func send(t *testing.T, url, auth, contentType string, body []byte, extra ...string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for _, h := range extra {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Add(name, strings.TrimSpace(value))
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) result {
	t.Helper()
	start := time.Now()
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return result{status: resp.StatusCode, header: resp.Header, body: string(b), took: time.Since(start)}
}

// deliver POSTs a valid event with the server's good credentials.
func deliver(t *testing.T, s *Server, body []byte) result {
	t.Helper()
	return send(t, s.WebhookURL(), goodAuth(s.Receiver().opts), "application/json", body)
}

var idSeq struct {
	sync.Mutex
	n int
}

// newID returns a fresh UUID-shaped event_id.
func newID() string {
	idSeq.Lock()
	defer idSeq.Unlock()
	idSeq.n++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", idSeq.n)
}

func event(id, typ string) []byte {
	b, _ := json.Marshal(map[string]any{
		"event_type": typ, "event_id": id, "event_at": "2025-07-17T01:20:01Z",
		"data": map[string]any{"eval_id": "11111111-2222-3333-4444-555555555555", "decision": "ACCEPT"},
	})
	return b
}

func validEvent(id string) []byte { return event(id, "evaluation_completed") }

// probeCount settles the receiver's queue, then reads the count through
// the effects endpoint over HTTP, as hookproof's probe does.
func probeCount(t *testing.T, s *Server, id string) int {
	t.Helper()
	s.Receiver().settle()
	req, _ := http.NewRequest(http.MethodGet, s.EffectsURL()+"?event_id="+id, nil)
	r := do(t, req)
	if r.status != http.StatusOK {
		t.Fatalf("GET effects?event_id=%s = %d %s; want 200", id, r.status, r.body)
	}
	var got effectsResponse
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || got.EventID != id {
		t.Fatalf("effects body %q: want {\"event_id\":%q,...} (err %v)", r.body, id, err)
	}
	return got.Count
}
