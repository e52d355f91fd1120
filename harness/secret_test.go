package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	const value = "s3cr3t-value-42"
	s := Secret(value)
	type holder struct {
		Token Secret `json:"token"`
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "token", s, "h", holder{s})
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "token", s)
	j, err := json.Marshal(holder{s})
	if err != nil {
		t.Fatal(err)
	}
	outs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, holder{s}, holder{s}, s, s),
		string(j), logs.String(),
	}
	for _, out := range outs {
		if strings.Contains(out, value) {
			t.Errorf("secret leaked in %q", out)
		}
	}
	if s.Reveal() != value {
		t.Errorf("Reveal() = %q; want %q", s.Reveal(), value)
	}
}

// Secrets reach the scrubber from every place a config can hold them.
func TestConfigSecretsCoverHeadersAndURLs(t *testing.T) {
	c := DefaultConfig()
	c.Auth = AuthConfig{Type: AuthBearer, BearerToken: "tok-aaaaaaaa"}
	c.Headers = []Header{{Name: "X-Api-Key", Value: "apikeyVALUE55"}, {Name: "X-Env", Value: "staging-eu"}}
	c.Target = "https://user:pw-in-target@host/hook"
	c.Effects.URL = "http://host/effects?access=probeSECRET99&v=2"
	got := strings.Join(c.Secrets(), " ")
	for _, want := range []string{"tok-aaaaaaaa", "apikeyVALUE55", "pw-in-target", "probeSECRET99"} {
		if !strings.Contains(got, want) {
			t.Errorf("Secrets() lacks %q: %v", want, c.Secrets())
		}
	}
	for _, not := range []string{"staging-eu", "2"} {
		for _, s := range c.Secrets() {
			if s == not {
				t.Errorf("Secrets() holds %q, which is not a credential", not)
			}
		}
	}
	b, _ := json.Marshal(c)
	if strings.Contains(string(b), "apikeyVALUE55") || !strings.Contains(string(b), "staging-eu") {
		t.Errorf("config JSON = %s; want the API key redacted and plain headers kept", b)
	}
}
