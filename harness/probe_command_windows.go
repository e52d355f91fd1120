package harness

import "os/exec"

// ownGroup leaves c as it is: on timeout exec kills the command itself,
// and Windows has no process group to take its children with it.
func ownGroup(*exec.Cmd) {}
