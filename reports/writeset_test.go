package reports

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A reused report dir holds exactly one run's set: stale temporaries of a
// killed run are removed, and a file the new run could not render does not
// survive from the old one.
func TestWriteAllWritesOneSet(t *testing.T) {
	dir := t.TempDir()
	old := fixtureReport()
	Scrub(old, fixtureSecrets())
	if err := WriteAll(dir, old); err != nil {
		t.Fatal(err)
	}
	// What a SIGKILL in the middle of a write leaves behind.
	for _, p := range []string{".report.json.tmp-123", tempSetPrefix + "999/report.json"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, p), []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	saved := Renderers[2].Render
	Renderers[2].Render = func(io.Writer, *Report) error { return errors.New("boom") }
	t.Cleanup(func() { Renderers[2].Render = saved })

	if err := WriteAll(dir, old); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v; want the renderer's failure", err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{FileJUnit, FileHTML, FileJSON}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("dir holds %v; want %v (no stale %s, no temporaries)", names, want, Renderers[2].Name)
	}
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	if err := CheckWritable(filepath.Join(dir, "a", "b")); err != nil {
		t.Errorf("fresh dir: %v", err)
	}
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	if os.Geteuid() != 0 {
		if err := CheckWritable(filepath.Join(ro, "x")); err == nil {
			t.Error("a dir under a read-only one passed")
		}
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	if err := CheckWritable(file); err == nil {
		t.Error("a regular file passed as a report dir")
	}
}
