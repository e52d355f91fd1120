// Package testbin builds the hookproof binary once per test process, for
// tests that need a real process: a signal must reach main's handler, and
// several certify runs at once cannot share one process (Ginkgo's suite is
// process-global).
package testbin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	once     sync.Once
	bin, dir string
	err      error
)

// Hookproof returns the path of a hookproof binary built from pkg, the
// cmd/hookproof directory as seen from the calling test's package; every
// later call returns the same binary. Under -short the test is skipped.
func Hookproof(t testing.TB, pkg string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the hookproof binary")
	}
	once.Do(func() {
		if dir, err = os.MkdirTemp("", "hookproof-test-bin-"); err != nil {
			return
		}
		path := filepath.Join(dir, "hookproof")
		if out, e := exec.Command("go", "build", "-o", path, pkg).CombinedOutput(); e != nil {
			err = fmt.Errorf("go build %s: %v\n%s", pkg, e, out)
			return
		}
		bin = path
	})
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// Cleanup removes the binary; a TestMain calls it after m.Run.
func Cleanup() {
	if dir != "" {
		os.RemoveAll(dir)
	}
}

// Run runs cmd and returns its combined output and exit code (-1 when a
// signal ended it); a command that could not be started fails the test.
func Run(t testing.TB, cmd *exec.Cmd) (string, int) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v\n%s", filepath.Base(cmd.Path), err, out)
	}
	return string(out), 0
}
