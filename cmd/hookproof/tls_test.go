package main

import (
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookproof/hookproof/fakes/receiver"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/internal/devca"
	"github.com/hookproof/hookproof/reports"
)

// testCA makes a CA for one test, a server certificate for 127.0.0.1 and
// the CA's PEM file for --ca-cert.
func testCA(t *testing.T) (*devca.CA, tls.Certificate, string) {
	t.Helper()
	ca, err := devca.New("hookproof test CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return ca, leaf, caFile
}

// tlsReceiver starts the reference receiver over HTTPS with a certificate
// from a CA made for the test, and returns its webhook URL and the CA file.
func tlsReceiver(t *testing.T) (target, caFile string, ca *devca.CA) {
	t.Helper()
	ca, leaf, caFile := testCA(t)
	srv, err := receiver.NewUnstartedServer(receiver.Options{
		Auth: harness.AuthConfig{Type: harness.AuthBearer, BearerToken: harness.Secret(hostileToken)},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if err := srv.StartTLS(leaf); err != nil {
		t.Fatal(err)
	}
	return srv.WebhookURL(), caFile, ca
}

func tlsArgs(extra ...string) []string {
	return append([]string{"--label-filter", "area:ack || area:tls"}, extra...)
}

// With the test CA trusted, deliveries succeed and TLS-01/TLS-02 pass
// against the reference receiver.
func TestTLSWithCACert(t *testing.T) {
	target, caFile, _ := tlsReceiver(t)
	rep, out, code := certifyHostile(t, target, tlsArgs("--ca-cert", caFile)...)
	if code != exitOK {
		t.Fatalf("exit %d; want 0\n%s", code, out)
	}
	for _, id := range []string{"ACK-01", "TLS-01", "TLS-02"} {
		if r := requirement(t, rep, id); r.Status != reports.StatusPassed {
			t.Errorf("%s is %s (%s); want passed", id, r.Status, r.Reason)
		}
	}
	if rep.Insecure {
		t.Error("report says insecure without --insecure-skip-verify")
	}
}

// Without the CA, the chain does not verify: deliveries fail with class
// tls, and TLS-01 fails.
func TestTLSUnknownCA(t *testing.T) {
	target, _, _ := tlsReceiver(t)
	rep, out, code := certifyHostile(t, target, tlsArgs()...)
	if code != exitFailed {
		t.Fatalf("exit %d; want 1\n%s", code, out)
	}
	wantFailedWith(t, rep, "ACK-01", "tls")
	if r := requirement(t, rep, "TLS-01"); r.Status != reports.StatusFailed {
		t.Errorf("TLS-01 is %s; want failed", r.Status)
	}
}

// --insecure-skip-verify lets deliveries through, is stamped on the
// report, and does not make TLS-01 pass: TLS-01 verifies on its own.
func TestTLSInsecureSkipVerify(t *testing.T) {
	target, _, _ := tlsReceiver(t)
	rep, out, _ := certifyHostile(t, target, tlsArgs("--insecure-skip-verify")...)
	if r := requirement(t, rep, "ACK-01"); r.Status != reports.StatusPassed {
		t.Errorf("ACK-01 is %s (%s); want passed with verification off\n%s", r.Status, r.Reason, out)
	}
	if !rep.Insecure {
		t.Error("report.json does not say insecure: true")
	}
	if r := requirement(t, rep, "TLS-01"); r.Status != reports.StatusFailed {
		t.Errorf("TLS-01 is %s; want failed: it judges the chain with verification on", r.Status)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "insecure-skip-verify") {
		t.Errorf("notes do not mention --insecure-skip-verify: %q", rep.Notes)
	}
}

// A receiver requiring client certificates accepts deliveries made with
// --client-cert/--client-key and refuses them without.
func TestTLSMutual(t *testing.T) {
	ca, serverCert, _ := testCA(t)
	clientCert, err := ca.Issue("hookproof-client")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPEM, keyPEM, err := devca.KeyPairPEM(clientCert)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"ca.pem": ca.PEM(), "client.pem": certPEM, "client-key.pem": keyPEM}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			drain(r)
			w.WriteHeader(http.StatusOK)
		}),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: ca.Pool(),
			ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12},
	}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	target := "https://" + ln.Addr().String() + "/hook"
	caArg := filepath.Join(dir, "ca.pem")

	t.Run("with client certificate", func(t *testing.T) {
		rep, out, _ := certifyHostile(t, target, "--ca-cert", caArg,
			"--client-cert", filepath.Join(dir, "client.pem"), "--client-key", filepath.Join(dir, "client-key.pem"))
		if r := requirement(t, rep, "ACK-01"); r.Status != reports.StatusPassed {
			t.Errorf("ACK-01 is %s (%s); want passed\n%s", r.Status, r.Reason, out)
		}
	})
	t.Run("without", func(t *testing.T) {
		rep, out, code := certifyHostile(t, target, "--ca-cert", caArg)
		if code != exitFailed {
			t.Fatalf("exit %d; want 1\n%s", code, out)
		}
		// TLS 1.3 reports a missing client certificate after the handshake,
		// on the first read, so the class may be tls or a reset; over
		// HTTP/2 the alert can arrive while the client waits for the
		// server's SETTINGS, and net/http then reports only that the
		// connection "could not be established", dropping the cause.
		wantFailedWith(t, rep, "ACK-01", "tls", "connection_reset", "other: Post: http2: client conn could not be established")
	})
}
