package oauth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/hookproof/hookproof/harness"
)

// Defaults for IssuerOptions and VerifierOptions.
const (
	// DefaultAudience is the aud claim of issued tokens and the audience a
	// Verifier expects when none is configured.
	DefaultAudience = "hookproof-receiver"
	// DefaultTTL is the lifetime of issued access tokens.
	DefaultTTL = time.Hour
	// rsaBits is the size of generated keys; 2048 is the smallest size
	// anyone should still accept for RS256.
	rsaBits = 2048
)

// Paths the issuer serves, relative to URL().
const (
	TokenPath    = "/token"
	JWKSPath     = "/.well-known/jwks.json"
	MetadataPath = "/.well-known/oauth-authorization-server"
)

// IssuerOptions configures an Issuer. The zero value is usable but has no
// clients, so the token endpoint refuses everyone (Mint still works).
type IssuerOptions struct {
	// Clients maps client_id to client secret for the client-credentials grant.
	Clients map[string]harness.Secret
	// Audience is the aud claim of issued tokens; default DefaultAudience.
	Audience string
	// TTL is the access-token lifetime; default DefaultTTL.
	TTL time.Duration
	// Now is the issuer's clock (iat, nbf, exp); default time.Now.
	Now func() time.Time
	// Scopes are the scopes a client may request; empty allows any scope.
	// When a request names none, all of them are granted.
	Scopes []string
	// Key signs access tokens; nil generates an RSA 2048 key. Injecting one
	// lets tests share a key and skip the slow generation.
	Key *rsa.PrivateKey
	// ForeignKey signs TokenUnknownKey and TokenUnknownKid tokens; nil
	// generates one on first use. It must not be Key.
	ForeignKey *rsa.PrivateKey
	// URL is the issuer's public base URL, used as iss and to build the
	// endpoint URLs. Leave it empty to use the issuer's own listener; set it
	// when Handler() is mounted on another server.
	URL string
}

// Issuer is an OAuth2 authorisation server on loopback: client-credentials
// token endpoint, JWKS and RFC 8414 metadata, RS256 JWT access tokens, and
// bad tokens on demand (Mint).
//
// Create it with NewIssuer, or NewUnstartedIssuer then Start/StartTLS; the
// caller must Close it. All methods are safe for concurrent use once started.
type Issuer struct {
	opts    IssuerOptions
	srv     *httptest.Server
	handler http.Handler

	mu   sync.RWMutex
	keys []*signingKey // published in the JWKS; the last one signs

	foreignOnce sync.Once
	foreign     *signingKey
	foreignErr  error

	issued       atomic.Int64
	jwksRequests atomic.Int64

	recMu    sync.Mutex
	requests []TokenRequest
}

// signingKey is one RSA key with its kid and ready-made RS256 signer.
type signingKey struct {
	priv   *rsa.PrivateKey
	kid    string
	signer jose.Signer
}

// NewIssuer starts an Issuer on 127.0.0.1, port 0.
func NewIssuer(opts IssuerOptions) (*Issuer, error) {
	i, err := NewUnstartedIssuer(opts)
	if err != nil {
		return nil, err
	}
	i.Start()
	return i, nil
}

// NewUnstartedIssuer builds an Issuer listening on loopback but not yet
// serving, so the caller can choose Start or StartTLS, or only use Handler()
// on its own server (Close still releases the listener).
func NewUnstartedIssuer(opts IssuerOptions) (*Issuer, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	opts.Clients = cloneClients(opts.Clients)
	opts.Scopes = append([]string(nil), opts.Scopes...)
	opts.URL = strings.TrimSuffix(opts.URL, "/")
	if opts.Audience == "" {
		opts.Audience = DefaultAudience
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	key, err := newSigningKey(opts.Key)
	if err != nil {
		return nil, fmt.Errorf("oauth: IssuerOptions.Key: %w", err)
	}
	l, err := localListener()
	if err != nil {
		return nil, fmt.Errorf("oauth: issuer listen: %w", err)
	}
	i := &Issuer{opts: opts, keys: []*signingKey{key}}
	mux := http.NewServeMux()
	mux.HandleFunc(TokenPath, i.serveToken)
	mux.HandleFunc(JWKSPath, i.serveJWKS)
	mux.HandleFunc(MetadataPath, i.serveMetadata)
	i.handler = mux
	i.srv = &httptest.Server{
		Listener: l,
		Config:   &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
	}
	return i, nil
}

func (o IssuerOptions) validate() error {
	var errs []error
	for id, secret := range o.Clients {
		if id == "" {
			errs = append(errs, errors.New("oauth: IssuerOptions.Clients: empty client_id"))
		}
		if !secret.IsSet() {
			errs = append(errs, fmt.Errorf("oauth: IssuerOptions.Clients[%q]: empty secret", id))
		}
	}
	if o.TTL < 0 {
		errs = append(errs, fmt.Errorf("oauth: IssuerOptions.TTL: %v is negative", o.TTL))
	}
	if o.Key != nil && o.ForeignKey != nil && o.Key.Equal(o.ForeignKey) {
		errs = append(errs, errors.New("oauth: IssuerOptions.ForeignKey: must differ from Key"))
	}
	if o.ForeignKey != nil {
		if err := checkRSAKey(o.ForeignKey); err != nil {
			errs = append(errs, fmt.Errorf("oauth: IssuerOptions.ForeignKey: %w", err))
		}
	}
	return errors.Join(errs...)
}

func cloneClients(in map[string]harness.Secret) map[string]harness.Secret {
	out := make(map[string]harness.Secret, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// localListener mirrors httptest: IPv4 loopback, else IPv6 loopback.
func localListener() (net.Listener, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err == nil {
		return l, nil
	}
	l, err6 := net.Listen("tcp6", "[::1]:0")
	if err6 == nil {
		return l, nil
	}
	return nil, errors.Join(err, err6)
}

func checkRSAKey(k *rsa.PrivateKey) error {
	if k.N == nil || k.N.BitLen() < rsaBits {
		return fmt.Errorf("RSA key must have at least %d bits", rsaBits)
	}
	if err := k.Validate(); err != nil {
		return fmt.Errorf("invalid RSA key: %w", err)
	}
	return nil
}

// newSigningKey wraps k (or a fresh key when k is nil) with its kid, the
// RFC 7638 thumbprint, so the same key always gets the same kid.
func newSigningKey(k *rsa.PrivateKey) (*signingKey, error) {
	if k == nil {
		var err error
		if k, err = rsa.GenerateKey(rand.Reader, rsaBits); err != nil {
			return nil, fmt.Errorf("generate RSA key: %w", err)
		}
	} else if err := checkRSAKey(k); err != nil {
		return nil, err
	}
	jwk := jose.JSONWebKey{Key: &k.PublicKey}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("key thumbprint: %w", err)
	}
	return newSigningKeyWithKid(k, base64.RawURLEncoding.EncodeToString(tp))
}

func newSigningKeyWithKid(k *rsa.PrivateKey, kid string) (*signingKey, error) {
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("at+jwt"),
	)
	if err != nil {
		return nil, fmt.Errorf("RS256 signer: %w", err)
	}
	return &signingKey{priv: k, kid: kid, signer: signer}, nil
}

// Start serves plain HTTP. It panics if the issuer was already started, as
// httptest.Server does: that is a programming error.
func (i *Issuer) Start() { i.srv.Start() }

// StartTLS serves HTTPS with httptest's self-signed certificate; use
// Client() to talk to it.
func (i *Issuer) StartTLS() { i.srv.StartTLS() }

// Client returns an HTTP client that trusts the issuer's TLS certificate
// (after StartTLS) and whose idle connections Close cleans up.
func (i *Issuer) Client() *http.Client { return i.srv.Client() }

// Close stops the server and blocks until in-flight requests have finished.
func (i *Issuer) Close() { i.srv.Close() }

// Handler returns the issuer's routes (TokenPath, JWKSPath, MetadataPath),
// for mounting on another server; set IssuerOptions.URL to where it is
// reachable so iss and the endpoint URLs are right.
func (i *Issuer) Handler() http.Handler { return i.handler }

// URL is the base URL of the issuer without a trailing slash, and the iss
// claim of its tokens. It is empty until Start unless IssuerOptions.URL is set.
func (i *Issuer) URL() string {
	if i.opts.URL != "" {
		return i.opts.URL
	}
	return i.srv.URL
}

// TokenURL is the token endpoint, URL()+TokenPath.
func (i *Issuer) TokenURL() string { return i.URL() + TokenPath }

// JWKSURL is the key set endpoint, URL()+JWKSPath.
func (i *Issuer) JWKSURL() string { return i.URL() + JWKSPath }

// Audience is the aud claim of valid tokens.
func (i *Issuer) Audience() string { return i.opts.Audience }

// Issued counts the access tokens the token endpoint has issued (Mint does
// not count), so tests can tell that a client refreshed its token.
func (i *Issuer) Issued() int { return int(i.issued.Load()) }

// JWKSRequests counts requests served by the JWKS endpoint, so tests can
// check that a verifier caches keys.
func (i *Issuer) JWKSRequests() int { return int(i.jwksRequests.Load()) }

// RotateKey makes key (or a freshly generated one when nil) the signing key.
// Earlier keys stay in the JWKS, so tokens issued before the rotation keep
// verifying, as with a real issuer's overlap period. It returns the new kid.
func (i *Issuer) RotateKey(key *rsa.PrivateKey) (string, error) {
	k, err := newSigningKey(key)
	if err != nil {
		return "", fmt.Errorf("oauth: rotate key: %w", err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, old := range i.keys {
		if old.kid == k.kid {
			return "", errors.New("oauth: rotate key: key is already published")
		}
	}
	i.keys = append(i.keys, k)
	return k.kid, nil
}

// KeyID is the kid of the current signing key.
func (i *Issuer) KeyID() string { return i.current().kid }

func (i *Issuer) current() *signingKey {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.keys[len(i.keys)-1]
}

// JWKS returns the published key set: public halves only.
func (i *Issuer) JWKS() jose.JSONWebKeySet {
	i.mu.RLock()
	defer i.mu.RUnlock()
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(i.keys))}
	for _, k := range i.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{
			Key:       &k.priv.PublicKey,
			KeyID:     k.kid,
			Algorithm: string(jose.RS256),
			Use:       "sig",
		})
	}
	return set
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeOAuthError(w, &tokenError{status: http.StatusMethodNotAllowed, code: "invalid_request", description: "use GET"})
		return
	}
	i.jwksRequests.Add(1)
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, i.JWKS())
}

// serveMetadata answers RFC 8414 discovery, so generic clients can find the
// token endpoint and keys from the issuer URL alone.
func (i *Issuer) serveMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeOAuthError(w, &tokenError{status: http.StatusMethodNotAllowed, code: "invalid_request", description: "use GET"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                i.URL(),
		"token_endpoint":                        i.TokenURL(),
		"jwks_uri":                              i.JWKSURL(),
		"grant_types_supported":                 []string{"client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                      i.opts.Scopes,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
