package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookproof/hookproof/internal/pgtest"
	"github.com/hookproof/hookproof/reports"
)

const sqlProbeToken = "sqlprobe-bearer-token"

// pgReceiver is a receiver whose processing lands in PostgreSQL, the way a
// real one's would: it acks 200 at once and a worker inserts the event_id
// into a table afterwards, so the effects show up later than the ack.
type pgReceiver struct {
	dedupe bool
	mu     sync.Mutex
	seen   map[string]bool
	work   chan string
}

func (r *pgReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Header.Get("Authorization") != "Bearer "+sqlProbeToken {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	var ev struct {
		EventID string `json:"event_id"`
	}
	if err := json.NewDecoder(io.LimitReader(req.Body, 1<<20)).Decode(&ev); err != nil || ev.EventID == "" {
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	first := !r.seen[ev.EventID]
	r.seen[ev.EventID] = true
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	if first || !r.dedupe {
		r.work <- ev.EventID
	}
}

// startPGReceiver serves a pgReceiver on loopback whose worker inserts into
// table through its own connection; both stop when t ends.
func startPGReceiver(t *testing.T, dsn, table string, dedupe bool) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("receiver connect: %v", err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE "+table+"(event_id text NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	r := &pgReceiver{dedupe: dedupe, seen: map[string]bool{}, work: make(chan string, 1024)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for id := range r.work {
			if _, err := conn.Exec(ctx, "INSERT INTO "+table+" VALUES ($1)", id); err != nil {
				t.Errorf("receiver insert %s: %v", id, err)
			}
		}
	}()
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		srv.Close() // no handler runs after this, so work can be closed
		close(r.work)
		<-done
		_ = conn.Close(ctx)
	})
	return srv.URL + "/webhooks/riskos"
}

func reqStatuses(rep *reports.Report) map[string]string {
	m := map[string]string{}
	for _, r := range rep.Requirements {
		m[r.ID] = r.Status
	}
	return m
}

// certify --effects-sql judges idempotency from a real PostgreSQL table: a
// receiver that dedupes passes IDEM-02..04, one that inserts every copy
// fails IDEM-02.
func TestCertifyEffectsSQL(t *testing.T) {
	t.Setenv("HOOKPROOF_BEARER_TOKEN", "")
	t.Setenv("HOOKPROOF_EFFECTS_SQL", "")
	c := pgtest.Start(t)
	dsn := c.DSN("")
	// The DSN goes in as @FILE, as a user keeping the password out of
	// process listings would pass it.
	dsnFile := filepath.Join(t.TempDir(), "dsn")
	if err := os.WriteFile(dsnFile, []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, table string, dedupe bool) (*reports.Report, string, int) {
		target := startPGReceiver(t, dsn, table, dedupe)
		dir := t.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, errOut, code := cliCtx(ctx, t, "certify", "--target", target, "--auth", "bearer", "--bearer-token", sqlProbeToken,
			"--effects-sql", "@"+dsnFile, "--effects-query", "SELECT count(*) FROM "+table+" WHERE event_id = $1",
			"--label-filter", "area:idem", "--report-dir", dir, "--color", "never", "--seed", "11")
		all := out + errOut
		noStackTrace(t, all)
		raw, err := os.ReadFile(filepath.Join(dir, "report.json"))
		if err != nil {
			t.Fatalf("report.json: %v\n%s", err, all)
		}
		for _, s := range []string{all, string(raw)} {
			if strings.Contains(s, c.Password) {
				t.Errorf("the DSN's password appears in the output or report")
			}
		}
		rep, err := reports.Read(filepath.Join(dir, "report.json"))
		if err != nil {
			t.Fatalf("report.json: %v", err)
		}
		return rep, all, code
	}

	t.Run("deduping receiver passes", func(t *testing.T) {
		rep, out, code := run(t, "processed_once", true)
		st := reqStatuses(rep)
		for _, id := range []string{"IDEM-01", "IDEM-02", "IDEM-03", "IDEM-04", "IDEM-06"} {
			if st[id] != reports.StatusPassed {
				t.Errorf("%s = %q; want passed\n%s", id, st[id], out)
			}
		}
		if st["IDEM-05"] != reports.StatusSkipped {
			t.Errorf("IDEM-05 = %q; want skipped (no --restart-command)", st["IDEM-05"])
		}
		if code == exitFailed || code == exitUsage {
			t.Errorf("exit code = %d; a passing idempotency run must not fail\n%s", code, out)
		}
		wantNote := "effects SQL on postgres 127.0.0.1:"
		if !strings.Contains(strings.Join(rep.Notes, "\n"), wantNote) {
			t.Errorf("notes %q do not name the probe (%q)", rep.Notes, wantNote)
		}
	})

	t.Run("receiver inserting duplicates fails IDEM-02", func(t *testing.T) {
		rep, out, code := run(t, "processed_always", false)
		st := reqStatuses(rep)
		for _, id := range []string{"IDEM-02", "IDEM-03"} {
			if st[id] != reports.StatusFailed {
				t.Errorf("%s = %q; want failed\n%s", id, st[id], out)
			}
		}
		for _, r := range rep.Requirements {
			// The failure must come from the count read in PostgreSQL, not
			// from a probe that could not be read.
			if r.ID == "IDEM-02" && (!strings.Contains(r.Reason, "must process it exactly once") || strings.Contains(r.Reason, "effects probe:")) {
				t.Errorf("IDEM-02 reason = %q; want the probe count to differ from 1", r.Reason)
			}
		}
		if st["IDEM-01"] != reports.StatusPassed {
			t.Errorf("IDEM-01 = %q; want passed: every copy is still acked 2xx", st["IDEM-01"])
		}
		if code != exitFailed {
			t.Errorf("exit code = %d; want %d", code, exitFailed)
		}
	})

	t.Run("query is required with the DSN", func(t *testing.T) {
		_, errOut, code := cli(t, "certify", "--target", "http://127.0.0.1:1/hook", "--effects-sql", dsn)
		if code != exitUsage || !strings.Contains(errOut, "--effects-query") {
			t.Errorf("exit %d; want %d naming --effects-query:\n%s", code, exitUsage, errOut)
		}
		if strings.Contains(errOut, c.Password) {
			t.Errorf("usage error leaks the DSN's password:\n%s", errOut)
		}
	})
}
