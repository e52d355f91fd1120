package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
)

// headerBytes is the request header's size as a proxy counts it: each
// field line with its ": " and CRLF, the Host line included.
func headerBytes(r *http.Request) int {
	n := len("Host: \r\n") + len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// oversizedBody is the 431's body.
const oversizedBody = `{"error":"request header fields too large"}` + "\n"

// dropOversized answers 431 and closes the connection without saying so
// (no Connection: close), so a client that pools the connection finds it
// dead on its next request. On HTTP/1 it takes the connection over to write
// the answer itself, since net/http would announce the close; on HTTP/2 it
// closes the connection the request came on (see ConnContext), which ends
// every other stream on it too.
func (rx *Receiver) dropOversized(w http.ResponseWriter, r *http.Request) {
	// Reading the (small, bounded) body first lets the close be a clean FIN
	// after the answer, rather than a reset that could destroy the answer
	// before the client reads it.
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, rx.opts.MaxBody))
	if hj, ok := w.(http.Hijacker); ok && r.ProtoMajor == 1 {
		conn, buf, err := hj.Hijack()
		if err == nil {
			_, _ = fmt.Fprintf(buf, "HTTP/1.1 431 Request Header Fields Too Large\r\n"+
				"Content-Type: application/json\r\nX-Content-Type-Options: nosniff\r\nContent-Length: %d\r\n\r\n%s",
				len(oversizedBody), oversizedBody)
			_ = buf.Flush()
			_ = conn.Close()
			return
		}
	}
	writeError(w, http.StatusRequestHeaderFieldsTooLarge, "request header fields too large")
	if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
		_ = http.NewResponseController(w).Flush()
		_ = c.Close()
	}
}

type connKey struct{}

// ConnContext records the connection of each request, so that the 431-drop
// variant can close it under HTTP/2, where a handler cannot hijack. Set it
// as the http.Server's ConnContext.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// strictStatuses is the enum of data.status as the RiskOS API schema
// spells it; the documentation also writes ON HOLD, which a strict schema
// refuses.
var strictStatuses = []string{"OPEN", "ON_HOLD", "CLOSED"}

// strictStatus is the strict-variants schema: a data.status, if present,
// must be exactly one of strictStatuses. It returns the reason to reject.
func strictStatus(data json.RawMessage) string {
	if data == nil {
		return ""
	}
	var d struct {
		Status *json.RawMessage `json:"status"`
	}
	if err := json.Unmarshal(data, &d); err != nil || d.Status == nil {
		return ""
	}
	var s string
	if json.Unmarshal(*d.Status, &s) != nil || !slices.Contains(strictStatuses, s) {
		return "data.status must be one of OPEN, ON_HOLD, CLOSED"
	}
	return ""
}
