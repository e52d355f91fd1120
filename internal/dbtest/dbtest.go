// Package dbtest starts throwaway Redis and MariaDB servers for tests, in a
// fresh temporary directory on a free loopback port, stopped and deleted in
// t.Cleanup (like internal/pgtest for PostgreSQL). A test skips, with the
// reason, when the server's binary is absent and CI is not set; under CI a
// missing binary fails the test, since scripts/test installs them.
package dbtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookproof/hookproof/internal/proc"
)

// startTimeout bounds a server's start on a busy 2-core machine.
const startTimeout = 60 * time.Second

// Server is a running throwaway server.
type Server struct {
	// Port is the loopback TCP port it listens on.
	Port int
	// Dir is its private directory (data, socket).
	Dir string

	g *proc.Group
}

// Addr is 127.0.0.1:Port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// need finds bin on $PATH (and in the sbin directories Debian puts servers
// in), skipping or failing t when it is absent.
func need(t testing.TB, bin, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(bin); err == nil {
		return p
	}
	for _, d := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		if p := filepath.Join(d, bin); isExec(p) {
			return p
		}
	}
	msg := fmt.Sprintf("dbtest: %s not found; install %s (scripts/test does)", bin, pkg)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// StartRedis starts redis-server without persistence.
func StartRedis(t testing.TB) *Server {
	t.Helper()
	bin := need(t, "redis-server", "redis-server")
	need(t, "redis-cli", "redis-tools")
	return start(t, func(dir string, port int) *exec.Cmd {
		return exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--unixsocket", "", "--protected-mode", "no")
	}, "Ready to accept connections", nil)
}

// StartMariaDB starts mariadbd with grant tables skipped: any user connects
// as root without a password, which is all a test of a probe needs. The
// database "test" exists.
func StartMariaDB(t testing.TB) *Server {
	t.Helper()
	bin := need(t, "mariadbd", "mariadb-server")
	install := need(t, "mariadb-install-db", "mariadb-server")
	client := need(t, "mariadb", "mariadb-client")
	s := start(t, func(dir string, port int) *exec.Cmd {
		args := []string{"--no-defaults", "--datadir=" + filepath.Join(dir, "data"), "--port=" + strconv.Itoa(port),
			"--bind-address=127.0.0.1", "--socket=" + filepath.Join(dir, "sock"), "--pid-file=" + filepath.Join(dir, "pid"),
			"--skip-grant-tables", "--skip-log-bin", "--innodb-buffer-pool-size=16M", "--skip-name-resolve"}
		if os.Geteuid() == 0 {
			args = append(args, "--user=root")
		}
		return exec.Command(bin, args...)
	}, "ready for connections", func(dir string) error {
		args := []string{"--no-defaults", "--datadir=" + filepath.Join(dir, "data"), "--auth-root-authentication-method=normal", "--skip-test-db"}
		if os.Geteuid() == 0 {
			args = append(args, "--user=root")
		}
		if out, err := exec.Command(install, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("mariadb-install-db: %w\n%s", err, out)
		}
		return nil
	})
	if out, err := exec.Command(client, s.MariaDBArgs("-e", "CREATE DATABASE test")...).CombinedOutput(); err != nil {
		t.Fatalf("dbtest: creating database test: %v\n%s", err, out)
	}
	return s
}

// MariaDBArgs are the mariadb client's arguments to reach s, then extra.
func (s *Server) MariaDBArgs(extra ...string) []string {
	return append([]string{"--no-defaults", "-h", "127.0.0.1", "-P", strconv.Itoa(s.Port), "-u", "root", "-N", "-B"}, extra...)
}

var errBind = errors.New("port taken")

func start(t testing.TB, command func(dir string, port int) *exec.Cmd, ready string, prepare func(dir string) error) *Server {
	t.Helper()
	dir, err := os.MkdirTemp("", "hookproof-dbtest-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Dir: dir}
	t.Cleanup(s.stop)
	if prepare != nil {
		if err := prepare(dir); err != nil {
			t.Fatalf("dbtest: %v", err)
		}
	}
	// A free port can be taken between choosing and binding it; try again.
	for range 3 {
		port, err := FreeLoopbackPort()
		if err != nil {
			t.Fatal(err)
		}
		err = s.serve(command(dir, port), ready)
		if err == nil {
			s.Port = port
			return s
		}
		if !errors.Is(err, errBind) {
			t.Fatalf("dbtest: %v", err)
		}
	}
	t.Fatal("dbtest: no free port after 3 tries")
	return nil
}

// serve starts cmd in its own process group and waits for its ready line
// in its output rather than polling the port.
func (s *Server) serve(cmd *exec.Cmd, ready string) error {
	cmd.Dir = s.Dir
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	g, err := proc.Start(cmd)
	if err != nil {
		return fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	go func() {
		<-g.Done()
		_ = pw.Close()
	}()
	var (
		mu  sync.Mutex
		log strings.Builder
	)
	readyc := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		signalled := false
		for sc.Scan() {
			mu.Lock()
			if log.Len() < 16<<10 {
				log.WriteString(sc.Text() + "\n")
			}
			mu.Unlock()
			if !signalled && strings.Contains(sc.Text(), ready) {
				signalled = true
				close(readyc)
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	logText := func() string { mu.Lock(); defer mu.Unlock(); return log.String() }
	select {
	case <-readyc:
		s.g = g
		return nil
	case <-g.Done():
		if l := logText(); strings.Contains(l, "Address already in use") || strings.Contains(l, "Can't start server: Bind") {
			return errBind
		}
		return fmt.Errorf("%s exited before it was ready:\n%s", filepath.Base(cmd.Path), logText())
	case <-time.After(startTimeout):
		_ = g.Stop(0)
		return fmt.Errorf("%s not ready after %v:\n%s", filepath.Base(cmd.Path), startTimeout, logText())
	}
}

// stop ends the server's group (SIGTERM, SIGKILL after 15 s) and removes
// its directory.
func (s *Server) stop() {
	if s.g != nil {
		_ = s.g.Stop(15 * time.Second)
	}
	_ = os.RemoveAll(s.Dir)
}

// FreePort returns a loopback TCP port that was free a moment ago, for a
// server a test starts itself.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := FreeLoopbackPort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// FreeLoopbackPort returns a loopback port nothing listens on right now,
// for a server that must be told its port before it starts.
func FreeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
