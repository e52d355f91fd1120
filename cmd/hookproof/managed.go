package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/internal/proc"
	"github.com/hookproof/hookproof/scenarios"
)

// Bounds of a receiver hookproof runs itself (--receiver-command).
const (
	// receiverStartTimeout bounds the wait for the target to answer after a
	// start: a cold `npm start` or interpreter start on a busy machine
	// takes seconds, never a minute.
	receiverStartTimeout = 60 * time.Second
	// receiverStopGrace is how long the group has to exit after SIGTERM
	// before SIGKILL.
	receiverStopGrace = 10 * time.Second
	// receiverLogName is the file in the report directory that takes the
	// receiver's stdout and stderr.
	receiverLogName = "receiver.log"
)

// managedStarted is called with the process group of every receiver start;
// tests use it to check that no process is left behind.
var managedStarted = func(pgid int) {}

// liveGroups are the process groups hookproof started and has not yet
// stopped (managed receivers, --restart-command runs), so that a second
// Ctrl-C, which exits at once, still ends them (stopLiveGroups).
var liveGroups sync.Map // *proc.Group → struct{}

// managedReceiver is a receiver started by --receiver-command.
type managedReceiver struct {
	command string
	addr    string // host:port of the target
	logPath string
	tmpDir  string // removed at the end when there is no report directory
	stderr  io.Writer

	mu sync.Mutex
	g  *proc.Group
}

// manageReceiver starts cfg's --receiver-command when it is set: in.Restart
// then restarts it, and an --effects-match without --effects-log reads its
// output. stop ends it; it is never nil, and must run on every path out of
// certify (the deferred call does, for failures and Ctrl-C too).
func manageReceiver(ctx context.Context, cfg *harness.Config, in *scenarios.Inputs, stderr io.Writer) (stop func(), err error) {
	if cfg.ReceiverCommand == "" {
		return func() {}, nil
	}
	u, err := url.Parse(cfg.Target)
	if err != nil {
		return func() {}, usageErr(fmt.Errorf("--target: %w", err))
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	m := &managedReceiver{command: cfg.ReceiverCommand, addr: net.JoinHostPort(u.Hostname(), port), stderr: stderr}
	dir := cfg.ReportDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "hookproof-receiver-"); err != nil {
			return func() {}, err
		}
		m.tmpDir = dir
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return func() {}, fmt.Errorf("--report-dir: %w", err)
	}
	m.logPath = filepath.Join(dir, receiverLogName)
	// A receiver already answering would be certified instead of the one
	// started here, and would hold the port the new one needs.
	if answers(ctx, m.addr) {
		m.cleanup()
		return func() {}, usageErr(fmt.Errorf("--receiver-command: something already answers at %s; stop it, or certify it without --receiver-command", m.addr))
	}
	if err := m.start(ctx, true); err != nil {
		m.stop()
		m.cleanup()
		return func() {}, err
	}
	if cfg.Effects.Match != "" && cfg.Effects.Log == "" {
		cfg.Effects.Log = m.logPath
	}
	in.Restart = m.restart
	fmt.Fprintf(stderr, "hookproof certify: started the receiver (%s); its output goes to %s\n", cfg.ReceiverCommand, m.logPath)
	return func() {
		m.stop()
		m.cleanup()
	}, nil
}

// start runs the command with its output appended to the log (truncated
// first on the run's first start) and waits for the target to answer.
func (m *managedReceiver) start(ctx context.Context, first bool) error {
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if first {
		flags |= os.O_TRUNC
	}
	logf, err := os.OpenFile(m.logPath, flags, 0o644)
	if err != nil {
		return fmt.Errorf("--receiver-command: receiver log: %w", err)
	}
	defer logf.Close() // the child holds its own copy of the descriptor
	cmd := exec.Command("/bin/sh", "-c", m.command)
	cmd.Stdout, cmd.Stderr = logf, logf
	g, err := proc.Start(cmd)
	if err != nil {
		return fmt.Errorf("--receiver-command: %w", err)
	}
	m.mu.Lock()
	m.g = g
	m.mu.Unlock()
	liveGroups.Store(g, struct{}{})
	managedStarted(g.Pgid())
	return m.waitReady(ctx, g)
}

// waitReady polls the target's port until it accepts a connection, the
// receiver exits, ctx ends or receiverStartTimeout passes. Polling is the
// only way to learn that another program listens.
func (m *managedReceiver) waitReady(ctx context.Context, g *proc.Group) error {
	deadline := time.NewTimer(receiverStartTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if answers(ctx, m.addr) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-g.Done():
			return unreachableErr(fmt.Errorf("--receiver-command: the receiver exited (%v) before %s answered; its output:\n%s", g.Err(), m.addr, m.logTail()))
		case <-deadline.C:
			return unreachableErr(fmt.Errorf("--receiver-command: %s did not answer within %s of starting the receiver; its output:\n%s", m.addr, receiverStartTimeout, m.logTail()))
		case <-tick.C:
		}
	}
}

func answers(ctx context.Context, addr string) bool {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// restart stops the receiver and starts it again, for IDEM-05.
func (m *managedReceiver) restart(ctx context.Context) error {
	if err := m.stop(); err != nil {
		return err
	}
	return m.start(ctx, false)
}

// stop ends the receiver's process group; a stopped receiver stays stopped.
func (m *managedReceiver) stop() error {
	m.mu.Lock()
	g := m.g
	m.g = nil
	m.mu.Unlock()
	if g == nil {
		return nil
	}
	defer liveGroups.Delete(g)
	if err := g.Stop(receiverStopGrace); err != nil {
		fmt.Fprintf(m.stderr, "hookproof certify: stopping the receiver: %v\n", err)
		return fmt.Errorf("--receiver-command: %w", err)
	}
	return nil
}

func (m *managedReceiver) cleanup() {
	if m.tmpDir != "" {
		_ = os.RemoveAll(m.tmpDir)
	}
}

// logTail is the end of the receiver's output, for a start that failed.
func (m *managedReceiver) logTail() string {
	b, err := os.ReadFile(m.logPath)
	if err != nil {
		return "(no output: " + err.Error() + ")"
	}
	const keep = 2000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return "(no output)"
	}
	return s
}

// stopLiveGroups kills the groups still running, at once: the process is
// about to exit without running deferred stops.
func stopLiveGroups() {
	liveGroups.Range(func(k, _ any) bool {
		_ = k.(*proc.Group).Stop(0)
		return true
	})
}
