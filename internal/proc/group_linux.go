package proc

import "syscall"

// setDeathSignal has the leader killed if this process dies without
// stopping the group; children that left the group's leader are still
// reached by Stop, which signals the whole group.
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
