//go:build unix

package load

import (
	"errors"
	"syscall"
)

// peerClosed reports whether an idle connection can no longer carry a
// request: the peer closed it (a read would see EOF), reset it, or sent
// bytes nobody asked for. It peeks without blocking and consumes nothing.
func peerClosed(raw syscall.RawConn) bool {
	var closed bool
	var buf [1]byte
	err := raw.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EWOULDBLOCK), errors.Is(err, syscall.EINTR):
			closed = false // nothing to read: the connection is open and quiet
		case err != nil:
			closed = true
		default:
			closed = true // EOF (n == 0) or unsolicited data (n > 0)
		}
		return true // never wait for readiness
	})
	return err != nil || closed
}
