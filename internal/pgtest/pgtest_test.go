package pgtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestStartServesPasswordAuthOnLoopback(t *testing.T) {
	c := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN(""))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var who string
	if err := conn.QueryRow(ctx, "SELECT current_user").Scan(&who); err != nil {
		t.Fatal(err)
	}
	if who != User {
		t.Errorf("current_user = %q; want %q", who, User)
	}

	bad := strings.Replace(c.DSN(""), c.Password, "wrong", 1)
	if conn, err := pgx.Connect(ctx, bad); err == nil {
		conn.Close(ctx)
		t.Error("connect with a wrong password succeeded; the cluster must require the password")
	}
}

func TestBinDirHonoursPGBin(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PG_BIN", empty)
	if d, err := BinDir(); err == nil || !strings.Contains(err.Error(), "PG_BIN") {
		t.Errorf("BinDir() with PG_BIN=%s (no binaries) = %q, %v; want an error naming PG_BIN", empty, d, err)
	}
}

func TestBinDirFindsDebianLayoutOffPath(t *testing.T) {
	if _, err := BinDir(); err != nil {
		t.Skipf("pgtest: %v", err)
	}
	// Debian's postgresql package leaves initdb off $PATH.
	t.Setenv("PATH", t.TempDir())
	d, err := BinDir()
	if err != nil {
		t.Skipf("PostgreSQL is installed only on $PATH here, not in /usr/lib/postgresql: %v", err)
	}
	if !strings.HasPrefix(d, "/usr/lib/postgresql/") {
		t.Errorf("BinDir() without PATH = %q; want /usr/lib/postgresql/N/bin", d)
	}
}
