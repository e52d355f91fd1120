package harness

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, generated per test so no private key is ever committed.
type testPKI struct {
	caPool     *x509.CertPool
	server     tls.Certificate
	caFile     string // PEM of the CA certificate
	clientCert string // PEM files of the client certificate and key
	clientKey  string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hookproof test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	p := &testPKI{caPool: x509.NewCertPool()}
	p.caPool.AddCert(ca)
	srvDER, srvKey := issue(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := issue(3, "riskos-client", x509.ExtKeyUsageClientAuth, nil)

	p.caFile = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)
	p.clientCert = writePEM(t, dir, "client.pem", "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	p.clientKey = writePEM(t, dir, "client-key.pem", "EC PRIVATE KEY", keyDER)
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startTLS starts an HTTP/2-capable TLS server on loopback that answers
// with the protocol and client certificate it saw.
func (p *testPKI) startTLS(t *testing.T, requireClientCert bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cn := "-"
		if len(r.TLS.PeerCertificates) > 0 {
			cn = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		io.WriteString(w, r.Proto+" "+cn)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are expected
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.server}}
	if requireClientCert {
		srv.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		srv.TLS.ClientCAs = p.caPool
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func testConfig(tlsCfg TLSConfig) Config {
	cfg := DefaultConfig()
	cfg.TLS = tlsCfg
	cfg.Timeouts.Dial = 2 * time.Second
	cfg.Timeouts.TLSHandshake = 2 * time.Second
	cfg.Timeouts.ResponseHeader = 5 * time.Second
	return cfg
}

// get sends one GET with a bounded context and returns the body.
func get(t *testing.T, c *http.Client, url string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestTransportTLS(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	plain := pki.startTLS(t, false)
	mtls := pki.startTLS(t, true)

	for _, tc := range []struct {
		name    string
		tls     TLSConfig
		url     string
		want    string // body; "" means the request must fail
		wantErr func(error) bool
	}{
		// A custom CA is trusted, and HTTP/2 still negotiated through ALPN
		// although TLSClientConfig is set.
		{name: "custom CA, HTTP/2", tls: TLSConfig{CACert: pki.caFile}, url: plain.URL, want: "HTTP/2.0 -"},
		{name: "unknown CA rejected", url: plain.URL, wantErr: func(err error) bool {
			var ua x509.UnknownAuthorityError
			return errors.As(err, &ua)
		}},
		{name: "insecure skip verify", tls: TLSConfig{InsecureSkipVerify: true}, url: plain.URL, want: "HTTP/2.0 -"},
		{name: "mTLS with client cert", tls: TLSConfig{CACert: pki.caFile, ClientCert: pki.clientCert, ClientKey: pki.clientKey},
			url: mtls.URL, want: "HTTP/2.0 riskos-client"},
		{name: "mTLS without client cert rejected", tls: TLSConfig{CACert: pki.caFile}, url: mtls.URL, wantErr: func(err error) bool {
			// TLS 1.3 delivers the server's refusal after the client's
			// handshake has completed, so it surfaces as "certificate
			// required" or as HTTP/2 failing to set up the connection,
			// depending on timing. Either way the server was trusted.
			var ua x509.UnknownAuthorityError
			return !errors.As(err, &ua)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(testConfig(tc.tls))
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			t.Cleanup(c.CloseIdleConnections)
			body, err := get(t, c, tc.url)
			if tc.want != "" {
				if err != nil || body != tc.want {
					t.Fatalf("GET = %q, %v; want %q", body, err, tc.want)
				}
				return
			}
			if err == nil || !tc.wantErr(err) {
				t.Fatalf("GET = %q, %v; want a TLS rejection", body, err)
			}
		})
	}
}

func TestNewTLSConfigErrors(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := os.ReadFile(pki.clientKey)
	for _, tc := range []struct {
		name string
		tls  TLSConfig
		want string
	}{
		{"missing CA file", TLSConfig{CACert: filepath.Join(t.TempDir(), "nope.pem")}, "tls.ca_cert (--ca-cert): "},
		{"CA file without PEM", TLSConfig{CACert: notPEM}, "tls.ca_cert (--ca-cert): " + notPEM + " holds no PEM certificate"},
		{"cert without key", TLSConfig{ClientCert: pki.clientCert}, "--client-cert, --client-key): give both"},
		{"key that is not a key", TLSConfig{ClientCert: pki.clientCert, ClientKey: notPEM}, "(--client-cert, --client-key): "},
		// Swapped files: the error must not quote the key it read.
		{"cert and key swapped", TLSConfig{ClientCert: pki.clientKey, ClientKey: pki.clientCert}, "(--client-cert, --client-key): "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewTransport(testConfig(tc.tls))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewTransport() error = %v; want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), string(keyPEM[40:80])) {
				t.Errorf("NewTransport() error quotes key material: %v", err)
			}
		})
	}
}

func TestNewTransportSettings(t *testing.T) {
	t.Parallel()
	cfg := testConfig(TLSConfig{})
	tr, err := NewTransport(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Proxy != nil || !tr.ForceAttemptHTTP2 || !tr.DisableCompression {
		t.Errorf("Proxy nil, ForceAttemptHTTP2, DisableCompression = %v, %v, %v; want true, true, true",
			tr.Proxy == nil, tr.ForceAttemptHTTP2, tr.DisableCompression)
	}
	if tr.TLSHandshakeTimeout != cfg.Timeouts.TLSHandshake || tr.ResponseHeaderTimeout != cfg.Timeouts.ResponseHeader {
		t.Errorf("timeouts = %s, %s; want %s, %s", tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout,
			cfg.Timeouts.TLSHandshake, cfg.Timeouts.ResponseHeader)
	}
	if tr.MaxIdleConnsPerHost != MaxIdleConns || tr.DisableKeepAlives {
		t.Errorf("MaxIdleConnsPerHost = %d, DisableKeepAlives = %v; want %d, false", tr.MaxIdleConnsPerHost, tr.DisableKeepAlives, MaxIdleConns)
	}
	if tr.TLSClientConfig.MinVersion != tls.VersionTLS12 {
		t.Errorf("TLS MinVersion = %x; want TLS 1.2", tr.TLSClientConfig.MinVersion)
	}
}

// countingServer counts requests and new connections.
type countingServer struct {
	*httptest.Server
	requests, conns atomic.Int64
}

func startCounting(t *testing.T, h func(s *countingServer, w http.ResponseWriter, r *http.Request)) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		h(s, w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func TestClientReusesConnectionsAndFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	elsewhere := startCounting(t, func(_ *countingServer, w http.ResponseWriter, _ *http.Request) {})
	srv := startCounting(t, func(_ *countingServer, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, elsewhere.URL+"/steal", http.StatusFound)
			return
		}
		io.WriteString(w, "ok")
	})
	c, err := NewClient(testConfig(TLSConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	for range 5 {
		if body, err := get(t, c, srv.URL+"/hook"); err != nil || body != "ok" {
			t.Fatalf("GET = %q, %v", body, err)
		}
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("connections for 5 sequential requests = %d; want 1 (keep-alive reuse)", n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/redirect", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer secret-token")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || elsewhere.requests.Load() != 0 {
		t.Errorf("redirect: status %d, requests at the Location %d; want 302 returned and 0", resp.StatusCode, elsewhere.requests.Load())
	}
}

// TestNoSilentResend proves that one Do sends a webhook POST at most once,
// even when the server reads it on a reused keep-alive connection and then
// drops the connection without answering: the case where net/http may
// replay a request it considers idempotent.
func TestNoSilentResend(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		header string // an idempotency header on the delivery, if any
		bare   bool   // a bare http.Client over NewTransport, without NoReplay
		want   int64  // requests the server sees for the two Do calls
	}{
		{name: "plain delivery", want: 2},
		{name: "Idempotency-Key", header: "Idempotency-Key", want: 2},
		{name: "X-Idempotency-Key", header: "X-Idempotency-Key", want: 2},
		// The hazard NoReplay exists for: net/http itself re-sends a POST
		// with an idempotency header. If this starts failing, net/http has
		// changed and the NewClient comment needs revisiting.
		{name: "net/http alone replays Idempotency-Key", header: "Idempotency-Key", bare: true, want: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startCounting(t, func(s *countingServer, w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body) // the receiver has the delivery...
				if s.requests.Load() == 1 {
					io.WriteString(w, "ok")
					return
				}
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					conn.Close() // ...and the connection dies before the ack
				}
			})
			cfg := testConfig(TLSConfig{})
			var c *http.Client
			if tc.bare {
				tr, err := NewTransport(cfg)
				if err != nil {
					t.Fatal(err)
				}
				c = &http.Client{Transport: tr}
			} else {
				var err error
				if c, err = NewClient(cfg); err != nil {
					t.Fatal(err)
				}
			}
			t.Cleanup(c.CloseIdleConnections)

			post := func() (*http.Request, error) {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				t.Cleanup(cancel)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/hook",
					bytes.NewReader([]byte(`{"event_id":"e1","event_type":"evaluation_completed"}`)))
				req.Header.Set("Content-Type", "application/json")
				if tc.header != "" {
					req.Header.Set(tc.header, "e1")
				}
				resp, err := c.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body) // back to the pool for reuse
					resp.Body.Close()
				}
				return req, err
			}
			if _, err := post(); err != nil {
				t.Fatalf("first POST: %v", err)
			}
			req, err := post()
			if err == nil {
				t.Fatal("second POST succeeded; want the dropped connection's error")
			}
			if got := srv.requests.Load(); got != tc.want {
				t.Errorf("requests seen by the server = %d; want %d", got, tc.want)
			}
			if srv.conns.Load() < 1 || req.GetBody == nil {
				t.Errorf("conns = %d, GetBody kept = %v: NoReplay must not modify the caller's request", srv.conns.Load(), req.GetBody != nil)
			}
		})
	}
}
