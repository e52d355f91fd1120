//go:build !unix

package load

import "syscall"

// peeker cannot peek on this platform: newPeeker gives none, and usable
// then reuses only connections idle for less than staleAfter, since a
// fresh dial is cheaper than a lost event.
type peeker struct{}

func newPeeker(syscall.RawConn) *peeker { return nil }

func (*peeker) peerClosed() bool { return true }
