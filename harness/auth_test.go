package harness

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestNewAuthorizerStatic(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		cfg    AuthConfig
		want   string // Authorization after Authorize; "" means absent
		secret string
	}{
		{"none", AuthConfig{Type: AuthNone}, "", ""},
		// RFC 7617: base64(user:password), the password may hold colons.
		{"basic", AuthConfig{Type: AuthBasic, BasicUser: "riskos", BasicPassword: "pa:ss wörd"},
			"Basic " + base64.StdEncoding.EncodeToString([]byte("riskos:pa:ss wörd")), "pa:ss wörd"},
		{"bearer", AuthConfig{Type: AuthBearer, BearerToken: "5f0c3a52-0000-4000-8000-000000000001"},
			"Bearer 5f0c3a52-0000-4000-8000-000000000001", "5f0c3a52-0000-4000-8000-000000000001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, err := NewAuthorizer(tc.cfg, nil)
			if err != nil {
				t.Fatalf("NewAuthorizer(%s) error: %v", tc.name, err)
			}
			req, _ := http.NewRequest(http.MethodPost, "https://receiver.test/hook", nil)
			req.Header.Set("Content-Type", "application/json")
			if err := a.Authorize(context.Background(), req); err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			if got := req.Header.Get("Authorization"); got != tc.want {
				t.Errorf("Authorization = %q; want %q", got, tc.want)
			}
			want := 1
			if tc.want != "" {
				want = 2
			}
			if len(req.Header) != want {
				t.Errorf("headers after Authorize = %v; want Content-Type plus Authorization only", req.Header)
			}
			if tc.secret != "" {
				if s := fmt.Sprintf("%v %+v %#v %s", a, a, a, a); strings.Contains(s, tc.secret) {
					t.Errorf("printing the authorizer leaks the credential: %s", s)
				}
			}
		})
	}
}

func TestNoneKeepsCraftedAuthorization(t *testing.T) {
	t.Parallel()
	a, _ := NewAuthorizer(AuthConfig{Type: AuthNone}, nil)
	req, _ := http.NewRequest(http.MethodPost, "https://receiver.test/hook", nil)
	req.Header.Set("Authorization", "Bearer") // AUTH-04: scheme without token
	if err := a.Authorize(context.Background(), req); err != nil || req.Header.Get("Authorization") != "Bearer" {
		t.Fatalf("none.Authorize changed a crafted header: %q, %v", req.Header.Get("Authorization"), err)
	}
}

func TestAuthorizeToleratesBadInput(t *testing.T) {
	t.Parallel()
	for _, cfg := range []AuthConfig{
		{Type: AuthNone},
		{Type: AuthBearer, BearerToken: "t"},
		testOAuth2Config(OAuth2StyleHeader),
	} {
		a, err := NewAuthorizer(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Authorize(context.Background(), nil); err == nil {
			t.Errorf("%s: Authorize(nil request) = nil; want an error", cfg.Type)
		}
	}
	// A request built by hand, with no header map.
	a, _ := NewAuthorizer(AuthConfig{Type: AuthBearer, BearerToken: "t"}, nil)
	req := &http.Request{Method: http.MethodPost}
	if err := a.Authorize(context.Background(), req); err != nil || req.Header.Get("Authorization") != "Bearer t" {
		t.Errorf("Authorize(request without Header) = %v, %q", err, req.Header.Get("Authorization"))
	}
}

func TestNewAuthorizerValidates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  AuthConfig
		want string
	}{
		{AuthConfig{Type: "hmac"}, "auth.type (--auth)"},
		{AuthConfig{Type: AuthBasic, BasicPassword: "pw-secret"}, "auth.basic_user"},
		{AuthConfig{Type: AuthBearer}, "auth.bearer_token"},
		{AuthConfig{Type: AuthOAuth2, OAuth2: OAuth2Config{TokenURL: "ftp://x/t", ClientID: "c", ClientSecret: "cs-secret"}}, "auth.oauth2.token_url"},
		{AuthConfig{Type: AuthOAuth2, OAuth2: OAuth2Config{TokenURL: "https://x/t", ClientID: "c", ClientSecret: "cs-secret", AuthStyle: "jwt"}}, "auth.oauth2.auth_style"},
	} {
		a, err := NewAuthorizer(tc.cfg, nil)
		if err == nil || a != nil {
			t.Errorf("NewAuthorizer(%+v) = %v, %v; want an error", tc.cfg, a, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewAuthorizer error = %q; want it to name %q", err, tc.want)
		}
		for _, s := range []string{"pw-secret", "cs-secret"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("NewAuthorizer error leaks a secret: %q", err)
			}
		}
	}
}

func TestStaticHeaders(t *testing.T) {
	t.Parallel()
	apply := StaticHeaders([]Header{
		{Name: "x-tenant", Value: "acme"},
		{Name: "X-Route", Value: "a"},
		{Name: "X-Route", Value: "b"},
		{Name: "authorization", Value: "Bearer static-override"},
	})
	req, _ := http.NewRequest(http.MethodPost, "https://receiver.test/hook", nil)
	req.Header.Set("Authorization", "Bearer from-auth")
	req.Header.Set("X-Route", "stale")
	apply(req)
	apply(req) // an attempt re-using the request must not grow the headers

	if got := req.Header.Get("X-Tenant"); got != "acme" {
		t.Errorf("X-Tenant = %q; want acme", got)
	}
	if got := req.Header.Values("X-Route"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("X-Route = %q; want [a b]", got)
	}
	if got := req.Header.Values("Authorization"); !slices.Equal(got, []string{"Bearer from-auth"}) {
		t.Errorf("Authorization = %q; want the auth type's value untouched", got)
	}
	apply(nil) // must not panic
}

func TestCheckStaticHeader(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{
		"X-Tenant": true, "Idempotency-Key": true, "Content-Type": true,
		"Authorization": false, "authorization": false, "Host": false, "Content-Length": false,
		"Transfer-Encoding": false, "Connection": false,
	} {
		if err := CheckStaticHeader(name); (err == nil) != ok {
			t.Errorf("CheckStaticHeader(%q) = %v; want ok=%v", name, err, ok)
		}
	}
}

func TestConfigValidateRejectsStaticAuthorization(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Target = "https://receiver.test/hook"
	cfg.Headers = []Header{{Name: "X-Tenant", Value: "acme"}, {Name: "Authorization", Value: "Bearer x"}}
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "headers[1] (--header): Authorization is set by --auth") {
		t.Fatalf("Validate() = %v; want headers[1] rejected as Authorization", err)
	}
	if strings.Contains(err.Error(), "headers[0]") {
		t.Errorf("Validate() = %v; headers[0] is fine", err)
	}
}

// ExampleNewAuthorizer shows a delivery getting its credentials and static
// header variables, as the sender builds it.
func ExampleNewAuthorizer() {
	auth, err := NewAuthorizer(AuthConfig{Type: AuthBasic, BasicUser: "riskos", BasicPassword: "s3cret"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	addStatic := StaticHeaders([]Header{{Name: "X-Tenant", Value: "acme"}})

	req, _ := http.NewRequest(http.MethodPost, "https://receiver.example/hook", strings.NewReader(`{}`))
	addStatic(req)
	if err := auth.Authorize(context.Background(), req); err != nil {
		fmt.Println(err)
		return
	}
	h := RedactHeaders(req.Header)
	for _, name := range SortedHeaderNames(h) {
		fmt.Printf("%s: %s\n", name, h[name])
	}
	// Output:
	// Authorization: Basic [REDACTED]
	// X-Tenant: acme
}
