package oauth

import (
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// Claims are the verified claims of an access token. Times are zero when the
// token does not carry the claim (only exp is mandatory).
type Claims struct {
	Issuer    string
	Subject   string
	Audience  []string
	ClientID  string
	Scope     string
	ID        string
	IssuedAt  time.Time
	NotBefore time.Time
	Expiry    time.Time
}

// Scopes splits the space-delimited scope claim.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// wireClaims is the JSON shape of the token payload: the registered claims
// plus the RFC 9068 client_id and scope.
type wireClaims struct {
	jwt.Claims
	ClientID string `json:"client_id,omitempty"`
	Scope    string `json:"scope,omitempty"`
}

func (w *wireClaims) claims() *Claims {
	c := &Claims{
		Issuer:   w.Issuer,
		Subject:  w.Subject,
		Audience: []string(w.Audience),
		ClientID: w.ClientID,
		Scope:    w.Scope,
		ID:       w.ID,
	}
	if c.ClientID == "" {
		// Some issuers only put the client in sub for client-credentials tokens.
		c.ClientID = w.Subject
	}
	if w.IssuedAt != nil {
		c.IssuedAt = w.IssuedAt.Time()
	}
	if w.NotBefore != nil {
		c.NotBefore = w.NotBefore.Time()
	}
	if w.Expiry != nil {
		c.Expiry = w.Expiry.Time()
	}
	return c
}
