package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookproof/hookproof/internal/pgtest"
)

const countQuery = "SELECT count(*) FROM processed WHERE event_id = $1"

// sqlFixture starts a cluster with a processed table holding a once, b twice.
func sqlFixture(t *testing.T) (*pgtest.Cluster, *pgx.Conn) {
	t.Helper()
	c := pgtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, c.DSN(""))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close(context.Background()) })
	for _, q := range []string{
		"CREATE TABLE processed(event_id text)",
		"INSERT INTO processed VALUES ('a'), ('b'), ('b')",
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return c, admin
}

func newSQLProbe(t *testing.T, dsn, query string) *SQLProbe {
	t.Helper()
	p, err := NewSQLProbe(Secret(dsn), query)
	if err != nil {
		t.Fatalf("NewSQLProbe: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func TestSQLProbeAgainstPostgres(t *testing.T) {
	c, admin := sqlFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	t.Run("counts", func(t *testing.T) {
		p := newSQLProbe(t, c.DSN(""), countQuery)
		for id, want := range map[string]int{"a": 1, "b": 2, "never": 0, "'; DROP TABLE processed; --": 0} {
			got, err := p.Count(ctx, id)
			if err != nil || got != want {
				t.Errorf("Count(%q) = %d, %v; want %d", id, got, err, want)
			}
		}
		// The count follows the table: a probe must not cache.
		if _, err := admin.Exec(ctx, "INSERT INTO processed VALUES ('a')"); err != nil {
			t.Fatal(err)
		}
		if got, err := p.Count(ctx, "a"); err != nil || got != 2 {
			t.Errorf("Count(a) after a second insert = %d, %v; want 2", got, err)
		}
		if _, err := admin.Exec(ctx, "DELETE FROM processed WHERE event_id = 'a' AND ctid = (SELECT min(ctid) FROM processed WHERE event_id = 'a')"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("concurrent counts share one connection", func(t *testing.T) {
		p := newSQLProbe(t, c.DSN(""), countQuery)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id, want := "a", 1
				if i%2 == 1 {
					id, want = "b", 2
				}
				if got, err := p.Count(ctx, id); err != nil || got != want {
					errs <- fmt.Errorf("Count(%q) = %d, %v; want %d", id, got, err, want)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})

	t.Run("integer shapes are accepted", func(t *testing.T) {
		for q, want := range map[string]int{
			"SELECT count(*)::int FROM processed WHERE event_id = $1":      2,
			"SELECT count(*)::smallint FROM processed WHERE event_id = $1": 2,
			"SELECT count(*)::numeric FROM processed WHERE event_id = $1":  2,
			"SELECT 3.000::numeric WHERE $1::text IS NOT NULL":             3,
			"SELECT 1200::numeric(6,-2) WHERE $1::text IS NOT NULL":        1200,
		} {
			p := newSQLProbe(t, c.DSN(""), q)
			if got, err := p.Count(ctx, "b"); err != nil || got != want {
				t.Errorf("%s: Count = %d, %v; want %d", q, got, err, want)
			}
		}
	})

	t.Run("bad answers name the problem", func(t *testing.T) {
		for _, tc := range []struct{ query, id, want string }{
			{"SELECT count(*) FROM processed WHERE event_id = $1 GROUP BY event_id", "never", "no row"},
			{"SELECT 1 FROM processed WHERE event_id = $1", "b", "more than one row"},
			{"SELECT event_id FROM processed WHERE event_id = $1 LIMIT 1", "b", "not an integer"},
			{"SELECT count(*), max(event_id) FROM processed WHERE event_id = $1", "b", "2 columns"},
			{"SELECT NULL::bigint WHERE $1::text IS NOT NULL", "b", "NULL"},
			{"SELECT -1 WHERE $1::text IS NOT NULL", "b", "negative"},
			{"SELECT 2.5 WHERE $1::text IS NOT NULL", "b", "not an integer"},
			{"SELECT 'NaN'::numeric WHERE $1::text IS NOT NULL", "b", "not a finite number"},
			{"SELECT 1.5::float8 WHERE $1::text IS NOT NULL", "b", "not an integer"},
			{"SELEC count(*) FROM processed WHERE event_id = $1", "b", "syntax error"},
			{"SELECT count(*) FROM no_such_table WHERE event_id = $1", "b", `"no_such_table" does not exist`},
		} {
			p := newSQLProbe(t, c.DSN(""), tc.query)
			n, err := p.Count(ctx, tc.id)
			if !errors.Is(err, ErrProbe) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: Count = %d, %v; want ErrProbe naming %q", tc.query, n, err, tc.want)
				continue
			}
			if strings.Contains(err.Error(), c.Password) {
				t.Errorf("%s: error leaks the password: %v", tc.query, err)
			}
		}
	})

	t.Run("a terminated connection is replaced", func(t *testing.T) {
		p := newSQLProbe(t, c.DSN(""), countQuery)
		if _, err := p.Count(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		var killed int
		// Earlier subtests' probes are closed, but their backends may not
		// have exited yet: at least ours must be among those terminated.
		if err := admin.QueryRow(ctx, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'hookproof effects probe'").Scan(&killed); err != nil || killed < 1 {
			t.Fatalf("terminating the probe's backend: killed %d, %v", killed, err)
		}
		// The first Count may meet the dead connection; the next must not.
		_, first := p.Count(ctx, "a")
		if first != nil && !errors.Is(first, ErrProbe) {
			t.Errorf("Count on a dead connection = %v; want ErrProbe", first)
		}
		if got, err := p.Count(ctx, "a"); err != nil || got != 1 {
			t.Errorf("Count after reconnect = %d, %v; want 1", got, err)
		}
	})

	t.Run("wrong password does not leak", func(t *testing.T) {
		const wrong = "Wr0ng-pa55word"
		dsn := strings.Replace(c.DSN(""), c.Password, wrong, 1)
		p := newSQLProbe(t, dsn, countQuery)
		_, err := p.Count(ctx, "a")
		if !errors.Is(err, ErrProbe) {
			t.Fatalf("Count with a wrong password = %v; want ErrProbe", err)
		}
		if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), dsn) {
			t.Errorf("error leaks the DSN or password: %v", err)
		}
		if !strings.Contains(err.Error(), "connecting to postgres 127.0.0.1:"+strconv.Itoa(c.Port)+"/postgres") {
			t.Errorf("error does not name the database: %v", err)
		}
	})
}

func TestSQLProbeUnreachableFailsFast(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	p := newSQLProbe(t, fmt.Sprintf("postgres://u:s3cretpw@127.0.0.1:%d/db?sslmode=disable", port), countQuery)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = p.Count(ctx, "a")
	if !errors.Is(err, ErrProbe) || strings.Contains(err.Error(), "s3cretpw") {
		t.Fatalf("Count on a closed port = %v; want ErrProbe without the password", err)
	}
}

func TestSQLProbeCountHonoursContextWhileWaiting(t *testing.T) {
	p := newSQLProbe(t, "postgres://u@127.0.0.1:1/db", countQuery)
	p.permit <- struct{}{} // another Count holds the connection
	defer func() { <-p.permit }()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Count(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Count with a cancelled context while waiting = %v; want context.Canceled", err)
	}
}

func TestNewSQLProbeRejectsBadConfigWithoutLeaking(t *testing.T) {
	const pw = "hunter2-secret"
	for _, tc := range []struct {
		dsn, query, want string
	}{
		{"", countQuery, "empty DSN"},
		{"postgres://u:" + pw + "@h/db", " ", "empty query"},
		{"postgres://u:" + pw + "@h/db", "SELECT count(*) FROM processed", "$1"},
		{"postgres://u:" + pw + "@h:notaport/db", countQuery, "--effects-sql"},
		{"host=h password=" + pw + " port=x", countQuery, "--effects-sql"},
	} {
		_, err := NewSQLProbe(Secret(tc.dsn), tc.query)
		if !errors.Is(err, ErrProbe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewSQLProbe(%q) = %v; want ErrProbe naming %q", tc.query, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("error leaks the password: %v", err)
		}
	}
}

func TestSQLProbeDescribeShowsHostAndDatabaseOnly(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://alice:pw-123@db.example:6543/orders?sslmode=disable": "effects SQL on postgres db.example:6543/orders",
		"host=/run/pg user=alice password=pw-123 dbname=orders":          "effects SQL on postgres /run/pg/orders",
	} {
		p, err := NewSQLProbe(Secret(dsn), countQuery)
		if err != nil {
			t.Fatal(err)
		}
		got := p.Describe()
		if got != want {
			t.Errorf("Describe() = %q; want %q", got, want)
		}
		if strings.Contains(got, "pw-123") || strings.Contains(got, "alice") {
			t.Errorf("Describe() leaks credentials: %q", got)
		}
	}
}

var _ Probe = (*SQLProbe)(nil)
