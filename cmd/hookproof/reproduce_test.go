package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookproof/hookproof/reports"
)

// TestReproductionLineReproducesTheFailure: a failing demo-fault run
// prints, for IDEM-03, a certify line that run as printed (against a demo
// receiver with the same fault) fails IDEM-03 again, and saves the burst's
// request under evidence/ with send and curl lines that replay it.
func TestReproductionLineReproducesTheFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("two demo certifications")
	}
	dir := t.TempDir()
	out, errOut, code := cli(t, "certify", "--demo", "--demo-fault", "racy-dedupe", "--seed", "42",
		"--label-filter", "req:IDEM-01 || req:IDEM-03", "--report-dir", dir)
	if code != exitFailed || !strings.Contains(errOut, "reports written") {
		t.Fatalf("exit %d; want 1 with the reports written\n%s%s", code, out, errOut)
	}
	rep, err := reports.Read(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	q := requirement(t, rep, "IDEM-03")
	if q.Status != reports.StatusFailed || q.Reproduce == nil {
		t.Fatalf("IDEM-03 = %s with reproduction %+v; want failed with one", q.Status, q.Reproduce)
	}
	line := q.Reproduce.Command
	for _, want := range []string{"hookproof certify", "--demo", "--demo-fault racy-dedupe", "--seed 42", "--label-filter req:IDEM-03"} {
		if !strings.Contains(line, want) {
			t.Errorf("reproduction %q lacks %q", line, want)
		}
	}
	if !strings.Contains(out, "reproduce IDEM-03: "+line) {
		t.Errorf("the console does not print the reproduction:\n%s", out)
	}
	if requirement(t, rep, "IDEM-01").Reproduce != nil {
		t.Error("a passed requirement has a reproduction")
	}

	// The request: saved whole, credentials as a placeholder.
	if len(q.Reproduce.Requests) == 0 {
		t.Fatalf("no request saved for IDEM-03: %+v", q.Reproduce)
	}
	rq := q.Reproduce.Requests[0]
	body, err := os.ReadFile(filepath.Join(dir, rq.BodyFile))
	if err != nil {
		t.Fatal(err)
	}
	httpMsg, err := os.ReadFile(filepath.Join(dir, rq.File))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"event_id"`) || !strings.HasPrefix(strings.SplitN(string(httpMsg), "\nPOST ", 2)[0], "#") ||
		!strings.Contains(string(httpMsg), "\nPOST https://127.0.0.1:") || !strings.Contains(string(httpMsg), "Authorization: [the configured credentials]") ||
		!strings.HasSuffix(string(httpMsg), string(body)) {
		t.Errorf("evidence files do not hold the request:\n%s", httpMsg)
	}
	for _, want := range []string{"hookproof send --target", "--body-file " + rq.BodyFile, "--concurrent 8"} {
		if !strings.Contains(rq.Send, want) {
			t.Errorf("send line %q lacks %q", rq.Send, want)
		}
	}
	if !strings.Contains(rq.Curl, "curl ") || !strings.Contains(rq.Curl, "--data-binary @"+rq.BodyFile) || !strings.Contains(rq.Curl, "$HOOKPROOF_BEARER_TOKEN") {
		t.Errorf("curl line %q does not replay the request with the token from the environment", rq.Curl)
	}

	// Run as printed: it fails IDEM-03 again.
	args := shellSplit(t, line)
	if args[0] != "hookproof" {
		t.Fatalf("line does not start with hookproof: %q", line)
	}
	dir2 := t.TempDir()
	out, errOut, code = cli(t, append(args[1:], "--report-dir", dir2)...)
	if code != exitFailed {
		t.Fatalf("reproduction: exit %d; want 1\n%s%s", code, out, errOut)
	}
	again, err := reports.Read(filepath.Join(dir2, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := failing(again); len(got) != 1 || got[0] != "IDEM-03" {
		t.Errorf("reproduction failed %v; want exactly IDEM-03", got)
	}
	if !again.Partial() || !strings.Contains(again.Filter, "req:IDEM-03") {
		t.Errorf("the reproduction's report is not marked partial: filter %q", again.Filter)
	}
}

// shellSplit splits a line as a POSIX shell would for the quoting
// shellQuote produces (single quotes, '\” for a quote).
func shellSplit(t *testing.T, line string) []string {
	t.Helper()
	var args []string
	var cur strings.Builder
	inArg, quoted, escaped := false, false, false
	for _, r := range line {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inArg = true, true
		case r == '\\':
			escaped, inArg = true, true
		case r == ' ':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if quoted {
		t.Fatalf("unterminated quote in %q", line)
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args
}

func TestShellQuoteRoundTrips(t *testing.T) {
	for _, s := range []string{"plain", "req:IDEM-03 || req:ACK-01", "it's", "", "a b'c d"} {
		got := shellSplit(t, "x "+shellQuote(s))
		if len(got) != 2 || got[1] != s {
			t.Errorf("shellQuote(%q) splits back to %q", s, got)
		}
	}
}

// A failing run's reproduction lines and evidence files hold no secret,
// though they are made of the run's flags and requests: a static API-key
// header and the bearer token stay out of every byte.
func TestReproductionHoldsNoSecret(t *testing.T) {
	const token, apiKey = "tok-repro-5ecret-0001", "key-repro-5ecret-0002"
	url, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"error":"saw ` + r.Header.Get("X-Api-Key") + `"}`)) // echoes the secret
	})
	dir := t.TempDir()
	out, errOut, code := cli(t, "certify", "--target", url, "--auth", "bearer", "--bearer-token", token,
		"--header", "X-Api-Key: "+apiKey, "--label-filter", "req:ACK-01", "--event-types", "decision_update",
		"--time-scale", "0.001", "--report-dir", dir, "--color", "never", "--seed", "5")
	if code != exitFailed {
		t.Fatalf("exit %d; want 1\n%s%s", code, out, errOut)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "evidence"))
	if len(entries) == 0 {
		t.Fatal("no evidence files written for the failed ACK-01")
	}
	all := everything(t, dir, out, errOut)
	for _, s := range []string{token, apiKey} {
		if strings.Contains(all, s) {
			t.Errorf("secret %q appears in the output, the reports or the evidence files", s)
		}
	}
	if !strings.Contains(all, "--label-filter req:ACK-01") {
		t.Error("no reproduction line")
	}
}
