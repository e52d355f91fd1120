package oauth

import (
	"cmp"
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

// Defaults for ServerOptions and VerifierOptions.
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

// ServerOptions configures a Server. The zero value is usable but has no
// clients, so the token endpoint refuses everyone (Mint still works).
type ServerOptions struct {
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
	// endpoint URLs. Leave it empty to use the server's own listener; set it
	// when Handler() is mounted on another server.
	URL string
}

// Server is an OAuth2 authorisation server (the token issuer) on a real
// socket: client-credentials token endpoint, JWKS and RFC 8414 metadata,
// RS256 JWT access tokens, and bad tokens on demand (Mint).
//
// Its life cycle is httptest.Server's: NewUnstartedServer (set Addr if
// 127.0.0.1:0 will not do), then Start or StartTLS, which sets URL; the
// caller must Close it. All methods are safe for concurrent use once started.
type Server struct {
	// Addr is where Start listens (host:port); empty means loopback, a free
	// port. Set it before Start.
	Addr string
	// URL is the base URL without a trailing slash, and the iss claim of
	// the tokens: ServerOptions.URL when set, else the address Start bound.
	URL string

	opts    ServerOptions
	srvMu   sync.Mutex
	srv     *httptest.Server // nil until Start
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

// NewServer is NewUnstartedServer then Start: plain HTTP on loopback, a
// free port.
func NewServer(opts ServerOptions) (*Server, error) {
	i, err := NewUnstartedServer(opts)
	if err != nil {
		return nil, err
	}
	if err := i.Start(); err != nil {
		return nil, err
	}
	return i, nil
}

// NewUnstartedServer validates opts and makes the signing key; nothing
// listens until Start or StartTLS, so the caller can also only use
// Handler() on a server of its own.
func NewUnstartedServer(opts ServerOptions) (*Server, error) {
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
		return nil, fmt.Errorf("oauth: ServerOptions.Key: %w", err)
	}
	i := &Server{URL: opts.URL, opts: opts, keys: []*signingKey{key}}
	mux := http.NewServeMux()
	mux.HandleFunc(TokenPath, i.serveToken)
	mux.HandleFunc(JWKSPath, i.serveJWKS)
	mux.HandleFunc(MetadataPath, i.serveMetadata)
	i.handler = mux
	return i, nil
}

func (o ServerOptions) validate() error {
	var errs []error
	for id, secret := range o.Clients {
		if id == "" {
			errs = append(errs, errors.New("oauth: ServerOptions.Clients: empty client_id"))
		}
		if !secret.IsSet() {
			errs = append(errs, fmt.Errorf("oauth: ServerOptions.Clients[%q]: empty secret", id))
		}
	}
	if o.TTL < 0 {
		errs = append(errs, fmt.Errorf("oauth: ServerOptions.TTL: %v is negative", o.TTL))
	}
	if o.Key != nil && o.ForeignKey != nil && o.Key.Equal(o.ForeignKey) {
		errs = append(errs, errors.New("oauth: ServerOptions.ForeignKey: must differ from Key"))
	}
	if o.ForeignKey != nil {
		if err := checkRSAKey(o.ForeignKey); err != nil {
			errs = append(errs, fmt.Errorf("oauth: ServerOptions.ForeignKey: %w", err))
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

// listen binds addr, or like httptest IPv4 loopback, else IPv6 loopback.
func listen(addr string) (net.Listener, error) {
	if addr != "" {
		return net.Listen("tcp", addr)
	}
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

// Start listens on Addr and serves plain HTTP.
func (i *Server) Start() error { return i.start(false) }

// StartTLS listens on Addr and serves HTTPS with httptest's self-signed
// certificate; use Client() to talk to it.
func (i *Server) StartTLS() error { return i.start(true) }

func (i *Server) start(tls bool) error {
	i.srvMu.Lock()
	defer i.srvMu.Unlock()
	if i.srv != nil {
		return errors.New("oauth: Start of a server already started")
	}
	l, err := listen(i.Addr)
	if err != nil {
		return fmt.Errorf("oauth: listen on %s: %w", cmp.Or(i.Addr, "loopback"), err)
	}
	i.srv = &httptest.Server{
		Listener: l,
		Config:   &http.Server{Handler: i.handler, ReadHeaderTimeout: 10 * time.Second},
	}
	if tls {
		i.srv.StartTLS()
	} else {
		i.srv.Start()
	}
	if i.opts.URL == "" {
		i.URL = i.srv.URL
	}
	return nil
}

// Client returns an HTTP client that trusts the server's TLS certificate
// (after StartTLS) and whose idle connections Close cleans up. Before
// Start it is a plain client.
func (i *Server) Client() *http.Client {
	i.srvMu.Lock()
	defer i.srvMu.Unlock()
	if i.srv == nil {
		return &http.Client{}
	}
	return i.srv.Client()
}

// Close stops the server and blocks until in-flight requests have
// finished. It is idempotent, and a no-op on a server never started.
func (i *Server) Close() {
	i.srvMu.Lock()
	srv := i.srv
	i.srvMu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Handler returns the issuer's routes (TokenPath, JWKSPath, MetadataPath),
// for mounting on another server; set ServerOptions.URL to where it is
// reachable so iss and the endpoint URLs are right.
func (i *Server) Handler() http.Handler { return i.handler }

// TokenURL is the token endpoint, URL+TokenPath.
func (i *Server) TokenURL() string { return i.URL + TokenPath }

// JWKSURL is the key set endpoint, URL+JWKSPath.
func (i *Server) JWKSURL() string { return i.URL + JWKSPath }

// Audience is the aud claim of valid tokens.
func (i *Server) Audience() string { return i.opts.Audience }

// Issued counts the access tokens the token endpoint has issued (Mint does
// not count), so tests can tell that a client refreshed its token.
func (i *Server) Issued() int { return int(i.issued.Load()) }

// JWKSRequests counts requests served by the JWKS endpoint, so tests can
// check that a verifier caches keys.
func (i *Server) JWKSRequests() int { return int(i.jwksRequests.Load()) }

// RotateKey makes key (or a freshly generated one when nil) the signing key.
// Earlier keys stay in the JWKS, so tokens issued before the rotation keep
// verifying, as with a real issuer's overlap period. It returns the new kid.
func (i *Server) RotateKey(key *rsa.PrivateKey) (string, error) {
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
func (i *Server) KeyID() string { return i.current().kid }

func (i *Server) current() *signingKey {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.keys[len(i.keys)-1]
}

// JWKS returns the published key set: public halves only.
func (i *Server) JWKS() jose.JSONWebKeySet {
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

func (i *Server) serveJWKS(w http.ResponseWriter, r *http.Request) {
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
func (i *Server) serveMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeOAuthError(w, &tokenError{status: http.StatusMethodNotAllowed, code: "invalid_request", description: "use GET"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                i.URL,
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
