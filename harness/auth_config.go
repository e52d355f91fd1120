package harness

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// AuthType is how deliveries authenticate, as configured on a RiskOS webhook.
type AuthType string

// The auth types RiskOS supports, plus none.
const (
	AuthNone   AuthType = "none"
	AuthBasic  AuthType = "basic"
	AuthBearer AuthType = "bearer"
	AuthOAuth2 AuthType = "oauth2"
)

// AuthTypes lists every AuthType, for flag help and validation.
var AuthTypes = []AuthType{AuthNone, AuthBasic, AuthBearer, AuthOAuth2}

// OAuth2 client-authentication styles at the token endpoint.
const (
	OAuth2StyleAuto   = "auto"   // try the Basic header, fall back to the form body
	OAuth2StyleHeader = "header" // client_secret_basic
	OAuth2StyleBody   = "body"   // client_secret_post
)

// OAuth2Config is the client-credentials grant RiskOS performs.
type OAuth2Config struct {
	TokenURL     string   `yaml:"token_url" json:"token_url,omitempty"`
	ClientID     string   `yaml:"client_id" json:"client_id,omitempty"`
	ClientSecret Secret   `yaml:"client_secret" json:"client_secret,omitempty"`
	Scopes       []string `yaml:"scopes" json:"scopes,omitempty"`
	// AuthStyle is auto, header or body.
	AuthStyle string `yaml:"auth_style" json:"auth_style,omitempty"`
	// JWKSURL is the issuer's public key set. It lets AUTH-05 forge tokens
	// that need only public keys (a kid the issuer never published, HS256
	// keyed with its public key) for an issuer hookproof does not run;
	// empty: discovered from the issuer's metadata when it can be.
	JWKSURL string `yaml:"jwks_url" json:"jwks_url,omitempty"`
}

// AuthConfig is the credentials a webhook is configured with. Secrets are
// Secret values so that printing a config never reveals them.
type AuthConfig struct {
	Type          AuthType     `yaml:"type" json:"type"`
	BasicUser     string       `yaml:"basic_user" json:"basic_user,omitempty"`
	BasicPassword Secret       `yaml:"basic_password" json:"basic_password,omitempty"`
	BearerToken   Secret       `yaml:"bearer_token" json:"bearer_token,omitempty"`
	OAuth2        OAuth2Config `yaml:"oauth2" json:"oauth2,omitempty"`
}

// Secrets returns every secret value the config holds, for redaction of
// outputs that did not pass through Secret (a receiver echoing a token, say).
func (a AuthConfig) Secrets() []string {
	var s []string
	for _, v := range []Secret{a.BasicPassword, a.BearerToken, a.OAuth2.ClientSecret} {
		if v.IsSet() {
			s = append(s, v.Reveal())
		}
	}
	return s
}

// Validate reports every problem, each naming its field (and the flag that
// sets it, for a user who never wrote a config file).
func (a AuthConfig) Validate() error {
	var errs []error
	need := func(ok bool, field, flag, env string) {
		if !ok {
			msg := fmt.Sprintf("auth.%s: required for --auth %s (set %s", field, a.Type, flag)
			if env != "" {
				msg += " or " + env
			}
			errs = append(errs, errors.New(msg+")"))
		}
	}
	switch a.Type {
	case AuthNone:
	case AuthBasic:
		need(a.BasicUser != "", "basic_user", "--basic-user", "")
		need(a.BasicPassword.IsSet(), "basic_password", "--basic-password", "HOOKPROOF_BASIC_PASSWORD")
	case AuthBearer:
		need(a.BearerToken.IsSet(), "bearer_token", "--bearer-token", "HOOKPROOF_BEARER_TOKEN")
	case AuthOAuth2:
		need(a.OAuth2.TokenURL != "", "oauth2.token_url", "--oauth2-token-url", "")
		need(a.OAuth2.ClientID != "", "oauth2.client_id", "--oauth2-client-id", "")
		need(a.OAuth2.ClientSecret.IsSet(), "oauth2.client_secret", "--oauth2-client-secret", "HOOKPROOF_OAUTH2_CLIENT_SECRET")
		if a.OAuth2.TokenURL != "" {
			if err := checkHTTPURL(a.OAuth2.TokenURL); err != nil {
				errs = append(errs, fmt.Errorf("auth.oauth2.token_url (--oauth2-token-url): %w", err))
			}
		}
		switch a.OAuth2.AuthStyle {
		case "", OAuth2StyleAuto, OAuth2StyleHeader, OAuth2StyleBody:
		default:
			errs = append(errs, fmt.Errorf("auth.oauth2.auth_style: %q is not auto, header or body", a.OAuth2.AuthStyle))
		}
	default:
		errs = append(errs, fmt.Errorf("auth.type (--auth): %q is not one of none, basic, bearer, oauth2", a.Type))
	}
	return errors.Join(errs...)
}

// checkHTTPURL accepts absolute http(s) URLs with a host. Its errors never
// repeat the URL, which may carry userinfo.
func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("has no host")
	}
	// url.Parse takes any digits for a port; a dial would fail later with
	// a message that reads like an unreachable target.
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %s is outside 1..65535", p)
		}
	}
	return nil
}
