package receiver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/hookproof/hookproof/harness"
)

// maxAuthHeader bounds the Authorization header; a longer one is answered
// 400 (AUTH-04 allows 400/401/403, I-16 prefers 400 or 431) before any
// decoding work is spent on it.
const maxAuthHeader = 8 << 10

const realm = `realm="hookproof"`

// authFailure is why a request was not authenticated. status is 400 or
// 401; challenge is the WWW-Authenticate value of a 401.
type authFailure struct {
	status    int
	challenge string
	reason    string // for the log: never contains a credential
}

// authenticator enforces one AuthConfig. Expected credentials are kept
// only as SHA-256 digests: comparing fixed-length digests in constant time
// leaks neither the content nor the length of the secret.
type authenticator struct {
	typ      harness.AuthType
	userSum  [32]byte
	passSum  [32]byte
	tokenSum [32]byte
	verifier TokenVerifier
}

func newAuthenticator(cfg harness.AuthConfig, v TokenVerifier) *authenticator {
	a := &authenticator{typ: cfg.Type, verifier: v}
	switch cfg.Type {
	case harness.AuthBasic:
		a.userSum = sha256.Sum256([]byte(cfg.BasicUser))
		a.passSum = sha256.Sum256([]byte(cfg.BasicPassword.Reveal()))
	case harness.AuthBearer:
		a.tokenSum = sha256.Sum256([]byte(cfg.BearerToken.Reveal()))
	}
	return a
}

func equalSecret(got string, want [32]byte) int {
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], want[:])
}

// check authenticates r; nil means authenticated. Only the Authorization
// header counts: a token in the query string or in any other header is
// ignored, so such a request is simply unauthenticated (RFC 6750 §2.3).
func (a *authenticator) check(ctx context.Context, r *http.Request) *authFailure {
	if a.typ == harness.AuthNone {
		return nil
	}
	scheme := "Basic"
	if a.typ != harness.AuthBasic {
		scheme = "Bearer"
	}
	challenge := scheme + " " + realm
	if a.typ == harness.AuthBasic {
		challenge += `, charset="UTF-8"`
	}
	fail := func(reason, errCode string) *authFailure {
		c := challenge
		if errCode != "" && scheme == "Bearer" {
			c += `, error="` + errCode + `"`
		}
		return &authFailure{status: http.StatusUnauthorized, challenge: c, reason: reason}
	}
	values := r.Header.Values("Authorization")
	switch {
	case len(values) == 0:
		return fail("no credentials", "")
	case len(values) > 1:
		return fail("more than one Authorization header", "invalid_request")
	case len(values[0]) > maxAuthHeader:
		return &authFailure{status: http.StatusBadRequest, reason: "oversized Authorization header"}
	}
	// RFC 9110 §11.1: the scheme is case-insensitive; one or more spaces
	// separate it from the credentials.
	got, cred, _ := strings.Cut(values[0], " ")
	cred = strings.TrimLeft(cred, " ")
	if !strings.EqualFold(got, scheme) {
		return fail("wrong auth scheme", "invalid_request")
	}
	if cred == "" {
		return fail("empty credentials", "invalid_request")
	}
	switch a.typ {
	case harness.AuthBasic:
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return fail("basic credentials are not base64", "")
		}
		// RFC 7617 §2: the user-id cannot contain ':', the password can.
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return fail("basic credentials without ':'", "")
		}
		if equalSecret(user, a.userSum)&equalSecret(pass, a.passSum) != 1 {
			return fail("wrong basic credentials", "")
		}
	case harness.AuthBearer:
		if equalSecret(cred, a.tokenSum) != 1 {
			return fail("wrong bearer token", "invalid_token")
		}
	case harness.AuthOAuth2:
		if err := a.verifier.Verify(ctx, cred); err != nil {
			// Verifier errors should not carry the token; make sure.
			msg := strings.ReplaceAll(err.Error(), cred, harness.Redacted)
			return fail("access token rejected: "+msg, "invalid_token")
		}
	}
	return nil
}
