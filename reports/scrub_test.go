package reports

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/hookproof/hookproof/harness"
)

// forbidden lists every form of the fixture's secrets that must never
// appear in an output.
func forbidden() []string {
	var out []string
	for _, s := range fixtureSecrets() {
		out = append(out, s, base64.StdEncoding.EncodeToString([]byte(s)))
	}
	return append(out, "SENTINEL")
}

// TestScrubRemovesSecretsFromEveryOutput plants secrets in reasons,
// evidence headers and bodies, notes, URLs, map keys and the config, then
// greps every renderer's bytes for any form of them.
func TestScrubRemovesSecretsFromEveryOutput(t *testing.T) {
	r := fixtureReport()
	basic := base64.StdEncoding.EncodeToString([]byte(basicUser + ":" + secretPassword))
	ev := &r.Requirements[1].Evidence[0]
	// A header the redactor does not know by name, carrying a Basic
	// credential, and a body echoing the token: only Scrub catches these.
	ev.Request.Headers["X-Forwarded-Credential"] = "Basic " + basic
	ev.Request.BodyExcerpt += ` {"echo":"` + secretClient + `"}`
	ev.Request.URL = "https://h.example/hook?access_token=" + secretBearer
	r.Notes = append(r.Notes, "token endpoint said: invalid_client "+secretClient)
	r.Deliveries.PerEventType["evt-"+secretBearer] = Percentiles{Count: 1}
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyaXNrb3MifQ.c2lnbmF0dXJl"
	r.Requirements[0].Reason += " token " + jwt

	// Before scrubbing, the planted secrets are really there.
	var before bytes.Buffer
	if err := WriteJSON(&before, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(before.Bytes(), []byte(secretClient)) {
		t.Fatal("fixture does not carry the secret: the test would prove nothing")
	}

	Scrub(r, fixtureSecrets())
	outputs := map[string]func(*bytes.Buffer) error{
		"report.json":   func(w *bytes.Buffer) error { return WriteJSON(w, r) },
		"junit.xml":     func(w *bytes.Buffer) error { return WriteJUnit(w, r) },
		"summary.md":    func(w *bytes.Buffer) error { return WriteMarkdown(w, r) },
		"report.html":   func(w *bytes.Buffer) error { return WriteHTML(w, r) },
		"console":       func(w *bytes.Buffer) error { return WriteConsole(w, r, true) },
		"console plain": func(w *bytes.Buffer) error { return WriteConsole(w, r, false) },
	}
	for name, render := range outputs {
		var b bytes.Buffer
		if err := render(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, s := range append(forbidden(), jwt) {
			if bytes.Contains(b.Bytes(), []byte(s)) {
				t.Errorf("%s contains secret form %q", name, s)
			}
		}
		if !bytes.Contains(b.Bytes(), []byte(harness.Redacted)) {
			t.Errorf("%s shows no %s at all: was anything rendered?", name, harness.Redacted)
		}
	}
	if got := r.Requirements[1].Evidence[0].Request.Headers["Authorization"]; got != "Bearer "+harness.Redacted {
		t.Errorf("Authorization evidence = %q; want the scheme kept", got)
	}
}

func TestScrubIgnoresShortSecretsAndIsIdempotent(t *testing.T) {
	r := &Report{Target: "http://127.0.0.1:8080/hook", Requirements: []RequirementResult{{ID: "A-1", Reason: "a receiver answered abc"}}}
	Scrub(r, []string{"", "a", "abc"})
	if r.Requirements[0].Reason != "a receiver answered abc" {
		t.Errorf("short secrets garbled the reason: %q", r.Requirements[0].Reason)
	}
	Scrub(r, []string{"answered"})
	Scrub(r, []string{"answered"})
	if want := "a receiver " + harness.Redacted + " abc"; r.Requirements[0].Reason != want {
		t.Errorf("Reason = %q; want %q", r.Requirements[0].Reason, want)
	}
}

func TestScrubConfigKeepsOrderAndIsValidJSON(t *testing.T) {
	cfg := harness.DefaultConfig()
	cfg.Headers = []harness.Header{{Name: "X-Trace-Context", Value: "k-SENTINEL-123 <&>"}} // not a credential by name: only Scrub can remove it
	r := &Report{Config: cfg, Tool: Tool{Name: "hookproof"}, Verdict: VerdictFail}
	Scrub(r, []string{"k-SENTINEL-123"})
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(bytes.Replace(b.Bytes(), []byte(`"verdict": ""`), []byte(`"verdict": "fail"`), 1)); err != nil {
		t.Fatalf("scrubbed report does not decode: %v\n%s", err, b.String())
	}
	s := b.String()
	if strings.Contains(s, "SENTINEL") || !strings.Contains(s, harness.Redacted+" <&>") {
		t.Errorf("config not scrubbed as expected:\n%s", s)
	}
	if strings.Index(s, `"target"`) > strings.Index(s, `"timeouts"`) {
		t.Errorf("config keys lost their struct order:\n%s", s)
	}
}

func TestRedactHeaders(t *testing.T) {
	h := http.Header{}
	h.Set("Authorization", "Bearer abc.def")
	h.Set("Proxy-Authorization", "Basic dXNlcjpwYXNz")
	h.Set("Cookie", "session=1")
	h.Set("X-Api-Key", "k1")
	h.Set("X-Webhook-Secret", "s1")
	h.Set("X-Signature", "sig")
	h.Set("Content-Type", "application/json")
	h["Empty-Token"] = []string{""}
	h.Add("X-Token", "a")
	h.Add("X-Token", "b")
	h.Set("X-Access-Token", "Bearer notascheme")
	want := map[string]string{
		"Authorization":       "Bearer [REDACTED]",
		"Proxy-Authorization": "Basic [REDACTED]",
		"Cookie":              "[REDACTED]",
		"X-Api-Key":           "[REDACTED]",
		"X-Webhook-Secret":    "[REDACTED]",
		"X-Signature":         "[REDACTED]",
		"Content-Type":        "application/json",
		"Empty-Token":         "",
		"X-Token":             "[REDACTED], [REDACTED]",
		"X-Access-Token":      "[REDACTED]",
	}
	got := harness.RedactHeaders(h)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("RedactHeaders()[%q] = %q; want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("RedactHeaders returned %d headers; want %d", len(got), len(want))
	}
	// The scheme alone, with no credential, is evidence for AUTH-04.
	if got := harness.RedactHeaders(http.Header{"Authorization": {"Bearer "}}); got["Authorization"] != "Bearer " {
		t.Errorf("scheme without token = %q; want it kept", got["Authorization"])
	}
}

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://u:p4ss@h.example/x", "https://u:[REDACTED]@h.example/x"},
		{"https://tok3n@h.example/x", "https://[REDACTED]@h.example/x"},
		{"https://h.example/x?token=t0k&a=1", "https://h.example/x?a=1&token=[REDACTED]"},
		{"https://h.example/x?access_token=t&api_key=k", "https://h.example/x?access_token=[REDACTED]&api_key=[REDACTED]"},
		{"https://h.example/x?a=1", "https://h.example/x?a=1"},
		{"://not a url", "://not a url"},
		{"", ""},
	} {
		if got := harness.RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}
