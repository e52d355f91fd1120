package harness

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// Transport sizing. A load run keeps up to MaxIdleConns connections to the
// one target open between requests, so the connection count follows the
// concurrency rather than the request rate.
const (
	MaxIdleConns          = 256
	IdleConnTimeout       = 90 * time.Second
	TCPKeepAlive          = 30 * time.Second
	ExpectContinueTimeout = time.Second
)

// NewTLSConfig builds the client TLS configuration from the --ca-cert,
// --client-cert/--client-key and --insecure-skip-verify options. Errors
// name the option and never include key material.
//
// The CA is added to the system roots rather than replacing them: the same
// client also reaches the OAuth2 token URL, which may well have a public
// certificate while the receiver has a private one.
func NewTLSConfig(c TLSConfig) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// InsecureSkipVerify is the operator's explicit --insecure-skip-verify.
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec
	}
	if c.CACert != "" {
		pem, err := os.ReadFile(c.CACert)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_cert (--ca-cert): %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_cert (--ca-cert): %s holds no PEM certificate", c.CACert)
		}
		cfg.RootCAs = pool
	}
	if (c.ClientCert == "") != (c.ClientKey == "") {
		return nil, errors.New("tls.client_cert and tls.client_key (--client-cert, --client-key): give both or neither")
	}
	if c.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(c.ClientCert, c.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("tls.client_cert and tls.client_key (--client-cert, --client-key): %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// NewTransport returns the HTTP transport every request of a run goes
// through: deliveries, load, token fetches and the effects probe, so TLS
// options and timeouts apply everywhere.
//
//   - Proxy is nil: hookproof judges the receiver, so it must reach the
//     target directly; an HTTP(S)_PROXY inherited from a CI environment would
//     put a proxy's latency, retries and status codes into the verdict.
//   - DisableCompression: bodies are measured as sent and received, and a
//     transparently gunzipped response would hide what the receiver sent.
//   - ForceAttemptHTTP2: setting TLSClientConfig (or DialContext) turns off
//     net/http's automatic HTTP/2; this turns it back on, so an HTTP/2
//     receiver is tested over HTTP/2 as RiskOS would reach it.
//
// A transport never re-sends a webhook POST on its own; see NewClient.
func NewTransport(cfg Config) (*http.Transport, error) {
	tlsCfg, err := NewTLSConfig(cfg.TLS)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: cfg.Timeouts.Dial, KeepAlive: TCPKeepAlive}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   cfg.Timeouts.TLSHandshake,
		ResponseHeaderTimeout: cfg.Timeouts.ResponseHeader,
		ExpectContinueTimeout: ExpectContinueTimeout,
		MaxIdleConns:          MaxIdleConns,
		MaxIdleConnsPerHost:   MaxIdleConns,
		IdleConnTimeout:       IdleConnTimeout,
		ForceAttemptHTTP2:     true,
		DisableCompression:    true,
	}, nil
}

// NewClient returns the client deliveries use, over NewTransport.
//
// Redirects are never followed: a 3xx is the receiver's answer and is judged
// as such, and following it would send the credentials to wherever the
// Location points.
//
// The client has no Timeout: every attempt carries a context deadline
// (Timeouts.Attempt), which, unlike a client-wide timeout, lets the caller
// tell its own deadline from the receiver's slowness.
//
// The client never re-sends a POST behind the caller's back. net/http's
// Transport (transport.go, persistConn.shouldRetryRequest and
// Request.isReplayable, Go 1.26) retries a request that failed on a reused
// keep-alive connection in two cases: when nothing of it was written (safe:
// the receiver saw nothing), and when the request is "replayable" and the
// connection died before the first response byte. A POST with a body is
// replayable only if it has GetBody (http.NewRequest sets it for in-memory
// bodies) and an Idempotency-Key or X-Idempotency-Key header. The receiver
// may have read and processed such a request before the connection died, so
// a silent replay would be a duplicate delivery the ledger never records,
// and would corrupt IDEM and RETRY verdicts. The client therefore strips
// GetBody from requests with a body that carry either header; every other
// POST with a body is already never replayed once written. (A POST with no
// body and such a header remains replayable; deliveries always have a body.) HTTP/2 retries only on REFUSED_STREAM
// and GOAWAY-type errors, where the server promises it did not process the
// stream, and also needs GetBody once the body was sent.
func NewClient(cfg Config) (*http.Client, error) {
	t, err := NewTransport(cfg)
	if err != nil {
		return nil, err
	}
	return newClient(t), nil
}

// newClient wraps rt in the no-replay guard and the redirect policy; tests
// put httpmock's transport here.
func newClient(rt http.RoundTripper) *http.Client {
	return &http.Client{Transport: NoReplay(rt), CheckRedirect: noRedirect}
}

// noRedirect makes the client return a 3xx as the response.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// NoReplay wraps rt so that no request with a body is re-sent by the
// transport after it may have reached the server (see NewClient for why).
// The load engine wraps its transport with it when it builds its own client.
func NoReplay(rt http.RoundTripper) http.RoundTripper {
	if _, ok := rt.(noReplay); ok {
		return rt
	}
	return noReplay{base: rt}
}

// noReplay is the RoundTripper NoReplay returns.
type noReplay struct{ base http.RoundTripper }

func (n noReplay) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.GetBody == nil || !replayableByHeader(req) {
		return n.base.RoundTrip(req)
	}
	// A RoundTripper must not modify its request: send a shallow copy.
	r := *req
	r.GetBody = nil
	return n.base.RoundTrip(&r)
}

// replayableByHeader reports whether net/http would treat req as
// replayable only because of an idempotency header: a request with a body,
// a method net/http does not already consider idempotent, and the header.
// A POST with no body but the header stays replayable (GetBody is not
// consulted then), and a non-nil empty body would change its framing to
// chunked; webhook deliveries always have a body, so that case is left.
func replayableByHeader(req *http.Request) bool {
	if req.Body == nil || req.Body == http.NoBody {
		return false
	}
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return hasHeader(req.Header, "Idempotency-Key") || hasHeader(req.Header, "X-Idempotency-Key")
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// wrapped transport.
func (n noReplay) CloseIdleConnections() {
	if c, ok := n.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// hasHeader reports whether h has name at all, even with an empty value,
// which net/http counts as present.
func hasHeader(h http.Header, name string) bool {
	_, ok := h[http.CanonicalHeaderKey(name)]
	return ok
}
