//go:build !unix

package load

import (
	"syscall"
	"time"
)

// peeker cannot peek on this platform: a connection idle for longer than
// staleAfter counts as closed, since a fresh dial is cheaper than a lost
// event, and a younger one as open.
type peeker struct{}

func newPeeker(syscall.RawConn) *peeker { return &peeker{} }

func (*peeker) peerClosed(idle time.Duration) bool { return idle >= staleAfter }
