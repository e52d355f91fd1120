package oauth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
)

// TokenKind names a kind of access token Mint can produce: valid, or broken
// in exactly one way.
type TokenKind string

// Token kinds. Every kind but TokenValid must be refused by a receiver.
const (
	TokenValid          TokenKind = "valid"
	TokenExpired        TokenKind = "expired"
	TokenNotYetValid    TokenKind = "not-yet-valid"
	TokenWrongAudience  TokenKind = "wrong-audience"
	TokenWrongIssuer    TokenKind = "wrong-issuer"
	TokenTampered       TokenKind = "tampered-signature"
	TokenAlgNone        TokenKind = "alg-none"
	TokenUnknownKey     TokenKind = "unknown-key"
	TokenUnknownKid     TokenKind = "unknown-kid"
	TokenHS256Confusion TokenKind = "hs256-confusion"
)

// wrongIssuer and wrongAudience use the reserved .invalid TLD (RFC 6761) so
// they can never name a real party.
const (
	wrongIssuer   = "https://issuer.invalid"
	wrongAudience = "https://other-service.invalid"
)

// TokenKindInfo describes one bad token kind.
type TokenKindInfo struct {
	Kind        TokenKind
	Description string
	// Want is the sentinel a Verifier wraps when it refuses this kind.
	Want error
}

// TokenKinds lists every bad kind (not TokenValid), in a stable order, for
// scenarios that show each one is refused (AUTH-05).
func TokenKinds() []TokenKindInfo {
	return []TokenKindInfo{
		{TokenExpired, "signed by the issuer, but exp is an hour in the past", ErrTokenExpired},
		{TokenNotYetValid, "signed by the issuer, but nbf is an hour in the future", ErrTokenNotYetValid},
		{TokenWrongAudience, "signed by the issuer for another audience", ErrTokenAudience},
		{TokenWrongIssuer, "signed with the issuer's key but naming another issuer", ErrTokenIssuer},
		{TokenTampered, "a valid token whose signature bytes were altered", ErrTokenSignature},
		{TokenAlgNone, "unsigned token with alg none", ErrTokenAlgorithm},
		{TokenUnknownKey, "signed by a key not in the JWKS, under the issuer's kid", ErrTokenSignature},
		{TokenUnknownKid, "signed by a key not in the JWKS, under a kid the issuer never published", ErrTokenSignature},
		{TokenHS256Confusion, "HS256 keyed with the issuer's RSA public key PEM (algorithm confusion)", ErrTokenAlgorithm},
	}
}

// Mint returns an access token of the given kind for clientID, without going
// through the token endpoint (Issued does not count it). clientID need not be
// a registered client: Mint(TokenValid, "someone-else") is a genuine token
// for another client, which a receiver restricted to its own client must
// refuse (AUTH-02).
func (i *Server) Mint(kind TokenKind, clientID string) (string, error) {
	if clientID == "" {
		return "", fmt.Errorf("oauth: mint %s: empty clientID", kind)
	}
	scope, err := i.grantScope("")
	if err != nil {
		return "", fmt.Errorf("oauth: mint %s: %w", kind, err)
	}
	now := i.opts.Now()
	c := i.claimsFor(clientID, scope, now)
	key := i.current()
	var tok string
	switch kind {
	case TokenValid:
		tok, err = sign(key, c)
	case TokenExpired:
		c.setTimes(now.Add(-i.opts.TTL-time.Hour), i.opts.TTL)
		tok, err = sign(key, c)
	case TokenNotYetValid:
		c.NotBefore = jwt.NewNumericDate(now.Add(time.Hour))
		c.Expiry = jwt.NewNumericDate(now.Add(time.Hour + i.opts.TTL))
		tok, err = sign(key, c)
	case TokenWrongAudience:
		c.Audience = jwt.Audience{wrongAudience}
		tok, err = sign(key, c)
	case TokenWrongIssuer:
		c.Issuer = wrongIssuer
		tok, err = sign(key, c)
	case TokenTampered:
		if tok, err = sign(key, c); err == nil {
			tok, err = tamper(tok)
		}
	case TokenAlgNone:
		tok, err = algNone(key.kid, c)
	case TokenUnknownKey, TokenUnknownKid:
		tok, err = i.signForeign(kind, key.kid, c)
	case TokenHS256Confusion:
		tok, err = hs256Confusion(key, c)
	default:
		return "", fmt.Errorf("oauth: mint: unknown token kind %q", kind)
	}
	if err != nil {
		return "", fmt.Errorf("oauth: mint %s: %w", kind, err)
	}
	return tok, nil
}

// issue signs a valid token for the token endpoint.
func (i *Server) issue(clientID, scope string) (string, error) {
	return sign(i.current(), i.claimsFor(clientID, scope, i.opts.Now()))
}

// claimsFor builds RFC 9068 access-token claims: the client is both sub and
// client_id, since a client-credentials token acts for no user.
func (i *Server) claimsFor(clientID, scope string, now time.Time) *wireClaims {
	c := &wireClaims{
		Claims: jwt.Claims{
			Issuer:   i.URL,
			Subject:  clientID,
			Audience: jwt.Audience{i.opts.Audience},
			ID:       uuid.NewString(),
		},
		ClientID: clientID,
		Scope:    scope,
	}
	c.setTimes(now, i.opts.TTL)
	return c
}

func (c *wireClaims) setTimes(issued time.Time, ttl time.Duration) {
	c.IssuedAt = jwt.NewNumericDate(issued)
	c.NotBefore = jwt.NewNumericDate(issued)
	c.Expiry = jwt.NewNumericDate(issued.Add(ttl))
}

func sign(k *signingKey, c *wireClaims) (string, error) {
	return jwt.Signed(k.signer).Claims(c).Serialize()
}

// tamper flips bits in the first signature byte. Editing the base64 text
// instead could land on padding bits and leave the signature intact.
func tamper(tok string) (string, error) {
	h, p, s, err := splitCompact(tok)
	if err != nil {
		return "", err
	}
	sig, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(sig) == 0 {
		return "", fmt.Errorf("decode signature: %w", err)
	}
	sig[0] ^= 0xff
	return h + "." + p + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// algNone hand-builds the unsigned token: no library will sign alg none,
// which is exactly why receivers must never accept one.
func algNone(kid string, c *wireClaims) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "none", "typ": "at+jwt", "kid": kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc(header) + "." + enc(payload) + ".", nil
}

// hs256Confusion is the classic forgery against verifiers that take the
// algorithm from the token: HMAC keyed with the public key, which the
// attacker can read from the JWKS, under the issuer's kid.
func hs256Confusion(k *signingKey, c *wireClaims) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(&k.priv.PublicKey)
	if err != nil {
		return "", err
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: secret, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType("at+jwt"),
	)
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(c).Serialize()
}

// signForeign signs with a key the issuer never publishes, under the real
// kid (so only the signature check catches it) or an unpublished one (so a
// verifier must refetch, find nothing, and refuse).
func (i *Server) signForeign(kind TokenKind, realKid string, c *wireClaims) (string, error) {
	i.foreignOnce.Do(func() {
		k := i.opts.ForeignKey
		if k == nil {
			k, i.foreignErr = rsa.GenerateKey(rand.Reader, rsaBits)
			if i.foreignErr != nil {
				return
			}
		}
		i.foreign, i.foreignErr = newSigningKey(k)
	})
	if i.foreignErr != nil {
		return "", i.foreignErr
	}
	kid := i.foreign.kid
	if kind == TokenUnknownKey {
		kid = realKid
	}
	k, err := newSigningKeyWithKid(i.foreign.priv, kid)
	if err != nil {
		return "", err
	}
	return sign(k, c)
}
