package scenarios

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hookproof/hookproof/reports"
)

func describeTLS(env *Env) {
	Describe("Transport security", func() {
		// TLS-01: the endpoint SHOULD (MUST in production) be HTTPS with a valid chain for its host and TLS ≥ 1.2.
		It("is served over HTTPS with a valid certificate chain and TLS 1.2 or later", Checks("TLS-01"), func(ctx SpecContext) {
			u, err := url.Parse(env.Config.Target)
			Expect(err).NotTo(HaveOccurred())
			Expect(u.Scheme).To(Equal("https"), "the target %s is plain HTTP: credentials and events cross the network unencrypted", u.Redacted())
			state, err := handshake(ctx, u, env.Config.TLS.CACert)
			Expect(err).NotTo(HaveOccurred(), "verifying the TLS chain of %s for host %s (independently of --insecure-skip-verify)", u.Host, u.Hostname())
			record(reports.Evidence{Summary: fmt.Sprintf("TLS %s, cipher %s, certificate for %v issued by %s, valid until %s",
				tls.VersionName(state.Version), tls.CipherSuiteName(state.CipherSuite), state.PeerCertificates[0].DNSNames,
				state.PeerCertificates[0].Issuer.CommonName, state.PeerCertificates[0].NotAfter.Format(time.DateOnly))})
			Expect(state.Version).To(BeNumerically(">=", tls.VersionTLS12), "negotiated %s", tls.VersionName(state.Version))
			By("offering only TLS 1.0 and 1.1")
			legacy, err := handshakeUpTo(ctx, u, env.Config.TLS.CACert, tls.VersionTLS11)
			if err == nil {
				Fail(fmt.Sprintf("the endpoint accepts %s when a client offers nothing newer: TLS 1.0/1.1 must be refused", tls.VersionName(legacy.Version)))
			}
			note("a handshake offering only TLS 1.0/1.1 was refused: %v", err)
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// TLS-02: plain HTTP SHOULD NOT be served on the production endpoint.
		It("does not serve the webhook over plain HTTP", Checks("TLS-02"), func(ctx SpecContext) {
			u, err := url.Parse(env.Config.Target)
			Expect(err).NotTo(HaveOccurred())
			Expect(u.Scheme).To(Equal("https"), "the target itself is plain HTTP")
			plain := *u
			plain.Scheme = "http"
			// No credentials and no event: only whether plaintext is served.
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, plain.String(), nil)
			Expect(err).NotTo(HaveOccurred())
			client := &http.Client{Timeout: env.Config.Timeouts.Dial + 5*time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Do(req)
			if err != nil {
				record(reports.Evidence{Summary: "GET " + plain.Redacted() + " failed: plain HTTP is not served", Error: err.Error()})
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			ev := reports.Evidence{Summary: "GET " + plain.Redacted(), Status: resp.StatusCode, Expected: "no plaintext service, or a redirect to https"}
			record(ev)
			loc, _ := resp.Location()
			switch {
			case strings.Contains(string(body), "HTTP request to an HTTPS server"):
				return // a TLS listener refusing plaintext
			case resp.StatusCode == http.StatusBadRequest && u.Port() != "":
				// The explicit port is the TLS port: nginx, Envoy and others
				// answer plaintext on it with 400, each in its own words.
				return
			case resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != nil && loc.Scheme == "https":
				return // redirecting to HTTPS is the accepted practice
			}
			Fail(fmt.Sprintf("%s answered %d over plain HTTP", plain.Redacted(), resp.StatusCode))
		}, SpecTimeout(env.Config.Timeouts.Spec))
	})
}

// handshake verifies the target's chain for its host name with the system
// roots plus --ca-cert, whatever --insecure-skip-verify says: TLS-01 judges
// the certificate, not hookproof's delivery settings.
func handshake(ctx context.Context, u *url.URL, caFile string) (tls.ConnectionState, error) {
	return handshakeUpTo(ctx, u, caFile, 0)
}

// handshakeUpTo is handshake offering versions up to maxVersion (0: all).
func handshakeUpTo(ctx context.Context, u *url.URL, caFile string, maxVersion uint16) (tls.ConnectionState, error) {
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return tls.ConnectionState{}, fmt.Errorf("--ca-cert: %w", err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return tls.ConnectionState{}, errors.New("--ca-cert: no PEM certificates found")
		}
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "443")
	}
	d := tls.Dialer{Config: &tls.Config{RootCAs: roots, ServerName: u.Hostname(), MinVersion: tls.VersionTLS10, MaxVersion: maxVersion}}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState(), nil
}
