package proc

import "syscall"

// newGroup does nothing: Windows has no process groups to signal, and the
// command's own children are not reached.
func newGroup(*syscall.SysProcAttr) {}

// signal ends the leader: Windows delivers no SIGTERM, so both signals
// terminate it.
func (g *Group) signal(syscall.Signal) { _ = g.cmd.Process.Kill() }
