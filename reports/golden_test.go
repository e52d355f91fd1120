package reports

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current renderers")

// scrubbedFixture is the fixture as a caller renders it: scrubbed.
func scrubbedFixture() *Report {
	r := fixtureReport()
	Scrub(r, fixtureSecrets())
	return r
}

func consolePlain(w *bytes.Buffer, r *Report) error  { return WriteConsole(w, r, false) }
func consoleColour(w *bytes.Buffer, r *Report) error { return WriteConsole(w, r, true) }

// TestGolden compares every renderer's output on the fixture with the file
// in testdata. After an intended change, run `go test ./reports -run
// TestGolden -update` and review the diff.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		file   string
		render func(*bytes.Buffer, *Report) error
	}{
		{"report.json", func(w *bytes.Buffer, r *Report) error { return WriteJSON(w, r) }},
		{"junit.xml", func(w *bytes.Buffer, r *Report) error { return WriteJUnit(w, r) }},
		{"summary.md", func(w *bytes.Buffer, r *Report) error { return WriteMarkdown(w, r) }},
		{"report.html", func(w *bytes.Buffer, r *Report) error { return WriteHTML(w, r) }},
		{"console.txt", consolePlain},
		{"console-color.txt", consoleColour},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var got bytes.Buffer
			if err := tc.render(&got, scrubbedFixture()); err != nil {
				t.Fatalf("render %s: %v", tc.file, err)
			}
			path := filepath.Join("testdata", "golden", tc.file)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s differs from %s; run with -update and review the diff\n%s", tc.file, path, firstDiff(got.Bytes(), want))
			}
		})
	}
}

// firstDiff shows the first differing line, enough to see what changed.
func firstDiff(got, want []byte) string {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl []byte
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if !bytes.Equal(gl, wl) {
			return "line " + itoa(i+1) + ":\n got: " + string(gl) + "\nwant: " + string(wl)
		}
	}
	return "lengths differ"
}

func itoa(i int) string { return strconv.Itoa(i) }
