package main

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// useColor decides ANSI colour: only on a terminal unless told, and never
// when NO_COLOR is set (no-color.org).
func useColor(mode string, w io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
