//go:build !unix

package load

import "syscall"

// peerClosed cannot peek on this platform, so an idle connection past
// staleAfter is always replaced: a fresh dial is cheaper than a lost event.
func peerClosed(syscall.RawConn) bool { return true }
