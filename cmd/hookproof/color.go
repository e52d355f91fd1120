package main

import (
	"fmt"
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
	return isTerminal(w)
}

// isTerminal reports whether w is, or writes straight through to, a
// terminal (the run's scrubbing writers pass their terminal's Fd on).
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// checkColor refuses a --color that is not auto, always or never.
func checkColor(mode string) error {
	switch mode {
	case "auto", "always", "never":
		return nil
	}
	return fmt.Errorf("--color: %q is not auto, always or never", mode)
}
