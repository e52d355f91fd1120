//go:build unix

package proc

import "syscall"

// newGroup makes the command the leader of a new process group.
func newGroup(a *syscall.SysProcAttr) {
	a.Setpgid, a.Pgid = true, 0
	setDeathSignal(a)
}

// signal sends sig to the whole group.
func (g *Group) signal(sig syscall.Signal) { _ = syscall.Kill(-g.Pgid(), sig) }
