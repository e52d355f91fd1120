package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
)

// errRunOver refuses new connections once a run is canceled, so requests
// queued for a connection fail at once instead of starting.
var errRunOver = errors.New("load: run canceled")

// connTracker remembers the open connections of a run so that cancelling
// it can abort the requests in flight: neither vegeta's requests nor the
// attack loop's carry a context, so closing their sockets is the only
// prompt way to end them. It
// costs nothing per request, only per connection.
type connTracker struct {
	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

func (t *connTracker) wrap(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc := &trackedConn{Conn: c, t: t}
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.closed {
			c.Close()
			return nil, errRunOver
		}
		if t.conns == nil {
			t.conns = map[*trackedConn]struct{}{}
		}
		t.conns[tc] = struct{}{}
		return tc, nil
	}
}

// closeAll closes every open connection and refuses new ones.
func (t *connTracker) closeAll() {
	t.mu.Lock()
	conns := t.conns
	t.conns, t.closed = nil, true
	t.mu.Unlock()
	for c := range conns {
		c.Conn.Close()
	}
}

type trackedConn struct {
	net.Conn
	t    *connTracker
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.t.mu.Lock()
		delete(c.t.conns, c)
		c.t.mu.Unlock()
	})
	return c.Conn.Close()
}

// Failure is one delivery that was not acknowledged with a 2xx: the event
// (its id and exact body, so it can be redelivered unchanged) and what the
// receiver or the network said.
type Failure struct {
	EventID string
	Body    []byte
	// Answer is the start of a non-2xx answer's body (at most
	// answerPrefix bytes), which often says why the event was refused.
	Answer []byte
	// Status is the HTTP status, 0 for a transport error (Err).
	Status int
	Err    error
}

// tap reports failed deliveries with the event that got them. vegeta's
// Result carries neither the request nor its body, so this is the only
// place where an answer and its event_id meet. The successful path costs one
// status check.
//
// It also takes off the X-Vegeta-Seq header vegeta's Attacker puts on every
// request: RiskOS sends no such header, and the receiver should see the
// same request from either engine.
type tap struct {
	base   http.RoundTripper
	onFail func(Failure)
}

func (t *tap) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, ok := req.Header[vegetaSeqHeader]; ok {
		r := *req // a RoundTripper must not modify its request
		r.Header = req.Header.Clone()
		delete(r.Header, vegetaSeqHeader)
		req = &r
	}
	resp, err := t.base.RoundTrip(req)
	switch {
	case err != nil:
		t.onFail(failureOf(req, 0, err))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		f := failureOf(req, resp.StatusCode, nil)
		f.Answer, resp.Body = peek(resp.Body, answerPrefix)
		t.onFail(f)
	}
	if resp != nil && resp.Body != nil {
		// vegeta drains every body to its end: an endless one would hold
		// a worker until the attempt timeout.
		resp.Body = &cappedBody{ReadCloser: resp.Body, left: maxResponseBytes}
	}
	return resp, err
}

// vegetaSeqHeader is the header vegeta's Attacker numbers its requests in.
const vegetaSeqHeader = "X-Vegeta-Seq"

// answerPrefix is how much of a failed answer's body a Failure keeps.
const answerPrefix = 256

// peek reads up to n bytes of body and returns them with a body that still
// yields every byte, so the caller reads the answer as if nothing had. Only
// failed answers are peeked: the acked path never pays for it.
func peek(body io.ReadCloser, n int) ([]byte, io.ReadCloser) {
	if body == nil {
		return nil, body
	}
	buf := make([]byte, n)
	k, _ := io.ReadFull(body, buf)
	buf = buf[:k]
	return buf, struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), body), body}
}

// maxResponseBytes is how much of an answer's body is read, as for the
// conformance sender's 64 KiB: an ack's body says nothing the status does
// not.
const maxResponseBytes = 64 << 10

// cappedBody ends a response body after left bytes; closing it with bytes
// unread makes net/http drop the connection rather than reuse it.
type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// failureOf recovers the event from the request's body. net/http keeps a
// GetBody for byte bodies, which replays the same bytes without consuming
// the body being sent.
func failureOf(req *http.Request, status int, err error) Failure {
	f := Failure{Status: status, Err: err}
	if req.GetBody == nil {
		return f
	}
	rc, gerr := req.GetBody()
	if gerr != nil {
		return f
	}
	defer rc.Close()
	if f.Body, gerr = io.ReadAll(rc); gerr != nil {
		return f
	}
	f.EventID = eventIDOf(f.Body)
	return f
}

// eventIDOf is the event_id of an event body ("" if it has none).
func eventIDOf(body []byte) string {
	var ev struct {
		EventID string `json:"event_id"`
	}
	if json.Unmarshal(body, &ev) != nil {
		return ""
	}
	return ev.EventID
}
