package reports

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Report file names inside --report-dir (a contract: CI jobs pick them up).
const (
	FileJSON     = "report.json"
	FileJUnit    = "junit.xml"
	FileMarkdown = "summary.md"
	FileHTML     = "report.html"
)

// Renderer writes a report in one format.
type Renderer func(io.Writer, *Report) error

// Renderers maps each file of WriteAll to its renderer, in writing order.
// report.json comes first: it is the one a re-render can rebuild the
// others from.
var Renderers = []struct {
	Name   string
	Render Renderer
}{
	{FileJSON, WriteJSON},
	{FileJUnit, WriteJUnit},
	{FileMarkdown, WriteMarkdown},
	{FileHTML, WriteHTML},
}

// WriteAll writes report.json, junit.xml, summary.md and report.html into
// dir, creating it. Each file is rendered in memory, written to a temporary
// file in dir, synced and renamed into place, so a run interrupted at any
// moment leaves either the previous file or the complete new one, never
// half a file. Every format is attempted even when one fails; the errors
// are joined. The caller must have called Scrub first.
func WriteAll(dir string, r *Report) error {
	if r == nil {
		return errors.New("reports: nil report")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("reports: create report dir: %w", err)
	}
	var errs []error
	for _, f := range Renderers {
		var buf bytes.Buffer
		if err := f.Render(&buf, r); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.Name, err))
			continue
		}
		if err := WriteFileAtomic(filepath.Join(dir, f.Name), buf.Bytes()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory and a rename, which is atomic on POSIX file systems. The
// temporary file is removed on any failure.
func WriteFileAtomic(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("reports: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("reports: write %s: %w", path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("reports: write %s: %w", path, err)
	}
	// Sync before rename: otherwise a crash can leave the new name
	// pointing at an empty file on some file systems.
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("reports: write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("reports: write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("reports: write %s: %w", path, err)
	}
	return nil
}
