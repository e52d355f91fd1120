package harness

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

const nastySecret = `s3<cr>&"'%+/=-Ünïcødé-€-𝄞`

func TestRedactorScrubsEveryDerivedForm(t *testing.T) {
	r := NewRedactor()
	r.LearnBasic("us er", nastySecret)
	pyJSON := func(s string) string { // ASCII-only JSON, as Python writes it
		var b strings.Builder
		for _, c := range s {
			switch {
			case c == '"' || c == '\\':
				b.WriteString(`\` + string(c))
			case c < 0x80:
				b.WriteRune(c)
			case c > 0xFFFF:
				h, l := utf16Pair(c)
				fmt.Fprintf(&b, `\u%04x\u%04x`, h, l)
			default:
				fmt.Fprintf(&b, `\u%04x`, c)
			}
		}
		return b.String()
	}
	goJSON, _ := json.Marshal(nastySecret)
	for name, form := range map[string]string{
		"raw":             nastySecret,
		"basic header":    "Basic " + base64.StdEncoding.EncodeToString([]byte("us er:"+nastySecret)),
		"x/oauth2 basic":  base64.StdEncoding.EncodeToString([]byte(url.QueryEscape("us er") + ":" + url.QueryEscape(nastySecret))),
		"base64url":       base64.RawURLEncoding.EncodeToString([]byte(nastySecret)),
		"query":           url.QueryEscape(nastySecret),
		"query lower hex": strings.ToLower(url.QueryEscape(nastySecret)),
		"path":            url.PathEscape(nastySecret),
		"go json":         string(goJSON),
		"python json":     pyJSON(nastySecret),
		"html":            html.EscapeString(nastySecret),
	} {
		out := r.Scrub("before " + form + " after")
		if strings.Contains(out, "s3") || !strings.Contains(out, Redacted) {
			t.Errorf("%s: %q scrubbed to %q", name, form, out)
		}
	}
	if got := r.Scrub("nothing here"); got != "nothing here" {
		t.Errorf("clean text changed: %q", got)
	}
}

func TestRedactorLearnsWhileInUse(t *testing.T) {
	r := NewRedactor()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := fmt.Sprintf("token-%d-abcdef", i)
			r.Learn(tok)
			if out := r.Scrub("x " + tok); strings.Contains(out, tok) {
				t.Errorf("token %s not scrubbed after Learn: %q", tok, out)
			}
		}()
	}
	wg.Wait()
	if n := len(r.Secrets()); n < 8 {
		t.Errorf("%d forms learned", n)
	}
}

func TestScrubWriterCatchesSecretsSplitAcrossWrites(t *testing.T) {
	r := NewRedactor("hunter2-secret")
	var out bytes.Buffer
	w := r.Writer(&out)
	io.WriteString(w, "line one hunter2-")
	io.WriteString(w, "secret and more\nunfinished hunter2-sec")
	io.WriteString(w, "ret")
	if strings.Contains(out.String(), "unfinished") {
		t.Errorf("an unfinished line was written before Flush: %q", out.String())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "hunter2") || strings.Count(out.String(), Redacted) != 2 {
		t.Errorf("output %q", out.String())
	}
}

func TestScrubErrorKeepsTheChain(t *testing.T) {
	r := NewRedactor("pa55word-x")
	base := errors.New("refused pa55word-x")
	err := r.ScrubError(fmt.Errorf("wrapped: %w", base))
	if strings.Contains(err.Error(), "pa55word") || !errors.Is(err, base) {
		t.Errorf("err = %v, Is = %v", err, errors.Is(err, base))
	}
	if r.ScrubError(nil) != nil {
		t.Error("nil error became non-nil")
	}
}

// Every token an OAuth2Authorizer fetches is learned before it is used, so
// the token a refresh replaced stays redacted too.
func TestOAuth2TokensAreLearnedAsFetched(t *testing.T) {
	var n int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		tok := fmt.Sprintf("fetched-token-%d-xyz", n)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"bearer","expires_in":3600}`, tok)
	}))
	defer srv.Close()
	a, err := NewAuthorizer(AuthConfig{Type: AuthOAuth2, OAuth2: OAuth2Config{TokenURL: srv.URL, ClientID: "c", ClientSecret: "client-secret-1"}}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	r := NewRedactor()
	oa := a.(*OAuth2Authorizer)
	oa.LearnTokens(r)
	ctx := t.Context()
	first, err := oa.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	oa.Invalidate()
	second, err := oa.Token(ctx)
	if err != nil || second == first {
		t.Fatalf("second token %q, err %v", second, err)
	}
	for _, s := range []string{first, second, "client-secret-1"} {
		if out := r.Scrub("echo " + s); strings.Contains(out, s) {
			t.Errorf("%q not learned: %q", s, out)
		}
	}
}
