// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb in
// a fresh temporary directory, a postgres server on a free loopback port
// with password (SCRAM) authentication, stopped and deleted in t.Cleanup.
// Tests that need PostgreSQL skip, with the reason, only when no PostgreSQL
// binaries can be found.
package pgtest

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookproof/hookproof/internal/dbtest"
)

// User is the superuser every cluster is created with.
const User = "hookproof"

// startTimeout bounds initdb plus server start; a cold initdb on a busy
// 2-core machine takes a few seconds.
const startTimeout = 60 * time.Second

// Cluster is a running throwaway PostgreSQL server.
type Cluster struct {
	// Port is the loopback TCP port the server listens on.
	Port int
	// Password is the superuser's password, random per cluster.
	Password string

	dir  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the server process has exited
}

// DSN returns a connection URL for the database db (empty means
// "postgres") as the superuser, with the password.
func (c *Cluster) DSN(db string) string {
	if db == "" {
		db = "postgres"
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(User, c.Password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable&connect_timeout=5",
	}
	return u.String()
}

// BinDir finds the directory holding initdb and postgres: $PG_BIN, then
// $PATH, then Debian's /usr/lib/postgresql/N/bin (newest first), which the
// postgresql package does not put on $PATH.
func BinDir() (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if d := os.Getenv("PG_BIN"); d != "" {
		if has(d) {
			return d, nil
		}
		return "", fmt.Errorf("PG_BIN=%s has no initdb and postgres", d)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		// Resolve symlinks so postgres is looked for beside the real initdb.
		if r, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(r)) {
			return filepath.Dir(r), nil
		}
		if has(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL binaries (initdb, postgres) on $PATH, in $PG_BIN or in /usr/lib/postgresql/*/bin; install the postgresql package (scripts/test does)")
}

func pgVersion(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start starts a cluster for t and stops it when t ends. It skips t when
// PostgreSQL is not installed and fails t when it is but will not start.
func Start(t testing.TB) *Cluster {
	t.Helper()
	bin, err := BinDir()
	if err != nil {
		t.Skipf("pgtest: %v", err)
	}
	c, err := start(bin)
	if c != nil {
		t.Cleanup(c.stop)
	}
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return c
}

// runAs returns the credential to run PostgreSQL under: initdb and postgres
// refuse to run as root, so root hands them to the postgres user (or nobody).
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		// No supplementary groups: the server should not keep root's.
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
	}
	return nil, errors.New("running as root and neither a postgres nor a nobody user exists to run PostgreSQL as")
}

func start(bin string) (*Cluster, error) {
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	// Not t.TempDir: its parent is private to root, and PostgreSQL may run
	// as another user that must reach the data directory.
	dir, err := os.MkdirTemp("", "hookproof-pgtest-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, Password: randomHex(16)}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return c, fmt.Errorf("handing %s to uid %d: %w", dir, cred.Uid, err)
		}
	}
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(c.Password+"\n"), 0o600); err != nil {
		return c, err
	}
	if cred != nil {
		if err := os.Chown(pwfile, int(cred.Uid), int(cred.Gid)); err != nil {
			return c, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", User,
		"--pwfile="+pwfile, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return c, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	// A free port can be taken between choosing and binding it; try again.
	var lastErr error
	for range 3 {
		port, err := dbtest.FreeLoopbackPort()
		if err != nil {
			return c, err
		}
		lastErr = c.serve(bin, data, port, cred)
		if lastErr == nil {
			return c, nil
		}
		if !errors.Is(lastErr, errBind) {
			return c, lastErr
		}
	}
	return c, lastErr
}

var errBind = errors.New("port taken")

// serve starts postgres and waits for its "ready to accept connections"
// log line rather than polling with sleeps.
func (c *Cluster) serve(bin, data string, port int, cred *syscall.Credential) error {
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+c.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=20", "-c", "shared_buffers=16MB")
	// Pdeathsig: a test binary killed by -timeout must not leave a server
	// behind; the postmaster's backends exit when it dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Dir = c.dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	ready := make(chan struct{})
	var (
		mu  sync.Mutex
		log strings.Builder
	)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			if log.Len() < 16<<10 {
				log.WriteString(line + "\n")
			}
			mu.Unlock()
			if !signalled && strings.Contains(line, "ready to accept connections") {
				signalled = true
				close(ready)
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	done := make(chan struct{})
	go func() {
		<-scanned // Wait must not run before the pipe is drained
		_ = cmd.Wait()
		close(done)
	}()
	logText := func() string { mu.Lock(); defer mu.Unlock(); return log.String() }
	select {
	case <-ready:
		c.cmd, c.done, c.Port = cmd, done, port
		return nil
	case <-done:
		if strings.Contains(logText(), "could not bind") || strings.Contains(logText(), "could not create any TCP/IP sockets") {
			return fmt.Errorf("%w: %d", errBind, port)
		}
		return fmt.Errorf("postgres exited before it was ready:\n%s", logText())
	case <-time.After(startTimeout):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("postgres not ready after %v:\n%s", startTimeout, logText())
	}
}

// stop asks for a fast shutdown (SIGINT: abort sessions, no checkpoint
// wait), kills if that takes too long, and removes the directory.
func (c *Cluster) stop() {
	if c.cmd != nil {
		_ = c.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-c.done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
			<-c.done
		}
	}
	_ = os.RemoveAll(c.dir)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
