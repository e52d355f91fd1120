package receiver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/internal/lifecycletest"
)

// selfSigned returns a loopback certificate and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "hookproof test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestStartTLSServesHTTPSOnly(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)
	s, err := NewUnstartedServer(authOptions(harness.AuthBearer))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.StartTLS(cert); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.WebhookURL(), "https://127.0.0.1:") || s.EffectsURL() != s.URL+EffectsPath {
		t.Fatalf("URLs %s %s; want https on loopback", s.WebhookURL(), s.EffectsURL())
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}
	client := &http.Client{Transport: tr, Timeout: testTimeout}
	if resp, err := client.Get(s.EffectsURL() + "?event_id=x"); err == nil {
		resp.Body.Close()
		t.Error("TLS 1.1 handshake succeeded; want TLS 1.2 or later only")
	}
	tr = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	client = &http.Client{Transport: tr, Timeout: testTimeout}
	req, _ := http.NewRequest(http.MethodPost, s.WebhookURL(), strings.NewReader(string(validEvent(newID()))))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", goodAuth(s.Receiver().opts))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("HTTPS delivery: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Errorf("HTTPS delivery = %d (TLS %v); want 200 over TLS", resp.StatusCode, resp.TLS != nil)
	}
	tr.CloseIdleConnections()
}

func TestStartListensOnAddrAndSetsURL(t *testing.T) {
	t.Parallel()
	s, err := NewUnstartedServer(authOptions(harness.AuthBearer))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	lifecycletest.Check(t, lifecycletest.Server{
		Start: func(addr string) error { s.Addr = addr; return s.Start() },
		URL:   func() string { return s.URL },
	})
	if r := deliver(t, s, validEvent(newID())); r.status != http.StatusOK {
		t.Errorf("delivery to URL = %d; want 200", r.status)
	}
}

// What the cmd receiver relies on when it stops: after Close, the state
// file holds every accepted event_id.
func TestCloseLeavesTheStateFileComplete(t *testing.T) {
	t.Parallel()
	o := authOptions(harness.AuthBearer)
	o.StateFile = filepath.Join(t.TempDir(), "seen.log")
	s, err := NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	id := newID()
	if r := deliver(t, s, validEvent(id)); r.status != http.StatusOK {
		t.Fatalf("delivery = %d; want 200", r.status)
	}
	s.Close()
	b, err := os.ReadFile(o.StateFile)
	if err != nil || !strings.Contains(string(b), id) {
		t.Errorf("state file after Close = %q, %v; want it to hold %s", b, err, id)
	}
}

func TestLogsNeverCarryCredentials(t *testing.T) {
	t.Parallel()
	var buf strings.Builder
	var mu sync.Mutex
	o := authOptions(harness.AuthBasic)
	o.Logger = slog.New(slog.NewTextHandler(lockedWriter{&buf, &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := startServer(t, o)
	id := newID()
	deliver(t, s, validEvent(id))
	send(t, s.WebhookURL(), basic("riskos:wrong-password"), "application/json", validEvent(newID()))
	probeCount(t, s, id)
	mu.Lock()
	logs := buf.String()
	mu.Unlock()
	for _, secret := range []string{"s3cr", "wrong-password", basic("riskos:wrong-password")[6:]} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains credential %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, "event_id="+id) || !strings.Contains(logs, "event_type=evaluation_completed") || !strings.Contains(logs, "event_at=2025-07-17T01:20:01Z") {
		t.Errorf("log lacks event_id, event_type or event_at:\n%s", logs)
	}
}

// lockedWriter serialises the handler's writes with the test's read.
type lockedWriter struct {
	b  *strings.Builder
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
