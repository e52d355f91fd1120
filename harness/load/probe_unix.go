//go:build unix

package load

import (
	"errors"
	"syscall"
)

// peeker tells whether an idle connection can still carry a request. Its
// callback is made once per connection, so that checking costs no
// allocation per reuse.
type peeker struct {
	raw    syscall.RawConn
	buf    [1]byte
	closed bool
	fn     func(fd uintptr) bool
}

func newPeeker(raw syscall.RawConn) *peeker {
	p := &peeker{raw: raw}
	p.fn = p.peek
	return p
}

func (p *peeker) peek(fd uintptr) bool {
	_, _, err := syscall.Recvfrom(int(fd), p.buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	switch {
	case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EWOULDBLOCK), errors.Is(err, syscall.EINTR):
		p.closed = false // nothing to read: the connection is open and quiet
	default:
		p.closed = true // EOF (n == 0), unsolicited data (n > 0), or an error
	}
	return true // never wait for readiness
}

// peerClosed reports whether the peer closed the connection (a read would
// see EOF), reset it, or sent bytes nobody asked for. It peeks without
// blocking and consumes nothing, whatever the connection's idle time: a
// receiver may close a keep-alive connection right after its answer,
// without saying so, and a POST written to it would be lost.
func (p *peeker) peerClosed() bool {
	err := p.raw.Read(p.fn)
	return err != nil || p.closed
}
