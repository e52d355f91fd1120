// Package capture is hookproof's capture server: it acknowledges every
// delivery, records it with credentials redacted, and validates its body
// against the RiskOS event catalogue, so a team can see exactly what a real
// RiskOS (or their own sender) puts on the wire.
package capture

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// DefaultMaxBody bounds what one capture keeps; larger bodies are cut and
// reported as truncated (RiskOS bodies are far smaller).
const DefaultMaxBody = 8 << 20

// Capture is one delivery as the capture server saw it.
type Capture struct {
	Time      time.Time         `json:"time"`
	Method    string            `json:"method"`
	Path      string            `json:"path"`
	Query     string            `json:"query,omitempty"`
	Header    map[string]string `json:"header"` // credentials redacted
	Body      []byte            `json:"-"`
	Truncated bool              `json:"truncated,omitempty"`
	// Invalid is the schema verdict: nil when the body is a valid RiskOS event.
	Invalid error `json:"-"`
}

// Handler records deliveries and answers 200 to each, so a sender never
// retries into the capture. It is safe for concurrent use.
type Handler struct {
	// OnCapture, if set, is called once per delivery, in arrival order per
	// connection; it must not block for long.
	OnCapture func(Capture)
	// MaxBody bounds each kept body (DefaultMaxBody when 0).
	MaxBody int64

	mu       sync.Mutex
	captures []Capture
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	limit := h.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	c := Capture{
		Time:   time.Now().UTC(),
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  redactQuery(r.URL.Query()),
		Header: harness.RedactHeaders(r.Header),
		Body:   body,
	}
	if int64(len(body)) > limit {
		c.Body, c.Truncated = body[:limit], true
	}
	switch {
	case err != nil:
		c.Invalid = err
	case c.Truncated:
		c.Invalid = errors.New("body larger than the capture limit; not validated")
	default:
		c.Invalid = harness.ValidateEvent(c.Body)
	}
	h.mu.Lock()
	h.captures = append(h.captures, c)
	h.mu.Unlock()
	if h.OnCapture != nil {
		h.OnCapture(c)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"received": true, "valid": c.Invalid == nil})
}

// Captures returns a copy of everything recorded so far.
func (h *Handler) Captures() []Capture {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Capture(nil), h.captures...)
}

// redactQuery hides query values that look like credentials (a sender that
// puts a token in the URL must not have it printed).
func redactQuery(q map[string][]string) string {
	if len(q) == 0 {
		return ""
	}
	h := http.Header{}
	for k, vs := range q {
		for _, v := range vs {
			h.Add(k, harness.RedactHeaderValue(k, v))
		}
	}
	out := ""
	for _, k := range harness.SortedHeaderNames(harness.RedactHeaders(h)) {
		if out != "" {
			out += "&"
		}
		out += k + "=" + h.Get(k)
	}
	return out
}

// Server is a capture Handler listening on a real socket, with an
// httptest-style life cycle.
type Server struct {
	*Handler
	URL string
	srv *http.Server
	ln  net.Listener
	wg  sync.WaitGroup
}

// Listen starts a capture server on addr ("127.0.0.1:0" picks a port).
func Listen(addr string, h *Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Handler: h, ln: ln, URL: "http://" + ln.Addr().String(),
		srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.srv.Serve(ln)
	}()
	return s, nil
}

// Shutdown stops accepting and waits for in-flight deliveries, up to ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	s.wg.Wait()
	return err
}

// Close shuts the server down, waiting for in-flight deliveries.
func (s *Server) Close() { s.Shutdown(context.Background()) }
