package load

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// h1Transport is a minimal HTTP/1.1 keep-alive client for plain-http
// targets, the load engine's fast path. net/http's Transport hands every
// request to two goroutines per connection (writeLoop and readLoop) and,
// under a Client.Timeout, starts a third to enforce it (the package doc
// gives what the fast path gains). Here the calling worker writes the
// request and reads the answer on a connection it holds exclusively, and
// the timeout is enforced by one watchdog goroutine per transport (no timer
// per request): a request costs no goroutine switch beyond the socket's,
// and on the common path (a Content-Length answer) no allocation: the
// Response and its body live in the connection and are reused once the
// body is closed.
//
// Like NoReplay, it never re-sends a request. Requests it does not handle
// (another scheme, unknown length, trailers, Expect) go to fallback, with
// the same end-to-end timeout carried by their context.
type h1Transport struct {
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	fallback http.RoundTripper
	// timeout bounds one exchange from connection pick-up to the closing of
	// the response body, as http.Client.Timeout would, give or take the
	// watchdog's period (a hundredth of it, so that an answer past the
	// timeout is not counted as an ack); 0 means none.
	timeout time.Duration

	// headers, if set, are written into every request after req.Header
	// (whose entries of the same name they replace); requests that fall
	// back to net/http get them added to a copy of req.Header.
	headers *atomic.Pointer[headerSet]

	idle  chan *h1Conn  // idle connections, first released first reused
	slots chan struct{} // one token per open connection
	uris  atomic.Pointer[uriCache]

	// The watchdog of timeout: it runs while connections are open.
	epoch    time.Time
	watchMu  sync.Mutex
	live     map[*h1Conn]struct{}
	watching bool
	kick     chan struct{}
}

// uriCache remembers the request-target of the last URL seen: every hit of
// a run goes to the same one.
type uriCache struct{ path, rawQuery, uri string }

// h1Conn is one connection with its buffers, used by one request at a time.
type h1Conn struct {
	conn    net.Conn
	peek    *peeker // nil when the connection cannot be checked
	br      *bufio.Reader
	idledAt time.Time
	scratch []byte

	// busy is when the exchange in progress began (ns since the
	// transport's epoch, plus one), 0 between exchanges, busyExpired once
	// the watchdog has cut the exchange short.
	busy atomic.Int64

	// The answer being read, valid until its body is closed: the caller
	// of RoundTrip owns it until then, and the next exchange on this
	// connection, which cannot start before, reuses it.
	resp   http.Response
	body   h1Body
	length lengthBody
	status string // the last status line's text, reused while it repeats
}

const busyExpired = -1

// staleAfter is how long a connection that cannot be checked (not a
// socket, or a platform without a non-blocking peek) may sit idle and still
// be reused: well under the shortest keep-alive timeout common servers use
// (Node.js: 5 s).
const staleAfter = 500 * time.Millisecond

// newH1Transport returns the fast path over dial for at most maxConns
// connections, or nil if maxConns is not positive (an unbounded pool is
// what collapses vegeta).
func newH1Transport(dial func(ctx context.Context, network, addr string) (net.Conn, error), fallback http.RoundTripper, maxConns int, timeout time.Duration) *h1Transport {
	if maxConns <= 0 {
		return nil
	}
	return &h1Transport{
		dial: dial, fallback: fallback, timeout: timeout,
		idle: make(chan *h1Conn, maxConns), slots: make(chan struct{}, maxConns),
		epoch: time.Now(), live: map[*h1Conn]struct{}{}, kick: make(chan struct{}, 1),
	}
}

// track registers a new connection with the watchdog, starting it if
// needed; untrack forgets a closed one, and the watchdog ends with the last.
func (t *h1Transport) track(c *h1Conn) {
	if t.timeout <= 0 {
		return
	}
	t.watchMu.Lock()
	defer t.watchMu.Unlock()
	t.live[c] = struct{}{}
	if !t.watching {
		t.watching = true
		go t.watch()
	}
}

func (t *h1Transport) untrack(c *h1Conn) {
	if t.timeout <= 0 {
		return
	}
	t.watchMu.Lock()
	delete(t.live, c)
	t.watchMu.Unlock()
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// watch cuts short every exchange older than the timeout by putting its
// connection's deadline in the past, which wakes its blocked read or write
// with an i/o timeout. One goroutine and one ticker for all connections,
// where a deadline per request would arm and stop a runtime timer each time.
func (t *h1Transport) watch() {
	tk := time.NewTicker(max(t.timeout/100, time.Millisecond))
	defer tk.Stop()
	for {
		select {
		case <-tk.C:
		case <-t.kick:
		}
		now := int64(time.Since(t.epoch)) + 1
		t.watchMu.Lock()
		if len(t.live) == 0 {
			t.watching = false
			t.watchMu.Unlock()
			return
		}
		for c := range t.live {
			// The swap fails if the exchange ended meanwhile: the
			// connection's next exchange is never cut short for this one.
			if since := c.busy.Load(); since > 0 && now-since > int64(t.timeout) && c.busy.CompareAndSwap(since, busyExpired) {
				_ = c.conn.SetDeadline(time.Unix(1, 0))
			}
		}
		t.watchMu.Unlock()
	}
}

// handles reports whether req takes the fast path.
func (t *h1Transport) handles(req *http.Request) bool {
	if req.URL == nil || req.URL.Scheme != "http" || req.URL.User != nil || req.Close ||
		len(req.TransferEncoding) > 0 || req.Trailer != nil || req.Header.Get("Expect") != "" {
		return false
	}
	hasBody := req.Body != nil && req.Body != http.NoBody
	return req.ContentLength > 0 || (req.ContentLength == 0 && !hasBody)
}

// RoundTrip implements http.RoundTripper.
func (t *h1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.handles(req) {
		return t.roundTripFallback(req)
	}
	ctx := req.Context()
	c, err := t.getConn(ctx, req.URL.Host)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if t.timeout > 0 {
		c.busy.Store(int64(time.Since(t.epoch)) + 1)
	}
	stop := func() bool { return true }
	if ctx.Done() != nil {
		// An expired deadline wakes a blocked read or write at once.
		stop = context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	}
	err = t.write(c, req)
	closeBody(req)
	var resp *http.Response
	if err == nil {
		resp, err = readResponseInto(c.br, req, &c.resp, &c.length, &c.status)
	}
	if err != nil {
		stop()
		t.release(c, false)
		if cerr := ctx.Err(); cerr != nil {
			err = cerr
		}
		return nil, err
	}
	reuse := !resp.Close && resp.StatusCode != http.StatusSwitchingProtocols
	c.body = h1Body{rc: resp.Body, t: t, c: c, reuse: reuse, stop: stop}
	resp.Body = &c.body
	return resp, nil
}

// getConn returns an idle connection, or dials one while the pool has room,
// or waits for one to be released.
func (t *h1Transport) getConn(ctx context.Context, host string) (*h1Conn, error) {
	for {
		var c *h1Conn
		select {
		case c = <-t.idle:
		default:
			select {
			case c = <-t.idle:
			case t.slots <- struct{}{}:
				return t.dialConn(ctx, host)
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if t.usable(c) {
			return c, nil
		}
		t.release(c, false)
	}
}

// usable reports whether an idle connection may carry a request: only if
// the peer has not closed it, checked at every reuse. Servers close idle
// keep-alive connections after as little as 100 ms (or right after an
// answer, without a Connection: close), net/http notices at once from its
// read loop, and a POST written to such a connection is lost; the check
// is one non-blocking syscall, about 4 % of the rate at maximum.
func (t *h1Transport) usable(c *h1Conn) bool {
	if c.peek == nil {
		return time.Since(c.idledAt) < staleAfter // cannot tell: young ones only
	}
	// A raw read checks the deadline before peeking, and one set by a
	// canceled exchange could have passed: clear it (the next exchange
	// sets its own).
	if c.conn.SetDeadline(time.Time{}) != nil {
		return false
	}
	return !c.peek.peerClosed()
}

func (t *h1Transport) dialConn(ctx context.Context, host string) (*h1Conn, error) {
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, "80")
	}
	conn, err := t.dial(ctx, "tcp", host)
	if err != nil {
		<-t.slots
		return nil, err
	}
	c := &h1Conn{conn: conn, br: bufio.NewReaderSize(conn, 4<<10)}
	t.track(c)
	inner := conn
	if tc, ok := conn.(*trackedConn); ok {
		inner = tc.Conn
	}
	if sc, ok := inner.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.peek = newPeeker(raw)
		}
	}
	return c, nil
}

// release returns c to the pool, or closes it and frees its slot. An
// exchange the watchdog cut short leaves its connection unusable.
func (t *h1Transport) release(c *h1Conn, reuse bool) {
	if c.busy.Swap(0) == busyExpired {
		reuse = false
	}
	if reuse && c.br.Buffered() == 0 {
		c.idledAt = time.Now()
		select {
		case t.idle <- c:
			return
		default: // cannot happen: the pool holds at most its slots
		}
	}
	_ = c.conn.Close()
	t.untrack(c)
	<-t.slots
}

// closeIdle closes the idle connections.
func (t *h1Transport) closeIdle() {
	for {
		select {
		case c := <-t.idle:
			t.release(c, false)
		default:
			return
		}
	}
}

// writers are the write buffers of requests being written. A connection
// needs one only while it writes, and most of a connection's life is
// waiting for an answer or idle: a buffer per connection was 4 KB each of
// up to the bound of them, a buffer per writer is a few.
var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4<<10) }}

// write sends req as HTTP/1.1, with the headers net/http would send (in
// map order: HTTP gives field order no meaning across names).
func (t *h1Transport) write(c *h1Conn, req *http.Request) error {
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(c.conn)
	defer func() {
		bw.Reset(nil) // holds no connection while pooled
		writers.Put(bw)
	}()
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if !validHeaderValue(host) || !validToken(method) {
		return fmt.Errorf("load: invalid method or host in request")
	}
	bw.WriteString(method)
	bw.WriteByte(' ')
	bw.WriteString(t.requestURI(req))
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(host)
	bw.WriteString("\r\n")
	var hs *headerSet
	if t.headers != nil {
		hs = t.headers.Load()
	}
	for k, vs := range req.Header {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer", "Connection":
			continue
		}
		if hs != nil {
			if _, ok := hs.h[k]; ok {
				continue
			}
		}
		if !validToken(k) {
			return fmt.Errorf("load: header %q: invalid name", k)
		}
		for _, v := range vs {
			if !validHeaderValue(v) {
				return fmt.Errorf("load: header %q: invalid value", k)
			}
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	if hs != nil {
		bw.Write(hs.wire)
	}
	if req.ContentLength > 0 || req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch {
		bw.WriteString("Content-Length: ")
		c.scratch = strconv.AppendInt(c.scratch[:0], req.ContentLength, 10)
		bw.Write(c.scratch)
		bw.WriteString("\r\n")
	}
	bw.WriteString("\r\n")
	if req.ContentLength > 0 {
		n, err := io.Copy(bw, req.Body)
		if err != nil {
			return fmt.Errorf("load: request body: %w", err)
		}
		if n != req.ContentLength {
			return fmt.Errorf("load: request body: %d bytes, Content-Length %d", n, req.ContentLength)
		}
	}
	return bw.Flush()
}

// requestURI is req.URL.RequestURI(), cached because every hit of a run
// has the same URL and RequestURI allocates.
func (t *h1Transport) requestURI(req *http.Request) string {
	u := req.URL
	if u.Opaque != "" || u.RawPath != "" || u.ForceQuery {
		return u.RequestURI()
	}
	if c := t.uris.Load(); c != nil && c.path == u.Path && c.rawQuery == u.RawQuery {
		return c.uri
	}
	uri := u.RequestURI()
	t.uris.Store(&uriCache{path: u.Path, rawQuery: u.RawQuery, uri: uri})
	return uri
}

// validToken reports whether s is a non-empty HTTP token (RFC 9110 §5.6.2).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b <= ' ' || b >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, b) >= 0 {
			return false
		}
	}
	return true
}

// validHeaderValue refuses the bytes that would split or end a header
// line; net/http's writer refuses or rewrites the same.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b == '\r' || b == '\n' || b == 0 {
			return false
		}
	}
	return true
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// h1Body is a response body that gives its connection back to the pool
// when closed after being read to the end, or closes the connection if
// the body is abandoned early. The connection is released on Close, not
// at the end of the body, because the Response lives in the connection:
// the caller may read it until then, and must read all it needs of it
// before (the next exchange on the connection overwrites it).
type h1Body struct {
	rc     io.ReadCloser
	t      *h1Transport
	c      *h1Conn
	reuse  bool
	eof    bool // read to the end without error
	failed bool // a read failed: the connection is spent
	closed bool
	stop   func() bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errors.New("load: read on a closed response body")
	}
	if b.eof {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.failed = true
	}
	return n, err
}

// Close releases the connection: to the pool after a clean end of the
// body, else closed (draining an unread body could take as long as the
// receiver likes).
func (b *h1Body) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	// If the context's cancellation already fired, the connection's
	// deadline is in the past: it cannot be reused.
	stopped := b.stop()
	b.t.release(b.c, b.eof && !b.failed && b.reuse && stopped)
	return nil
}

// roundTripFallback sends req through net/http, bounded by the transport's
// timeout through the request context, released when the body is closed.
func (t *h1Transport) roundTripFallback(req *http.Request) (*http.Response, error) {
	if t.headers != nil {
		if hs := t.headers.Load(); hs != nil {
			r := *req // a RoundTripper must not modify its request
			r.Header = req.Header.Clone()
			if r.Header == nil {
				r.Header = http.Header{}
			}
			for k, v := range hs.h {
				r.Header[k] = v
			}
			req = &r
		}
	}
	if t.timeout <= 0 {
		return t.fallback.RoundTrip(req)
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	resp, err := t.fallback.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody releases a request's context when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
