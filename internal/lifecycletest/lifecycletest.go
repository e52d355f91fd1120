// Package lifecycletest checks the life cycle the fakes share with
// httptest.Server: an unstarted server listens on nothing, Start listens on
// Addr (default 127.0.0.1:0), reports a taken address as an error naming it,
// and sets URL to the address actually bound; a second Start is an error.
package lifecycletest

import (
	"net"
	"strings"
	"testing"
)

// Server is the view of an unstarted fake the check needs: the fakes expose
// Addr and URL as fields, so the caller wraps them.
type Server struct {
	// Start sets the server's Addr to addr, then calls its Start.
	Start func(addr string) error
	// URL reads the server's URL field.
	URL func() string
}

// Check runs the life-cycle checks on s, which must not be started yet. On
// return s is started on a free loopback port; the caller closes it.
func Check(t *testing.T, s Server) {
	t.Helper()
	if u := s.URL(); u != "" {
		t.Errorf("URL before Start = %q; want empty (nothing listens yet)", u)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	if err := s.Start(addr); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Start on a taken Addr = %v; want an error naming %s", err, addr)
	}
	if err := s.Start(""); err != nil {
		t.Fatalf("Start on the default Addr: %v", err)
	}
	u := s.URL()
	if !strings.HasPrefix(u, "http://127.0.0.1:") || strings.HasSuffix(u, "/") || strings.HasSuffix(u, ":0") {
		t.Errorf("URL = %q; want http://127.0.0.1:PORT, the bound port, no trailing slash", u)
	}
	if err := s.Start(""); err == nil {
		t.Error("second Start succeeded; want an error")
	}
}
