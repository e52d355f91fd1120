package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Authorizer puts a delivery's credentials on a request, as RiskOS does for
// the webhook's configured auth type. Authorize sets the Authorization
// header and nothing else. Implementations are safe for concurrent use, so
// load workers share one.
type Authorizer interface {
	Authorize(ctx context.Context, req *http.Request) error
}

// NewAuthorizer returns the Authorizer for cfg, after cfg.Validate. For
// oauth2 it returns an *OAuth2Authorizer whose token requests go through
// client, so the run's TLS options and timeouts apply to the token URL too;
// a nil client means a default one that follows no redirects.
func NewAuthorizer(cfg AuthConfig, client *http.Client) (Authorizer, error) {
	return newAuthorizer(cfg, client, time.Now)
}

// newAuthorizer is NewAuthorizer with the clock the token cache reads.
func newAuthorizer(cfg AuthConfig, client *http.Client, now func() time.Time) (Authorizer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	switch cfg.Type {
	case AuthNone:
		return noAuth{}, nil
	case AuthBasic:
		// Built once with net/http's own encoding, RFC 7617's
		// base64(user:password); every request reuses the value.
		r, _ := http.NewRequest(http.MethodPost, "http://basic.invalid/", nil)
		r.SetBasicAuth(cfg.BasicUser, cfg.BasicPassword.Reveal())
		return staticAuth{value: r.Header.Get("Authorization")}, nil
	case AuthBearer:
		return staticAuth{value: "Bearer " + cfg.BearerToken.Reveal()}, nil
	case AuthOAuth2:
		return newOAuth2Authorizer(cfg.OAuth2, client, now), nil
	}
	// Validate rejects every other type; this keeps a future AuthType from
	// silently sending no credentials.
	return nil, fmt.Errorf("auth.type (--auth): %q is not supported", cfg.Type)
}

// noAuth sends no credentials. It leaves any Authorization a caller set
// alone, so a spec can still craft one by hand (AUTH-03, AUTH-04).
type noAuth struct{}

func (noAuth) Authorize(_ context.Context, req *http.Request) error {
	if req == nil {
		return errors.New("authorize: nil request")
	}
	return nil
}

// staticAuth sends a fixed Authorization value (Basic or Bearer). Its
// fields are never printed: the value holds the credential.
type staticAuth struct{ value string }

func (a staticAuth) Authorize(_ context.Context, req *http.Request) error {
	if req == nil {
		return errors.New("authorize: nil request")
	}
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	req.Header.Set("Authorization", a.value)
	return nil
}

// String keeps %v of the authorizer from printing the credential.
func (a staticAuth) String() string {
	scheme, _, _ := strings.Cut(a.value, " ")
	return "staticAuth(" + scheme + " " + Redacted + ")"
}

// GoString keeps %#v from printing the credential.
func (a staticAuth) GoString() string { return a.String() }

// reservedHeaders are the headers a static header variable may not set:
// Authorization belongs to the auth type (RiskOS sends header variables
// alongside it, never instead of it), and the others belong to the
// transport's framing, where a configured value would be ignored or would
// corrupt the request.
var reservedHeaders = []string{"Authorization", "Host", "Content-Length", "Transfer-Encoding", "Connection"}

// CheckStaticHeader reports whether name may be configured as a static
// header variable.
func CheckStaticHeader(name string) error {
	for _, r := range reservedHeaders {
		if strings.EqualFold(name, r) {
			if r == "Authorization" {
				return errors.New("Authorization is set by --auth and cannot be a static header (use --auth bearer, or a header of another name)")
			}
			return fmt.Errorf("%s is set by the HTTP transport and cannot be a static header", r)
		}
	}
	return nil
}

// StaticHeaders returns a function that adds the static header variables to
// a request, as RiskOS adds them to every delivery. A name configured twice
// is sent twice; applying the function again to the same request replaces
// rather than duplicates the values. Reserved names (see CheckStaticHeader, which
// Config.Validate applies) are skipped, so a header variable can never
// replace the credentials the auth type sets.
func StaticHeaders(h []Header) func(*http.Request) {
	hs := make([]Header, 0, len(h))
	for _, x := range h {
		if CheckStaticHeader(x.Name) == nil {
			hs = append(hs, Header{Name: http.CanonicalHeaderKey(x.Name), Value: x.Value})
		}
	}
	return func(req *http.Request) {
		if req == nil {
			return
		}
		if req.Header == nil {
			req.Header = make(http.Header)
		}
		for i, x := range hs {
			if firstOf(hs, i) {
				req.Header.Del(x.Name)
			}
			req.Header.Add(x.Name, x.Value)
		}
	}
}

// firstOf reports whether hs[i] is the first header of its name.
func firstOf(hs []Header, i int) bool {
	for _, x := range hs[:i] {
		if x.Name == hs[i].Name {
			return false
		}
	}
	return true
}
