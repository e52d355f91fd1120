package receiver

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/hookproof/hookproof/harness"
)

func TestValidEventsAreAckedForEveryAuthType(t *testing.T) {
	t.Parallel()
	for _, typ := range harness.AuthTypes {
		t.Run(string(typ), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, authOptions(typ))
			id := newID()
			r := deliver(t, s, validEvent(id))
			if r.status != http.StatusOK || !strings.Contains(r.body, `"accepted"`) {
				t.Fatalf("valid event = %d %s; want 200 accepted", r.status, r.body)
			}
			if n := probeCount(t, s, id); n != 1 {
				t.Errorf("effects count = %d; want 1", n)
			}
		})
	}
}

func basic(userPass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userPass))
}

func TestBadCredentialsAreRejectedAndNotProcessed(t *testing.T) {
	t.Parallel()
	unauthorized := []int{http.StatusUnauthorized}
	malformed := []int{http.StatusBadRequest, http.StatusUnauthorized}
	type tc struct {
		name   string
		auth   string   // Authorization value; "" sends none
		extra  []string // other header lines
		query  string
		status []int // acceptable statuses
	}
	cases := map[harness.AuthType][]tc{
		harness.AuthBasic: {
			{name: "missing", status: unauthorized},
			{name: "wrong password", auth: basic("riskos:nope"), status: unauthorized},
			{name: "wrong user", auth: basic("other:s3cr:et£"), status: unauthorized},
			{name: "password prefix", auth: basic("riskos:s3cr"), status: unauthorized},
			{name: "bearer instead of basic", auth: "Bearer s3cr:et£", status: unauthorized},
			{name: "other scheme", auth: "Token " + basic("riskos:s3cr:et£")[6:], status: unauthorized},
			{name: "credentials in custom header", extra: []string{"X-Api-Key: " + basic("riskos:s3cr:et£")}, status: unauthorized},
			{name: "scheme without credentials", auth: "Basic", status: malformed},
			{name: "empty user and password", auth: "Basic Og==", status: malformed},
			{name: "not base64", auth: "Basic %%%not-base64", status: malformed},
			{name: "no colon", auth: basic("riskos"), status: malformed},
			{name: "oversized", auth: "Basic " + strings.Repeat("A", 64<<10), status: malformed},
			{name: "two headers", auth: basic("riskos:s3cr:et£"), extra: []string{"Authorization: " + basic("riskos:x")}, status: malformed},
		},
		harness.AuthBearer: {
			{name: "missing", status: unauthorized},
			{name: "wrong token", auth: "Bearer 00000000-0000-0000-0000-000000000000", status: unauthorized},
			{name: "token prefix", auth: "Bearer 6f1c2f1e-4c1b-4a7e", status: unauthorized},
			{name: "token plus suffix", auth: "Bearer 6f1c2f1e-4c1b-4a7e-9d8e-1f2a3b4c5d6eX", status: unauthorized},
			{name: "basic instead of bearer", auth: basic("x:6f1c2f1e-4c1b-4a7e-9d8e-1f2a3b4c5d6e"), status: unauthorized},
			{name: "token under Basic", auth: "Basic 6f1c2f1e-4c1b-4a7e-9d8e-1f2a3b4c5d6e", status: unauthorized},
			{name: "token in query", query: "?access_token=6f1c2f1e-4c1b-4a7e-9d8e-1f2a3b4c5d6e", status: unauthorized},
			{name: "token in custom header", extra: []string{"X-Token: 6f1c2f1e-4c1b-4a7e-9d8e-1f2a3b4c5d6e"}, status: unauthorized},
			{name: "scheme without token", auth: "Bearer", status: malformed},
			{name: "scheme and spaces", auth: "Bearer    ", status: malformed},
			{name: "oversized", auth: "Bearer " + strings.Repeat("x", 64<<10), status: malformed},
		},
		harness.AuthOAuth2: {
			{name: "missing", status: unauthorized},
			{name: "random token", auth: "Bearer not-a-jwt", status: unauthorized},
			{name: "tampered", auth: "Bearer header.payload.signaturX", status: unauthorized},
			{name: "token in query", query: "?access_token=" + goodToken, status: unauthorized},
			{name: "scheme without token", auth: "Bearer", status: malformed},
		},
	}
	for typ, list := range cases {
		t.Run(string(typ), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, authOptions(typ))
			for _, c := range list {
				r := send(t, s.WebhookURL()+c.query, c.auth, "application/json", validEvent(newID()), c.extra...)
				ok := false
				for _, want := range c.status {
					ok = ok || r.status == want
				}
				if !ok {
					t.Errorf("%s: status = %d; want one of %v", c.name, r.status, c.status)
				}
				if r.status == http.StatusUnauthorized && r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: 401 without WWW-Authenticate", c.name)
				}
				if strings.Contains(r.body, "s3cr") || strings.Contains(r.body, "6f1c2f1e") {
					t.Errorf("%s: body echoes a credential: %s", c.name, r.body)
				}
			}
			s.Receiver().settle()
			if n := s.Receiver().Processed(); n != 0 {
				t.Errorf("processed %d rejected events; want 0", n)
			}
			// The receiver still takes the real credentials afterwards.
			if r := deliver(t, s, validEvent(newID())); r.status != http.StatusOK {
				t.Errorf("valid event after rejections = %d; want 200", r.status)
			}
		})
	}
}

func TestSchemeIsCaseInsensitive(t *testing.T) {
	t.Parallel()
	b := startServer(t, authOptions(harness.AuthBasic))
	if r := send(t, b.WebhookURL(), "BASIC "+basic("riskos:s3cr:et£")[6:], "application/json", validEvent(newID())); r.status != http.StatusOK {
		t.Errorf("BASIC scheme = %d; want 200", r.status)
	}
	k := startServer(t, authOptions(harness.AuthBearer))
	if r := send(t, k.WebhookURL(), "bearer 6f1c2f1e-4c1b-4a7e-9d8e-1f2a3b4c5d6e", "application/json", validEvent(newID())); r.status != http.StatusOK {
		t.Errorf("bearer scheme = %d; want 200", r.status)
	}
}

func TestAuthIsCheckedBeforeTheBodyIsParsed(t *testing.T) {
	t.Parallel()
	s := startServer(t, authOptions(harness.AuthBearer))
	if r := send(t, s.WebhookURL(), "", "application/json", []byte(`{"event_id":`)); r.status != http.StatusUnauthorized {
		t.Errorf("malformed JSON without credentials = %d; want 401", r.status)
	}
}
