package scenarios

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/onsi/ginkgo/v2/types"
)

// progress prints one line per finished spec: what a person watching a
// certification wants, instead of Ginkgo's dots.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	color bool
	n     int
}

func newProgress(w io.Writer, color bool) *progress {
	if w == nil {
		w = io.Discard
	}
	return &progress{w: w, color: color}
}

const (
	ansiGreen  = "\x1b[32m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiReset  = "\x1b[0m"
)

func (p *progress) spec(sr types.SpecReport) {
	if sr.LeafNodeType != types.NodeTypeIt || (sr.State == types.SpecStateSkipped && sr.Failure.Message == "") {
		return // not selected: say nothing
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	word, color := "PASS", ansiGreen
	switch {
	case sr.State == types.SpecStateSkipped || sr.State == types.SpecStatePending:
		word, color = "SKIP", ansiYellow
	case sr.State == types.SpecStateInterrupted:
		word, color = "STOP", ansiYellow
	case sr.State.Is(types.SpecStateFailureStates):
		word, color = "FAIL", ansiRed
	}
	if p.color {
		word = color + word + ansiReset
	}
	ids := strings.Join(reqOf(sr.Labels()), ",")
	// The root container names the subject of every spec; the line keeps
	// the area and the behaviour.
	text := strings.Join(append(sr.ContainerHierarchyTexts[min(1, len(sr.ContainerHierarchyTexts)):], sr.LeafNodeText), ": ")
	if len(text) > 110 {
		text = text[:107] + "..."
	}
	fmt.Fprintf(p.w, "%4d %s %-9s %s (%.2fs)\n", p.n, word, ids, text, sr.RunTime.Seconds())
	if word != "PASS" && sr.Failure.Message != "" && !strings.HasPrefix(word, "\x1b[32m") {
		reason, _ := plainFailure(sr.Failure.Message)
		msg := firstLines(reason, 4)
		fmt.Fprintf(p.w, "       %s\n", strings.ReplaceAll(msg, "\n", "\n       "))
	}
}
