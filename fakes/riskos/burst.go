package riskos

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"sync"

	"github.com/hookproof/hookproof/harness"
)

// SendDuplicates sends d k times in sequence, each copy a single attempt
// (no retries) made after the previous one has its answer; k counts the
// original. Attempt numbers the copies 1..k in the ledger. It stops early,
// returning fewer attempts, once ctx is done.
func (s *Sender) SendDuplicates(ctx context.Context, d Delivery, k int) []harness.Attempt {
	out := make([]harness.Attempt, 0, max(k, 0))
	for i := range k {
		if s.pace(ctx) != nil {
			break
		}
		a, _ := s.attempt(ctx, d, attemptSpec{n: i + 1})
		out = append(out, a)
	}
	return out
}

// Burst sends n copies of d released at one instant, each a single attempt,
// and returns their attempts in copy order (Attempt numbers them 1..n).
//
// Every copy's request is built (body, headers, credentials) before the
// release, then all n goroutines block on one closed-channel barrier. So that
// the copies overlap on the wire rather than queue behind connection set-up,
// the burst uses a fresh clone of the Sender's *http.Transport (the one
// harness.NewClient built, or the caller's client's if it is one) whose
// dialer hands out n TCP connections opened before the release: every copy
// goes on its own new connection, with no TCP handshake left between release
// and send. (For https the TLS handshakes still happen after the release, in
// parallel; an HTTP/2 server may see the copies as streams of one
// connection.) Because no copy ever goes on a reused connection, net/http has
// no occasion to replay one, so the clone needs no no-replay guard. The
// clone's MaxConnsPerHost is raised to n if it was lower, and its
// connections are closed when the burst ends. A caller's client over any
// other RoundTripper is used as it is.
func (s *Sender) Burst(ctx context.Context, d Delivery, n int) []harness.Attempt {
	if n <= 0 {
		return nil
	}
	out := make([]harness.Attempt, n)
	s.release(ctx, d, n, func(i int, first attemptSpec) {
		first.n = i + 1 // the copies are numbered in the ledger
		out[i], _ = s.attempt(ctx, d, first)
	})
	return out
}

// release runs send for n copies of d at once: each gets the spec of a
// first attempt whose request is held at one barrier until every copy's
// request is built, then all go out on the burst's pre-dialed connections.
// The burst as a whole waits one turn under the pace; a done ctx shows in
// the attempts.
func (s *Sender) release(ctx context.Context, d Delivery, n int, send func(i int, first attemptSpec)) {
	_ = s.pace(ctx)
	client, done := s.burstClient(ctx, d, n)
	defer done()

	var ready, finished sync.WaitGroup
	release := make(chan struct{})
	barrier := func() {
		ready.Done()
		<-release // closed once every copy is ready, never left open
	}
	ready.Add(n)
	finished.Add(n)
	for i := range n {
		go func() {
			defer finished.Done()
			send(i, attemptSpec{n: 1, client: client, barrier: barrier})
		}()
	}
	ready.Wait()
	close(release)
	finished.Wait()
}

// burstClient returns the client a burst of n copies uses, and a function
// that releases its connections.
func (s *Sender) burstClient(ctx context.Context, d Delivery, n int) (*http.Client, func()) {
	tr := s.burstBase
	if tr == nil || n < 2 {
		return s.client, func() {}
	}
	addr, ok := dialAddr(d, s.cfg.Target)
	if !ok {
		return s.client, func() {}
	}
	clone := tr.Clone()
	if clone.MaxConnsPerHost > 0 && clone.MaxConnsPerHost < n {
		clone.MaxConnsPerHost = n
	}
	clone.MaxIdleConnsPerHost = max(clone.MaxIdleConnsPerHost, n)
	dial := clone.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: s.cfg.Timeouts.Dial}).DialContext
	}

	pool := make(chan net.Conn, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if c, err := dial(ctx, "tcp", addr); err == nil {
				pool <- c
			}
			// A failed pre-dial is not an error: that copy dials for itself
			// and its attempt records whatever goes wrong.
		})
	}
	wg.Wait()
	clone.DialContext = func(ctx context.Context, network, a string) (net.Conn, error) {
		if a == addr {
			select {
			case c, ok := <-pool:
				if ok {
					return c, nil
				}
			default:
			}
		}
		return dial(ctx, network, a)
	}
	c := *s.client
	c.Transport = clone
	return &c, func() {
		clone.CloseIdleConnections()
		close(pool)
		for c := range pool {
			c.Close() // pre-dialed but unused (a proxy, or HTTP/2 multiplexing)
		}
	}
}

// dialAddr is the host:port the transport dials for d, as the transport
// itself computes it.
func dialAddr(d Delivery, target string) (string, bool) {
	if d.URL != "" {
		target = d.URL
	}
	u, err := url.Parse(target)
	if err != nil || u.Hostname() == "" {
		return "", false
	}
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		default:
			return "", false
		}
	}
	return net.JoinHostPort(u.Hostname(), port), true
}
