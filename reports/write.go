package reports

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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

// tempSetPrefix names the directory inside --report-dir that a report set
// is rendered into before its files are renamed into place; a run killed
// while writing leaves one behind, which the next WriteAll removes.
const tempSetPrefix = ".hookproof-writing-"

// WriteAll writes report.json, junit.xml, summary.md and report.html into
// dir, creating it, as one set: every file is rendered and synced inside a
// temporary directory in dir first, then each is renamed into place. A file
// of the set that could not be rendered is removed rather than left over
// from an earlier run, so the directory never mixes two runs' files.
// Temporary directories and files a killed run left in dir are removed
// first. Every format is attempted even when one fails; the errors are
// joined. The caller must have scrubbed r first.
func WriteAll(dir string, r *Report) error {
	if r == nil {
		return errors.New("reports: nil report")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("reports: create report dir: %w", err)
	}
	removeStale(dir)
	tmp, err := os.MkdirTemp(dir, tempSetPrefix+"*")
	if err != nil {
		return fmt.Errorf("reports: write into %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp)
	var errs []error
	rendered := make([]bool, len(Renderers))
	for i, f := range Renderers {
		var buf bytes.Buffer
		if err := f.Render(&buf, r); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.Name, err))
			continue
		}
		if err := writeSynced(filepath.Join(tmp, f.Name), buf.Bytes()); err != nil {
			errs = append(errs, err)
			continue
		}
		rendered[i] = true
	}
	for i, f := range Renderers {
		dst := filepath.Join(dir, f.Name)
		if !rendered[i] {
			if err := os.Remove(dst); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("reports: remove the previous run's %s: %w", dst, err))
			}
			continue
		}
		if err := os.Rename(filepath.Join(tmp, f.Name), dst); err != nil {
			errs = append(errs, fmt.Errorf("reports: write %s: %w", dst, err))
		}
	}
	syncDir(dir)
	return errors.Join(errs...)
}

// CheckWritable fails when dir cannot be created or written into, so a
// run finds an unusable --report-dir before it starts, not after.
func CheckWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, tempSetPrefix+"check-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// removeStale deletes what an interrupted write left in dir: temporary
// set directories and WriteFileAtomic's temporary files of the set's names.
func removeStale(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		stale := strings.HasPrefix(name, tempSetPrefix)
		for _, f := range Renderers {
			if strings.HasPrefix(name, "."+f.Name+".tmp-") {
				stale = true
			}
		}
		if stale {
			os.RemoveAll(filepath.Join(dir, name))
		}
	}
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("reports: write %s: %w", path, err)
	}
	_, werr := f.Write(data)
	// Sync before rename: otherwise a crash can leave the new name
	// pointing at an empty file on some file systems.
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("reports: write %s: %w", path, err)
	}
	return nil
}

// syncDir makes the renames durable; a failure only weakens durability.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
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
