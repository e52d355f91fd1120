package harness

import (
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookproof/hookproof/internal/devca"
)

// An mTLS server refusing a client without a certificate answers with a TLS
// alert; the attempt must be classed tls (B-07), not "other".
func TestClassifyMissingClientCertificate(t *testing.T) {
	ca, err := devca.New("classify CA")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert},
		ClientCAs: ca.Pool(), ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.NotFoundHandler()}
	go srv.Serve(ln)
	defer srv.Close()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}}}
	defer client.CloseIdleConnections()
	_, err = client.Post("https://"+ln.Addr().(*net.TCPAddr).String()+"/", "application/json", strings.NewReader("{}"))
	if err == nil {
		t.Fatal("request without a client certificate succeeded")
	}
	if got := ClassifyError(err); got != ErrTLS && got != ErrReset {
		t.Errorf("ClassifyError(%v) = %q; want tls (or connection_reset, when the alert is lost)", err, got)
	}
}
