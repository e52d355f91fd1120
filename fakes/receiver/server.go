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

// Server is a Receiver listening on loopback, with the life cycle of
// httptest.Server: NewUnstartedServer, then Start or StartTLS, then URL;
// Close blocks until in-flight requests are done. Restart replaces the
// receiver on the same address, as a process restart would.
type Server struct {
	opts Options

	mu       sync.Mutex
	addr     string // host:port, fixed by the first listener
	listener net.Listener
	srv      *http.Server
	rx       *Receiver
	eff      *effects
	cert     *tls.Certificate
	started  bool
	closed   bool
}

// NewServer starts a Server on 127.0.0.1 port 0.
func NewServer(opts Options) (*Server, error) {
	s, err := NewUnstartedServer(opts)
	if err != nil {
		return nil, err
	}
	s.Start()
	return s, nil
}

// NewUnstartedServer builds the receiver and binds 127.0.0.1 port 0, but
// serves nothing until Start or StartTLS.
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		rx.Close()
		_ = eff.close()
		return nil, fmt.Errorf("receiver: listen on loopback: %w", err)
	}
	return &Server{opts: opts, addr: l.Addr().String(), listener: l, rx: rx, eff: eff}, nil
}

// Start serves plain HTTP. It panics if the server was already started,
// as httptest.Server does: that is a programming error.
func (s *Server) Start() { s.start(nil) }

// StartTLS serves HTTPS with cert (TLS 1.2 or later, HTTP/2 offered).
func (s *Server) StartTLS(cert tls.Certificate) { s.start(&cert) }

func (s *Server) start(cert *tls.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		panic("receiver: Server already started")
	}
	s.started, s.cert = true, cert
	s.serve()
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

// URL is the base URL (scheme://127.0.0.1:port, no trailing slash).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	scheme := "http"
	if s.cert != nil {
		scheme = "https"
	}
	return scheme + "://" + s.addr
}

// WebhookURL is where deliveries go.
func (s *Server) WebhookURL() string { return s.URL() + s.Receiver().opts.Path }

// EffectsURL is the effects probe (GET ?event_id=ID).
func (s *Server) EffectsURL() string { return s.URL() + EffectsPath }

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
	} else {
		_ = s.listener.Close() // never started
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
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.closed = true
		rx.Close()
		return fmt.Errorf("receiver: listen again on %s: %w", s.addr, err)
	}
	s.listener = l
	s.serve()
	return nil
}

// ListenAndServe runs a receiver on addr (TLS when tlsCert is set) until
// ctx is cancelled, then shuts down gracefully: in-flight requests finish,
// the queue drains, the state file is synced. It returns nil after a
// graceful shutdown. The listening address is logged to opts.Logger.
func ListenAndServe(ctx context.Context, addr string, opts Options, tlsCert *tls.Certificate) error {
	rx, err := New(opts)
	if err != nil {
		return err
	}
	defer rx.Close()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("receiver: listen on %s: %w", addr, err)
	}
	srv := newHTTPServer(rx, tlsCert)
	scheme := "http"
	if tlsCert != nil {
		scheme = "https"
		l = tls.NewListener(l, srv.TLSConfig)
	}
	base := scheme + "://" + l.Addr().String()
	rx.log.Info("receiver listening", "webhook_url", base+rx.opts.Path, "effects_url", base+EffectsPath,
		"auth", string(rx.opts.Auth.Type), "faults", fmt.Sprint(rx.opts.Faults))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("receiver: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("receiver: shutdown: %w", err)
	}
	<-errc
	return nil
}
