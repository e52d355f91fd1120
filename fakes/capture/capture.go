// Package capture is hookproof's capture server: it acknowledges every
// delivery, records it with credentials redacted, and validates its body
// against the RiskOS event catalogue, so a team can see exactly what a real
// RiskOS (or their own sender) puts on the wire.
package capture

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// Options configures a capture Server.
type Options struct {
	// OnCapture, if set, is called once per delivery (see Handler).
	OnCapture func(Capture)
	// MaxBody bounds each kept body (DefaultMaxBody when 0).
	MaxBody int64
}

// closeTimeout bounds how long Close waits for in-flight deliveries: a
// sender that never finishes its body must not keep the capture alive.
const closeTimeout = 5 * time.Second

// Server is a capture Handler on a real socket, with the life cycle of
// httptest.Server: NewUnstartedServer (set Addr if 127.0.0.1:0 will not
// do), then Start, which sets URL; Close blocks until in-flight deliveries
// are done.
type Server struct {
	*Handler
	// Addr is where Start listens (host:port); empty means 127.0.0.1:0.
	// Set it before Start.
	Addr string
	// URL is the base URL, http://host:port without a trailing slash, set
	// by Start to the address actually bound.
	URL string

	mu      sync.Mutex
	srv     *http.Server
	wg      sync.WaitGroup
	started bool
}

// NewServer is NewUnstartedServer then Start on 127.0.0.1, a free port.
func NewServer(opts Options) (*Server, error) {
	s, err := NewUnstartedServer(opts)
	if err != nil {
		return nil, err
	}
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// NewUnstartedServer validates opts; nothing listens until Start.
func NewUnstartedServer(opts Options) (*Server, error) {
	if opts.MaxBody < 0 {
		return nil, fmt.Errorf("capture: Options.MaxBody: %d is negative", opts.MaxBody)
	}
	h := &Handler{OnCapture: opts.OnCapture, MaxBody: opts.MaxBody}
	return &Server{Handler: h, srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}, nil
}

// Start listens on Addr and serves.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("capture: Start of a server already started")
	}
	addr := s.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("capture: listen on %s: %w", addr, err)
	}
	s.started, s.URL = true, "http://"+ln.Addr().String()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.srv.Serve(ln)
	}()
	return nil
}

// Close stops accepting and waits for in-flight deliveries (at most
// closeTimeout, then cuts them) and for the serve goroutine. It is
// idempotent, and safe on a server never started.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	s.wg.Wait()
}
