package load

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// An endless 2xx body is read no further than maxResponseBytes.
func TestTapCapsResponseBodies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 32<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c := &http.Client{Transport: &tap{base: http.DefaultTransport, onFail: func(Failure) {}}}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n != maxResponseBytes {
		t.Errorf("read %d bytes (err %v); want %d", n, err, maxResponseBytes)
	}
}
