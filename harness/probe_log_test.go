package harness

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLogPatternForms(t *testing.T) {
	const id = "7f0c1a2e-1b2c-4d5e-8f90-a1b2c3d4e5f6"
	for _, tc := range []struct {
		pattern, line string
		want          string // "" for no match
	}{
		{"processed event_id={event_id}", "2026-01-01 processed event_id=" + id + " event_type=x", id},
		{"processed event_id={event_id}", "received event_id=" + id, ""},
		{"processed {event_id}", "processed " + id + ".", id},
		{"processed {event_id}", "processed " + id + "x", id + "x"},
		{"{event_id} done", "id " + id + " done", id},
		{"{event_id} done", "x" + id + "! done", ""},
		{`re:^\S+ INFO processed .*id={event_id}$`, "t1 INFO processed type=a id=" + id, id},
		{`re:^\S+ INFO processed .*id={event_id}$`, "t1 WARN processed type=a id=" + id, ""},
		{`re:(a|b) processed (?P<x>\w+) {event_id}`, "a processed q " + id, id},
		{"json:msg=processed,event_id={event_id}", `{"msg":"processed","event_id":"` + id + `","n":1}`, id},
		{"json:msg=processed,event_id={event_id}", `2026-01-01T00:00:00Z {"msg":"processed","event_id":"` + id + `"}`, id},
		{"json:msg=processed,event_id={event_id}", `{"msg":"received","event_id":"` + id + `"}`, ""},
		{"json:msg=processed,event_id={event_id}", `not json processed ` + id, ""},
		{"json:event.id=evt:{event_id},level=30", `{"event":{"id":"evt:` + id + `"},"level":30}`, id},
		{`json:msg=a\,b,id={event_id}`, `{"msg":"a,b","id":"` + id + `"}`, id},
	} {
		m, err := ParseLogPattern(tc.pattern)
		if err != nil {
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		got, ok := m([]byte(tc.line))
		if !ok {
			got = ""
		}
		if got != tc.want {
			t.Errorf("pattern %q on %q: got %q; want %q", tc.pattern, tc.line, got, tc.want)
		}
	}
	for _, bad := range []string{"", "processed", "{event_id} {event_id}", "re:(", "re:processed", "json:msg=processed", "json:msg", "json:a={event_id},b={event_id}"} {
		if _, err := ParseLogPattern(bad); err == nil || !errors.Is(err, ErrProbe) || !strings.Contains(err.Error(), "--effects-match") {
			t.Errorf("pattern %q: err = %v; want an ErrProbe naming --effects-match", bad, err)
		}
	}
}

func TestLogProbeFollowsRotation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "receiver.log")
	p, err := NewLogProbe([]string{path}, "processed event_id={event_id}")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	count := func(id string) int {
		t.Helper()
		n, err := p.Count(ctx, id)
		if err != nil {
			t.Fatalf("Count(%s): %v", id, err)
		}
		return n
	}
	if n := count("a"); n != 0 {
		t.Fatalf("no file yet: count %d; want 0", n)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	write := func(s string) {
		t.Helper()
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	write("processed event_id=a\nreceived event_id=b\nprocessed event_id=a\nprocessed event_")
	if n := count("a"); n != 2 {
		t.Errorf("a: %d; want 2", n)
	}
	write("id=b\n") // a line split across two reads
	if n := count("b"); n != 1 {
		t.Errorf("b after its line completed: %d; want 1", n)
	}

	// Rotation by rename: the old file's last lines are still read, then the new file.
	write("processed event_id=c\n")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	write("processed event_id=c\n") // still to the renamed file, as a logger would until it reopens
	f.Close()
	if f, err = os.Create(path); err != nil {
		t.Fatal(err)
	}
	write("processed event_id=c\n")
	if n := count("c"); n != 3 {
		t.Errorf("c across a rename rotation: %d; want 3", n)
	}
	if n := count("a"); n != 2 {
		t.Errorf("a after rotation: %d; want the 2 seen before", n)
	}

	// Rotation by truncation: reading restarts at the top, earlier counts kept.
	write(strings.Repeat("filler line\n", 10))
	count("c")
	if err := f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	write("processed event_id=d\n")
	if n := count("d"); n != 1 {
		t.Errorf("d after truncation: %d; want 1", n)
	}
	if n := count("c"); n != 3 {
		t.Errorf("c after truncation: %d; want 3", n)
	}
	f.Close()

	if _, err := p.Count(ctx, "x; rm -rf /"); !errors.Is(err, ErrProbe) {
		t.Errorf("hostile id: err = %v; want ErrProbe", err)
	}
	if !strings.Contains(p.Describe(), `"processed event_id={event_id}"`) {
		t.Errorf("Describe %q does not name the pattern", p.Describe())
	}
}

func TestCheckProbeEventID(t *testing.T) {
	for _, ok := range []string{"7f0c1a2e-1b2c-4d5e-8f90-a1b2c3d4e5f6", "evt_123", "ns:a.b", "a"} {
		if err := CheckProbeEventID(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a.", "a b", "a'b", `a"b`, "a;b", "$(id)", "`id`", "a|b", "a\nb", "-", "-h", ":x", strings.Repeat("a", 201), "é"} {
		if err := CheckProbeEventID(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
