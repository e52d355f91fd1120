package receiver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server timeouts: generous for any honest sender, finite for a slowloris.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = time.Minute
	idleTimeout       = time.Minute
	shutdownTimeout   = 30 * time.Second
)

// Server is a Receiver on a real socket, with the life cycle of
// httptest.Server: NewUnstartedServer (set Addr if 127.0.0.1:0 will not
// do), then Start or StartTLS, which sets URL; Close blocks until in-flight
// requests are done. Restart replaces the receiver on the same address, as
// a process restart would.
type Server struct {
	// Addr is where Start listens (host:port); empty means 127.0.0.1:0.
	// Set it before Start.
	Addr string
	// URL is the base URL, scheme://host:port without a trailing slash,
	// set by Start to the address actually bound.
	URL string

	opts Options

	mu       sync.Mutex
	bound    string // host:port of the first listener; Restart reuses it
	listener net.Listener
	srv      *http.Server
	rx       *Receiver
	eff      *effects
	cert     *tls.Certificate
	started  bool
	closed   bool
}

// NewServer is NewUnstartedServer then Start: plain HTTP on 127.0.0.1, a
// free port.
func NewServer(opts Options) (*Server, error) {
	s, err := NewUnstartedServer(opts)
	if err != nil {
		return nil, err
	}
	if err := s.Start(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// NewUnstartedServer validates opts and builds the receiver (opening its
// state and effects files) but does not listen until Start or StartTLS.
// Close releases it either way.
func NewUnstartedServer(opts Options) (*Server, error) {
	// The server, not the receiver, owns the effects: they outlive Restart.
	eff, err := newEffects(opts.EffectsFile)
	if err != nil {
		return nil, err
	}
	rx, err := newReceiver(opts, eff)
	if err != nil {
		_ = eff.close()
		return nil, err
	}
	return &Server{opts: opts, rx: rx, eff: eff}, nil
}

// Start listens on Addr and serves plain HTTP.
func (s *Server) Start() error { return s.start(nil) }

// StartTLS listens on Addr and serves HTTPS with cert (TLS 1.2 or later,
// HTTP/2 offered).
func (s *Server) StartTLS(cert tls.Certificate) error { return s.start(&cert) }

func (s *Server) start(cert *tls.Certificate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return errors.New("receiver: Start of a server already started or closed")
	}
	addr := s.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("receiver: listen on %s: %w", addr, err)
	}
	s.started, s.cert, s.listener, s.bound = true, cert, l, l.Addr().String()
	scheme := "http"
	if cert != nil {
		scheme = "https"
	}
	s.URL = scheme + "://" + s.bound
	s.serve()
	s.rx.log.Info("receiver listening", "webhook_url", s.URL+s.rx.opts.Path, "effects_url", s.URL+EffectsPath,
		"auth", string(s.rx.opts.Auth.Type), "faults", fmt.Sprint(s.rx.opts.Faults))
	return nil
}

// serve starts serving s.listener with s.rx; s.mu must be held.
func (s *Server) serve() {
	s.srv = newHTTPServer(s.rx, s.cert)
	srv, l := s.srv, s.listener
	if s.cert != nil {
		l = tls.NewListener(l, srv.TLSConfig)
	}
	go func() { _ = srv.Serve(l) }()
}

func newHTTPServer(rx *Receiver, cert *tls.Certificate) *http.Server {
	srv := &http.Server{
		Handler: rx,
		// net/http logs every aborted TLS handshake (a port probe, a client
		// that gave up); that is the receiver's debug output, not the
		// terminal's.
		ErrorLog:          slog.NewLogLogger(rx.opts.Logger.Handler(), slog.LevelDebug),
		ConnContext:       ConnContext,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
	}
	if cert != nil {
		srv.TLSConfig = &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{*cert},
			NextProtos:   []string{"h2", "http/1.1"},
		}
	}
	return srv
}

// WebhookURL is where deliveries go (after Start).
func (s *Server) WebhookURL() string { return s.URL + s.Receiver().opts.Path }

// EffectsURL is the effects probe, GET ?event_id=ID (after Start).
func (s *Server) EffectsURL() string { return s.URL + EffectsPath }

// Receiver returns the current receiver (a new one after Restart).
func (s *Server) Receiver() *Receiver {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rx
}

// Close stops listening, waits for in-flight requests to finish (at most
// shutdownTimeout, then cuts them), and closes the receiver, which drains
// its queue. It is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.stop()
	if err := s.eff.close(); err != nil {
		s.rx.log.Error("closing effects file", "err", err)
	}
}

// stop shuts the current generation down; s.mu must be held.
func (s *Server) stop() {
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		if err := s.srv.Shutdown(ctx); err != nil {
			_ = s.srv.Close()
		}
		cancel()
		s.srv = nil
	}
	s.rx.Close()
}

// Restart closes the receiver as Close does, then starts a new one with the
// same options on the same address. With a StateFile the new receiver
// remembers the event_ids the old one accepted (unless the fault
// forget-on-restart is on); the effects counts carry over either way, as
// business side effects outlive a process.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || !s.started {
		return errors.New("receiver: restart of a server that is not running")
	}
	s.stop()
	rx, err := newReceiver(s.opts, s.eff)
	if err != nil {
		s.closed = true
		return err
	}
	s.rx = rx
	l, err := net.Listen("tcp", s.bound)
	if err != nil {
		s.closed = true
		rx.Close()
		return fmt.Errorf("receiver: listen again on %s: %w", s.bound, err)
	}
	s.listener = l
	s.serve()
	return nil
}
