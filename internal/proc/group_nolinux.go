//go:build unix && !linux

package proc

import "syscall"

// setDeathSignal does nothing: only Linux has a parent-death signal, so
// elsewhere a group outlives a process that dies without stopping it.
func setDeathSignal(*syscall.SysProcAttr) {}
