package reports

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// findChromium returns Debian's Chromium, or one on PATH.
func findChromium() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// needChromium returns Chromium's path, or skips the test: with -short, or
// where it is not installed.
func needChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	bin := findChromium()
	if bin == "" {
		t.Skip("Chromium not installed (apt-get install -y chromium); the HTML report is not checked in a browser")
	}
	return bin
}

// screenshot has Chromium render url at size ("W,H") into path and decodes it.
func screenshot(t *testing.T, bin, size, path, url string) image.Image {
	t.Helper()
	runChromium(t, bin, "--window-size="+size, "--hide-scrollbars", "--screenshot="+path, url)
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	return img
}

// runChromium runs headless Chromium on a file URL with every network
// feature off, bounded in time; the process group is killed on timeout so
// no renderer outlives the test.
func runChromium(t *testing.T, bin string, args ...string) (stdout, stderr []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--enable-logging=stderr", "--v=0",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\nstderr:\n%s", args, err, errb.String())
	}
	return out.Bytes(), errb.Bytes()
}

// TestHTMLInHeadlessChromium opens report.html in a real browser: the DOM
// must show the verdict and every requirement ID, the page must run
// without script errors, and the screenshot must show the verdict banner
// in its colour. CI installs Chromium (apt-get install -y chromium);
// elsewhere the test skips.
func TestHTMLInHeadlessChromium(t *testing.T) {
	bin := needChromium(t)
	dir := t.TempDir()
	r := scrubbedFixture()
	if err := WriteAll(dir, r); err != nil {
		t.Fatal(err)
	}
	url := "file://" + filepath.Join(dir, FileHTML)

	dom, stderr := runChromium(t, bin, "--dump-dom", url)
	if !bytes.Contains(dom, []byte(`data-verdict="fail"`)) || !bytes.Contains(dom, []byte(`<div class="verdict">FAIL</div>`)) {
		t.Errorf("the DOM does not show the fail verdict")
	}
	for _, q := range r.Requirements {
		row := `id="req-` + q.ID + `" data-req="` + q.ID + `" data-status="` + q.Status + `"`
		if !bytes.Contains(dom, []byte(row)) {
			t.Errorf("the DOM has no row for %s with status %s", q.ID, q.Status)
		}
	}
	// Failures first: a section before the requirements with one entry per
	// failed requirement, each linked from the banner and linking to its row.
	fail, reqs := bytes.Index(dom, []byte(`id="failures"`)), bytes.Index(dom, []byte(`id="requirements"`))
	if fail < 0 || reqs < 0 || fail > reqs {
		t.Errorf("the DOM has no failures section before the requirements (at %d, requirements at %d)", fail, reqs)
	}
	for _, q := range r.Requirements {
		if q.Status != StatusFailed {
			continue
		}
		for _, want := range []string{`href="#fail-` + q.ID + `" data-fail-link="` + q.ID + `"`, `id="fail-` + q.ID + `" data-req="` + q.ID + `"`, `<a href="#req-` + q.ID + `">`} {
			if !bytes.Contains(dom, []byte(want)) {
				t.Errorf("%s: the DOM lacks %s", q.ID, want)
			}
		}
	}
	for _, s := range forbidden() {
		if bytes.Contains(dom, []byte(s)) {
			t.Errorf("the rendered DOM contains secret form %q", s)
		}
	}
	for _, line := range strings.Split(string(stderr), "\n") {
		if strings.Contains(line, "CONSOLE") && (strings.Contains(line, "Uncaught") || strings.Contains(line, "Refused")) {
			t.Errorf("browser console error: %s", line)
		}
	}

	shot := filepath.Join(dir, "report.png")
	img := screenshot(t, bin, "1280,900", shot, url)
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 900 {
		t.Errorf("screenshot is %v; want 1280x900", b)
	}
	// The banner spans the top of the page in the fail colour (#b42318);
	// sample its right-hand side, away from the text.
	cr, cg, cb, _ := img.At(1100, 40).RGBA()
	if cr>>8 < 140 || cg>>8 > 80 || cb>>8 > 80 {
		t.Errorf("pixel in the banner is rgb(%d,%d,%d); want the fail red", cr>>8, cg>>8, cb>>8)
	}
	if keep := os.Getenv("HOOKPROOF_KEEP_SCREENSHOT"); keep != "" {
		b, _ := os.ReadFile(shot)
		_ = os.WriteFile(keep, b, 0o644)
	}
}

// TestScreenshotsOfPassFailAndLoad renders a passing, a failing and a load
// report in headless Chromium, checks each banner's colour, and with
// HOOKPROOF_SCREENSHOT_DIR set keeps the PNGs for a person to look at.
func TestScreenshotsOfPassFailAndLoad(t *testing.T) {
	bin := needChromium(t)
	pass := shouldOnlyReport(false)
	load := scrubbedFixture()
	load.Kind = KindLoad
	for i := range load.Requirements {
		q := &load.Requirements[i]
		q.Evidence = nil
		if q.ID == "LOAD-01" {
			q.Status, q.Reason = StatusPassed, "100.000 % acked 2xx, p99 22 ms at 50/s"
		} else {
			q.Status, q.Reason = StatusSkipped, "not judged by hookproof load"
		}
	}
	load.Deliveries = nil
	load.Decide(false)
	for _, tc := range []struct {
		name    string
		r       *Report
		r0, g0  uint32 // banner colour bounds: red above r0, green above g0
		verdict string
	}{{"pass", pass, 0, 100, "pass"}, {"fail", scrubbedFixture(), 140, 0, "fail"}, {"load", load, 0, 100, "pass"}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := WriteAll(dir, tc.r); err != nil {
				t.Fatal(err)
			}
			shot := filepath.Join(dir, tc.name+".png")
			img := screenshot(t, bin, "1280,1800", shot, "file://"+filepath.Join(dir, FileHTML))
			cr, cg, _, _ := img.At(1100, 40).RGBA()
			if cr>>8 < tc.r0 || cg>>8 < tc.g0 {
				t.Errorf("banner pixel rgb(%d,%d,…); want the %s colour", cr>>8, cg>>8, tc.verdict)
			}
			if keep := os.Getenv("HOOKPROOF_SCREENSHOT_DIR"); keep != "" {
				b, _ := os.ReadFile(shot)
				_ = os.WriteFile(filepath.Join(keep, tc.name+".png"), b, 0o644)
			}
		})
	}
}
