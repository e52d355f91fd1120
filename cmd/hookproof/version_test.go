package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookproof/hookproof/reports"
)

// A release stamps its version with -ldflags -X; --version and the report's
// tool.version must both say it.
func TestStampedVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the hookproof binary")
	}
	const stamp = "v9.9.9-test"
	bin := filepath.Join(t.TempDir(), "hookproof")
	build := exec.Command("go", "build", "-o", bin, "-ldflags", "-X github.com/hookproof/hookproof/harness.Version="+stamp, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "hookproof version "+stamp {
		t.Errorf("--version = %q, want %q", got, "hookproof version "+stamp)
	}

	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err = exec.CommandContext(ctx, bin, "certify", "--demo", "--label-filter", "req:ACK-01", "--report-dir", dir, "--color", "never").CombinedOutput()
	if err != nil {
		t.Fatalf("certify --demo: %v\n%s", err, out)
	}
	rep, err := reports.Read(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tool.Version != stamp {
		t.Errorf("report.json tool.version = %q, want %q", rep.Tool.Version, stamp)
	}
}
