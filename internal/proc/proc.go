// Package proc runs a command in its own process group and stops the whole
// group: a receiver started through a shell, npm or a supervisor forks
// children that a signal to the leader alone would leave running.
package proc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Group is a started command and its process group.
type Group struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // the leader's exit, once done is closed
}

// Start starts cmd as the leader of a new process group. cmd must not have
// been started; its SysProcAttr, if set, is kept but for the group fields.
func Start(cmd *exec.Cmd) (*Group, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	newGroup(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	g := &Group{cmd: cmd, done: make(chan struct{})}
	go func() {
		g.err = cmd.Wait()
		close(g.done)
	}()
	return g, nil
}

// Pgid is the process group's id (the leader's pid).
func (g *Group) Pgid() int { return g.cmd.Process.Pid }

// Done is closed when the leader has exited.
func (g *Group) Done() <-chan struct{} { return g.done }

// Err is the leader's exit error; valid once Done is closed.
func (g *Group) Err() error { return g.err }

// Stop sends SIGTERM to the group, waits up to grace for the leader and
// every other member to exit, then sends SIGKILL to what is left and waits
// for the leader. It returns nil when the group is gone, whatever the exit
// statuses; calling it again is harmless.
func (g *Group) Stop(grace time.Duration) error {
	pgid := g.Pgid()
	g.signal(syscall.SIGTERM)
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-deadline.C:
			g.signal(syscall.SIGKILL)
			<-g.done
			return g.waitEmpty(5 * time.Second)
		case <-tick.C:
			// Members other than the leader are not our children: the
			// only way to see them gone is to look.
			if isDone(g.done) && len(Members(pgid)) == 0 {
				return nil
			}
		}
	}
}

func isDone(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// waitEmpty waits for killed members to be reaped by whoever is their
// parent (init for orphans).
func (g *Group) waitEmpty(limit time.Duration) error {
	end := time.Now().Add(limit)
	for {
		left := Members(g.Pgid())
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("proc: process group %d still has %v after SIGKILL", g.Pgid(), left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Members lists the live processes of process group pgid, from /proc.
// Zombies count as gone: they run nothing and hold no port. Where there is
// no /proc (macOS, Windows) it finds none, and Stop waits for the leader
// alone.
func Members(pgid int) []int {
	return live(func(_ string, pgrp int) bool { return pgrp == pgid })
}

// WithEnv lists the live processes whose environment holds entry
// ("NAME=value"), from /proc: a marker a command and everything it forks
// inherit, whatever process group or session they move to.
func WithEnv(entry string) []int {
	return live(func(dir string, _ int) bool {
		env, err := os.ReadFile(filepath.Join(dir, "environ"))
		return err == nil && slices.Contains(strings.Split(string(env), "\x00"), entry)
	})
}

// live lists the pids of /proc whose process is not a zombie and for which
// keep, given its /proc directory and process group, is true.
func live(keep func(dir string, pgrp int) bool) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		st, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		state, pg, err := parseStat(string(st))
		if err == nil && state != "Z" && state != "X" && keep(dir, pg) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// parseStat reads the state and pgrp of a /proc/PID/stat line; the command
// name in parentheses may itself hold spaces and parentheses.
func parseStat(s string) (state string, pgrp int, err error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", 0, errors.New("no command field")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 3 {
		return "", 0, errors.New("short stat")
	}
	pgrp, err = strconv.Atoi(f[2])
	return f[0], pgrp, err
}
