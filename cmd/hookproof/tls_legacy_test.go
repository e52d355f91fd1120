package main

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookproof/hookproof/reports"
)

// An endpoint that still accepts TLS 1.0/1.1 fails TLS-01 even though a
// modern client negotiates TLS 1.3 with it.
func TestTLS01RefusesEndpointsThatAcceptTLS11(t *testing.T) {
	_, leaf, caFile := testCA(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS10}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	rep, out, _ := certifyHostile(t, srv.URL+"/hook", "--ca-cert", caFile, "--label-filter", "req:TLS-01")
	r := requirement(t, rep, "TLS-01")
	if r.Status != reports.StatusFailed || !strings.Contains(r.Reason, "TLS 1.0/1.1 must be refused") {
		t.Errorf("TLS-01 is %s (%s); want failed for accepting TLS 1.1\n%s", r.Status, r.Reason, out)
	}
}
