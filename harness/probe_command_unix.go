//go:build unix

package harness

import (
	"os/exec"
	"syscall"
)

// ownGroup runs c in its own process group, killed whole on timeout: a
// pipeline's children must not outlive the query.
func ownGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
}
