package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hookproof/hookproof/fakes/receiver"
	"github.com/hookproof/hookproof/harness"
)

var update = flag.Bool("update", false, "rewrite the README's detection matrix from receiver.Matrix")

// matrixMarkdown renders the detection matrix from the same table the
// detection-matrix test checks certify against.
func matrixMarkdown() string {
	var b strings.Builder
	b.WriteString("| Receiver | Kind | Fails | What it does |\n|---|---|---|---|\n")
	for _, f := range receiver.Matrix() {
		ids := make([]string, len(f.Breaks))
		for i, id := range f.Breaks {
			r, _ := harness.LookupRequirement(id)
			level := string(r.Level)
			if slices.Contains(f.NotInQuick, id) {
				level += ", not in quick"
			}
			ids[i] = fmt.Sprintf("%s (%s)", id, level)
		}
		fails := strings.Join(ids, ", ")
		if fails == "" {
			fails = "nothing"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Name, kindOf(f), fails, f.Description)
	}
	return b.String()
}

func TestREADMEMatrixMatchesFaultTable(t *testing.T) {
	const start, end = "<!-- matrix:start -->\n", "<!-- matrix:end -->"
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i, j := strings.Index(s, start), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("README.md has no matrix markers")
	}
	want := s[:i+len(start)] + matrixMarkdown() + s[j:]
	if *update {
		if err := os.WriteFile("../../README.md", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if s != want {
		t.Error("README.md's detection matrix is stale: run go test ./cmd/hookproof -run README -update")
	}
}
