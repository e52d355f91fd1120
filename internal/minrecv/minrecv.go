// Package minrecv is the minimal webhook receiver the load benchmarks run
// against: it reads the body and answers 200, so what is measured is the
// load generator, not the receiver.
package minrecv

import (
	"io"
	"net/http"
)

// Handler answers POST with 200 "OK" after reading the whole body, and any
// other method with 405.
func Handler() http.Handler {
	ok := []byte("OK")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(ok)
	})
}
