package scenarios

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/hookproof/hookproof/fakes/oauth"
	"github.com/hookproof/hookproof/fakes/riskos"
	"github.com/hookproof/hookproof/harness"
)

// keyForgery forges a token from a genuine token's payload and the
// issuer's public key.
type keyForgery func(payload []byte, pub *rsa.PublicKey, kid string) (string, error)

// publicKeyForgery returns the forgery of kind that needs no private key,
// nil for the others.
func publicKeyForgery(kind oauth.TokenKind) keyForgery {
	switch kind {
	case oauth.TokenUnknownKid:
		return forgeUnknownKid
	case oauth.TokenHS256Confusion:
		return forgeHS256Confusion
	}
	return nil
}

// forgeUnknownKid signs the payload with a fresh RSA key under a kid the
// issuer never published: a receiver that trusts the token's own key
// material, or falls back to any key, accepts it.
func forgeUnknownKid(payload []byte, _ *rsa.PublicKey, _ string) (string, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "hookproof-unknown-"+uuid.NewString())
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: priv}, opts)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// forgeHS256Confusion MACs the payload with HS256 keyed with the issuer's
// RSA public key in PEM: a verifier that lets the token's alg choose the
// algorithm and hands it "the key" verifies it.
func forgeHS256Confusion(payload []byte, pub *rsa.PublicKey, kid string) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	key := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	header, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT", "kid": kid})
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

// forgeFromKeys forges a token from the current genuine token's claims.
func forgeFromKeys(ctx context.Context, env *Env, forge keyForgery, d *riskos.Delivery) error {
	keys, err := env.issuerKeys(ctx)
	if err != nil {
		return err
	}
	tok, err := credential(ctx, env)
	if err != nil {
		return err
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return errors.New("the issuer's access token is not a JWT: there are no claims to forge")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return fmt.Errorf("the issuer's access token has an undecodable payload: %w", err)
	}
	forged, err := forge(payload, keys.pub, keys.kid)
	if err != nil {
		return err
	}
	setAuth(d, "Bearer "+forged)
	return nil
}

// issuerKeys are the issuer's first RSA signing key and its kid.
type issuerKeys struct {
	pub *rsa.PublicKey
	kid string
}

// keyCache fetches the issuer's keys once per run.
type keyCache struct {
	mu   sync.Mutex
	done bool
	keys *issuerKeys
	err  error
}

// issuerKeys returns the OAuth2 issuer's public key: from --oauth2-jwks-url,
// or from the jwks_uri of the issuer's metadata, looked up at the
// well-known paths above the token URL.
func (e *Env) issuerKeys(ctx context.Context) (*issuerKeys, error) {
	e.keys.mu.Lock()
	defer e.keys.mu.Unlock()
	if !e.keys.done {
		e.keys.keys, e.keys.err = fetchIssuerKeys(ctx, e.Config)
		e.keys.done = true
	}
	return e.keys.keys, e.keys.err
}

func fetchIssuerKeys(ctx context.Context, cfg harness.Config) (*issuerKeys, error) {
	client, err := harness.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	jwksURL := cfg.Auth.OAuth2.JWKSURL
	if jwksURL == "" {
		if jwksURL, err = discoverJWKS(ctx, client, cfg.Auth.OAuth2.TokenURL); err != nil {
			return nil, err
		}
	}
	var set jose.JSONWebKeySet
	if err := getJSON(ctx, client, jwksURL, &set); err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", harness.RedactURL(jwksURL), err)
	}
	for _, k := range set.Keys {
		if pub, ok := k.Key.(*rsa.PublicKey); ok && (k.Use == "" || k.Use == "sig") {
			return &issuerKeys{pub: pub, kid: k.KeyID}, nil
		}
	}
	return nil, fmt.Errorf("JWKS %s has no RSA signing key", harness.RedactURL(jwksURL))
}

// discoverJWKS finds jwks_uri in the issuer's metadata, trying the
// well-known documents at every path prefix of the token URL (an issuer
// at /realms/x has its token URL below it).
func discoverJWKS(ctx context.Context, client *http.Client, tokenURL string) (string, error) {
	u, err := url.Parse(tokenURL)
	if err != nil || u.Host == "" {
		return "", errors.New("no --oauth2-jwks-url, and no token URL to discover it from")
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	for n := len(segs) - 1; n >= 0; n-- {
		prefix := strings.Join(segs[:n], "/")
		if prefix != "" {
			prefix = "/" + prefix
		}
		for _, doc := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
			meta := url.URL{Scheme: u.Scheme, Host: u.Host, Path: prefix + doc}
			var m struct {
				JWKSURI string `json:"jwks_uri"`
			}
			if getJSON(ctx, client, meta.String(), &m) == nil && m.JWKSURI != "" {
				return m.JWKSURI, nil
			}
		}
	}
	return "", errors.New("the issuer publishes no metadata with a jwks_uri at its well-known paths")
}

func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return errors.New(string(harness.ClassifyError(err)))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("answered %d", resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}
