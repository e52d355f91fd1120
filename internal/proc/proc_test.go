package proc

import (
	"bufio"
	"os"
	"os/exec"
	"testing"
	"time"
)

// startReady starts script under sh, which prints "ready" once its
// children run, and waits for that line.
func startReady(t *testing.T, script string) *Group {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	// An os.Pipe, not StdoutPipe: Wait (run as soon as the leader exits)
	// would close StdoutPipe's reader before the line is read.
	out, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout = w
	g, err := Start(cmd)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Stop(time.Second) })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	return g
}

func TestStopEndsTheWholeGroup(t *testing.T) {
	for name, tc := range map[string]struct {
		script string
		grace  time.Duration
	}{
		"children that exit on SIGTERM": {"sleep 60 & sleep 60 & echo ready; wait", 10 * time.Second},
		"children that ignore SIGTERM":  {"trap '' TERM; sleep 60 & sleep 60 & echo ready; wait", 300 * time.Millisecond},
		"leader gone, orphans left":     {"sleep 60 & sleep 60 & echo ready", 10 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			g := startReady(t, tc.script)
			if name == "leader gone, orphans left" {
				<-g.Done()
			}
			if n := len(Members(g.Pgid())); n < 2 {
				t.Fatalf("group %d has %d live members; want the 2 sleeps at least", g.Pgid(), n)
			}
			start := time.Now()
			if err := g.Stop(tc.grace); err != nil {
				t.Fatal(err)
			}
			if left := Members(g.Pgid()); len(left) != 0 {
				t.Errorf("after Stop the group still has %v", left)
			}
			if d := time.Since(start); d > tc.grace+5*time.Second {
				t.Errorf("Stop took %s", d)
			}
			if err := g.Stop(tc.grace); err != nil {
				t.Errorf("second Stop: %v", err)
			}
		})
	}
}

func TestParseStat(t *testing.T) {
	st, pg, err := parseStat("123 (a (b) c) S 1 456 456 0 -1 4194304")
	if err != nil || st != "S" || pg != 456 {
		t.Errorf("parseStat = %q, %d, %v; want S, 456", st, pg, err)
	}
	if _, _, err := parseStat("garbage"); err == nil {
		t.Error("garbage parsed")
	}
}
