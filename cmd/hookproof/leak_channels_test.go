package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hookproof/hookproof/harness"
)

// Planted secrets: every character that changes under an encoding
// (<>&"'%+/=), non-ASCII, and an ASCII marker that survives URL, JSON and
// HTML escaping, so even a partial or re-encoded leak is found by grep.
const (
	leakUser     = "hp-user"
	leakPassword = `pw<>&"'%+/=Ünï€-PWMARK7719`
	leakToken    = `bt<>&"'%+/=Çø€-BTMARK5531`
	leakClient   = "hp-client"
	leakCSecret  = `cs<>&"'%+/=Gär€-CSMARK8812`
)

// hostileTarget is a receiver and token endpoint that try to leak whatever
// credential reaches them: deliveries are answered 307 to a URL carrying the
// credential in its path and query, or 401/200 with the Authorization
// header echoed raw or JSON-escaped in the body; the token
// endpoint issues a fresh, short-lived token per fetch (so a run refreshes
// it) or, when refuse is set, answers 400 echoing the client secret.
type hostileTarget struct {
	base   string
	refuse bool

	mu     sync.Mutex
	seen   map[string]int // requests per credential
	tokens []string
}

func newHostileTarget(t *testing.T, refuse bool) *hostileTarget {
	h := &hostileTarget{refuse: refuse}
	u, _ := serve(t, h.serveHTTP)
	h.base = strings.TrimSuffix(u, "/hook")
	return h
}

func (h *hostileTarget) issued() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.tokens...)
}

func (h *hostileTarget) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		h.token(w, r)
		return
	}
	drain(r)
	switch r.URL.Path {
	case "/effects":
		// An effects URL that echoes the credentials it was sent with.
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "no effects for you, %s", r.Header.Get("Authorization"))
		return
	}
	auth := r.Header.Get("Authorization")
	_, cred, _ := strings.Cut(auth, " ")
	h.mu.Lock()
	if h.seen == nil {
		h.seen = map[string]int{}
	}
	h.seen[cred]++
	n := h.seen[cred]
	h.mu.Unlock()
	// Per credential: the second request is redirected, the third
	// refused with the credential echoed, the others acknowledged with it
	// echoed as JSON (the preflight, and AUTH-07's first delivery, which
	// must pass for the token to be refreshed).
	switch n {
	case 2:
		w.Header().Set("Location", h.base+"/cb/"+url.PathEscape(cred)+"/x?token="+url.QueryEscape(cred)+"&t="+url.QueryEscape(cred))
		w.WriteHeader(http.StatusTemporaryRedirect)
	case 3:
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "Authorization: %s\n", auth)
	default:
		json.NewEncoder(w).Encode(map[string]string{"authorization": auth})
	}
}

func (h *hostileTarget) token(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if h.refuse {
		// As a careless endpoint does: the secret it was sent, JSON-escaped.
		secret := r.PostFormValue("client_secret")
		if _, p, ok := r.BasicAuth(); ok {
			secret, _ = url.QueryUnescape(p)
		}
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": "wrong secret " + secret})
		return
	}
	h.mu.Lock()
	tok := fmt.Sprintf(`at<>&"'%%+/=€-ATMARK%02d`, len(h.tokens))
	h.tokens = append(h.tokens, tok)
	h.mu.Unlock()
	// expires_in 1: a cached token is due for refresh within a second.
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": 1})
}

// leakForms are the ways a secret can reach output.
func leakForms(secrets ...string) []string {
	forms := secretForms(leakUser, secrets...)
	for _, s := range secrets {
		j, _ := json.Marshal(s)
		forms = append(forms, strings.Trim(string(j), `"`), url.PathEscape(s), html.EscapeString(s),
			base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(leakClient)+":"+url.QueryEscape(s))))
		// The marker survives every escaping that keeps ASCII letters.
		if i := strings.Index(s, "MARK"); i >= 0 {
			forms = append(forms, s[i-2:])
		}
	}
	return forms
}

func assertNoLeak(t *testing.T, all string, secrets ...string) {
	t.Helper()
	for _, f := range leakForms(secrets...) {
		if strings.Contains(all, f) {
			i := strings.Index(all, f)
			t.Errorf("secret form %q leaked: …%s…", f, all[max(0, i-80):min(len(all), i+len(f)+40)])
		}
	}
}

func assertReports(t *testing.T, dir string) {
	t.Helper()
	for _, f := range []string{"report.json", "junit.xml", "summary.md", "report.html"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// Secrets given through a config file, @FILE, the environment and flags,
// for basic, bearer and oauth2, never reach stdout, stderr, an error or any
// of the four reports, in any encoding, although the receiver echoes the
// credential in bodies and redirects to URLs carrying it, and the OAuth2
// token is refreshed during the run (the first token must not appear
// either).
func TestSecretsLeakThroughNoChannel(t *testing.T) {
	if testing.Short() {
		t.Skip("runs certify several times")
	}
	cfgFile := writeFile(t, "hookproof.yaml", "auth: basic\nbasic-user: "+leakUser+"\nbasic-password: '"+strings.ReplaceAll(leakPassword, "'", "''")+"'\n")
	tokenFile := writeFile(t, "token", leakToken+"\n")
	run := []string{"certify", "--color", "never", "--seed", "7", "--label-filter", "req:ACK-01 || req:ACK-04 || req:AUTH-07",
		"--event-types", "decision_update,fraud_confirming", "--time-scale", "0.001", "--timeout", "2s"}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		secrets []string
	}{
		{"basic from config file", nil, []string{"--config", cfgFile}, []string{leakPassword}},
		{"bearer from @FILE", nil, []string{"--auth", "bearer", "--bearer-token", "@" + tokenFile}, []string{leakToken}},
		{"bearer from environment", map[string]string{"HOOKPROOF_AUTH": "bearer", "HOOKPROOF_BEARER_TOKEN": leakToken}, nil, []string{leakToken}},
		{"oauth2 from environment, refreshed", map[string]string{"HOOKPROOF_OAUTH2_CLIENT_SECRET": leakCSecret},
			[]string{"--auth", "oauth2", "--oauth2-client-id", leakClient}, []string{leakCSecret}},
		{"oauth2 from flags", nil, []string{"--auth", "oauth2", "--oauth2-client-id", leakClient, "--oauth2-client-secret", leakCSecret}, []string{leakCSecret}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HOOKPROOF_AUTH", "")
			t.Setenv("HOOKPROOF_BEARER_TOKEN", "")
			t.Setenv("HOOKPROOF_OAUTH2_CLIENT_SECRET", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			h := newHostileTarget(t, false)
			dir := t.TempDir()
			args := append(append([]string{}, run...), "--target", h.base+"/hook", "--report-dir", dir)
			if strings.Contains(strings.Join(tc.args, " "), "oauth2") {
				args = append(args, "--oauth2-token-url", h.base+"/token")
			}
			out, errOut, code := cli(t, append(args, tc.args...)...)
			if code != exitOK && code != exitFailed {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			if !strings.Contains(errOut, "location=") && !strings.Contains(out+errOut, "Location") {
				// The redirect must have been seen, or the test proves nothing.
				rep, _ := os.ReadFile(filepath.Join(dir, "report.json"))
				if !strings.Contains(string(rep), "Location") {
					t.Errorf("no redirect Location in any output: the hostile receiver was not exercised")
				}
			}
			secrets := append(append([]string{}, tc.secrets...), h.issued()...)
			if strings.Contains(tc.name, "refreshed") && len(h.issued()) < 2 {
				t.Errorf("%d tokens issued; want a refresh during the run", len(h.issued()))
			}
			assertNoLeak(t, everything(t, dir, out, errOut), secrets...)
			assertReports(t, dir)
		})
	}
}

// A token endpoint that refuses, echoing the client secret JSON-escaped in
// its 400, is a configuration error found before any check: exit 2 naming
// the token URL and its (scrubbed) answer.
func TestRefusingTokenEndpointIsAConfigErrorWithoutTheSecret(t *testing.T) {
	t.Setenv("HOOKPROOF_OAUTH2_CLIENT_SECRET", "")
	h := newHostileTarget(t, true)
	out, errOut, code := cli(t, "certify", "--target", h.base+"/hook", "--auth", "oauth2", "--oauth2-token-url", h.base+"/token",
		"--oauth2-client-id", leakClient, "--oauth2-client-secret", leakCSecret, "--color", "never")
	if code != exitUsage {
		t.Fatalf("exit %d; want 2\n%s%s", code, out, errOut)
	}
	for _, want := range []string{h.base + "/token", "400", "invalid_client", "wrong secret " + harness.Redacted, "--oauth2-token-url"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not name %q:\n%s", want, errOut)
		}
	}
	assertNoLeak(t, out+errOut, leakCSecret)
}

// An effects URL that echoes the delivery credentials in its error body
// fails the preflight (exit 2) without printing them.
func TestEffectsProbeEchoIsNotPrinted(t *testing.T) {
	t.Setenv("HOOKPROOF_BEARER_TOKEN", "")
	h := newHostileTarget(t, false)
	out, errOut, code := cli(t, "certify", "--target", h.base+"/hook", "--auth", "bearer", "--bearer-token", leakToken,
		"--effects-url", h.base+"/effects", "--effects-auth", "--color", "never")
	if code != exitUsage || !strings.Contains(errOut, "effects") {
		t.Fatalf("exit %d; want 2 naming the effects probe\n%s%s", code, out, errOut)
	}
	assertNoLeak(t, out+errOut, leakToken)
}

// send prints the Location of a redirect; the token in its path and query
// is scrubbed, whatever its encoding.
func TestSendScrubsTheTokenInALocation(t *testing.T) {
	t.Setenv("HOOKPROOF_BEARER_TOKEN", leakToken)
	h := newHostileTarget(t, false)
	out, errOut, _ := cli(t, "send", "--target", h.base+"/hook", "--auth", "bearer", "--event", "decision_update", "--count", "4")
	if !strings.Contains(out, "location=") {
		t.Fatalf("no redirect printed:\n%s%s", out, errOut)
	}
	assertNoLeak(t, out+errOut, leakToken)
}
