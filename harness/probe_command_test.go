package harness

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookproof/hookproof/internal/dbtest"
)

func TestSplitWords(t *testing.T) {
	for in, want := range map[string][]string{
		`redis-cli -p 6379 SCARD processed:{event_id}`:              {"redis-cli", "-p", "6379", "SCARD", "processed:{event_id}"},
		`mariadb -e "SELECT count(*) FROM t WHERE id='{event_id}'"`: {"mariadb", "-e", "SELECT count(*) FROM t WHERE id='{event_id}'"},
		`a 'b c' d\ e "f\"g" ''`:                                    {"a", "b c", "d e", `f"g`, ""},
	} {
		got, err := SplitWords(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SplitWords(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "   ", "a 'b", `a "b`, "a | grep -c x", "a; b", "a $(b)", "a > f"} {
		if _, err := SplitWords(bad); err == nil {
			t.Errorf("SplitWords(%q) accepted", bad)
		}
	}
}

func TestCommandProbeAnswers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	marker := filepath.Join(dir, "pwned")
	hostile := []string{"x; touch " + marker, "$(touch " + marker + ")", "`touch " + marker + "`", "a' OR '1'='1", "-h", "a\ntouch " + marker}
	for _, shell := range []bool{false, true} {
		p, err := NewCommandProbe("echo {event_id}", shell, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range hostile {
			if _, err := p.Count(ctx, id); !errors.Is(err, ErrProbe) {
				t.Errorf("shell=%v id %q: err = %v; want refused", shell, id, err)
			}
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a hostile event_id ran a command")
	}

	// The id reaches the command as one word, and in $HOOKPROOF_EVENT_ID.
	p, _ := NewCommandProbe(`sh -c 'test "$1" = "$HOOKPROOF_EVENT_ID" && echo 7' sh {event_id}`, false, time.Second)
	if n, err := p.Count(ctx, "evt_1"); err != nil || n != 7 {
		t.Errorf("count = %d, %v; want 7", n, err)
	}
	p, _ = NewCommandProbe(`printf 'a\nb\n' | grep -c {event_id}`, true, time.Second)
	if n, err := p.Count(ctx, "a"); err != nil || n != 1 {
		t.Errorf("shell pipeline count = %d, %v; want 1", n, err)
	}

	for _, tc := range []struct{ cmd, want string }{
		{"sh -c 'echo boom >&2; exit 3' {event_id}", "boom"},
		{"echo many {event_id}", `printed "many a"`},
		{"echo -1 {event_id}", "not one non-negative integer"},
		{"sh -c 'sleep 5' {event_id}", "did not finish within 200ms"},
		{"/nonexistent/bin {event_id}", "no such file"},
	} {
		p, err := NewCommandProbe(tc.cmd, false, 200*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = p.Count(ctx, "a")
		if !errors.Is(err, ErrProbe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want ErrProbe with %q", tc.cmd, err, tc.want)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s took %s: the timeout did not bound it", tc.cmd, d)
		}
	}
	for _, bad := range []string{"", "redis-cli SCARD processed", "{event_id} x", "a | b {event_id}"} {
		if _, err := NewCommandProbe(bad, false, 0); err == nil || !strings.Contains(err.Error(), "--effects-command") {
			t.Errorf("NewCommandProbe(%q) = %v; want an error naming --effects-command", bad, err)
		}
	}
}

// The command probe reads counts from a real Redis and a real MariaDB the
// test starts.
func TestCommandProbeRealServers(t *testing.T) {
	ctx := context.Background()
	t.Run("redis", func(t *testing.T) {
		r := dbtest.StartRedis(t)
		port := r.Addr()[strings.LastIndexByte(r.Addr(), ':')+1:]
		for _, m := range []string{"1", "2", "3"} {
			if out, err := exec.Command("redis-cli", "-p", port, "SADD", "processed:evt-a", m).CombinedOutput(); err != nil {
				t.Fatalf("SADD: %v %s", err, out)
			}
		}
		p, err := NewCommandProbe("redis-cli -h 127.0.0.1 -p "+port+" SCARD processed:{event_id}", false, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]int{"evt-a": 3, "evt-b": 0} {
			if n, err := p.Count(ctx, id); err != nil || n != want {
				t.Errorf("SCARD %s = %d, %v; want %d", id, n, err, want)
			}
		}
	})
	t.Run("mariadb", func(t *testing.T) {
		m := dbtest.StartMariaDB(t)
		setup := exec.Command("mariadb", m.MariaDBArgs("test", "-e", "CREATE TABLE processed (event_id VARCHAR(200) NOT NULL); INSERT INTO processed VALUES ('evt-a'), ('evt-a')")...)
		if out, err := setup.CombinedOutput(); err != nil {
			t.Fatalf("setup: %v %s", err, out)
		}
		cmd := "mariadb --no-defaults -h 127.0.0.1 -P " + strings.TrimPrefix(m.Addr(), "127.0.0.1:") +
			` -u root -N -B test -e "SELECT count(*) FROM processed WHERE event_id = '{event_id}'"`
		p, err := NewCommandProbe(cmd, false, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]int{"evt-a": 2, "evt-b": 0} {
			if n, err := p.Count(ctx, id); err != nil || n != want {
				t.Errorf("count %s = %d, %v; want %d", id, n, err, want)
			}
		}
		if _, err := p.Count(ctx, "x' OR '1'='1"); !errors.Is(err, ErrProbe) {
			t.Errorf("SQL-injecting id: %v; want refused", err)
		}
		bad, _ := NewCommandProbe(strings.Replace(cmd, "FROM processed", "FROM missing", 1), false, 5*time.Second)
		if _, err := bad.Count(ctx, "evt-a"); err == nil || !strings.Contains(err.Error(), "doesn't exist") {
			t.Errorf("query on a missing table: %v; want mariadb's stderr in the error", err)
		}
	})
}

func TestCommandSecretsRedacted(t *testing.T) {
	cmd := `redis-cli -u redis://:pw-in-url@127.0.0.1:6379 -a s3cret-a --password=s3cret-b SCARD processed:{event_id}`
	p, err := NewCommandProbe(cmd, false, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	d := p.Describe()
	for _, s := range []string{"pw-in-url", "s3cret-a", "s3cret-b"} {
		if strings.Contains(d, s) {
			t.Errorf("Describe %q shows %q", d, s)
		}
	}
	if !strings.Contains(d, "SCARD processed:{event_id}") {
		t.Errorf("Describe %q lost the command", d)
	}
	c := DefaultConfig()
	c.Effects.Command = cmd
	if got := c.Secrets(); !slices.Contains(got, "s3cret-a") || !slices.Contains(got, "s3cret-b") || !slices.Contains(got, "pw-in-url") {
		t.Errorf("Config.Secrets() = %q; want the command's credentials", got)
	}
}
