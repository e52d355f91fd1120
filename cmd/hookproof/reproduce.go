package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

// maxReproRequests bounds the requests saved per failed requirement: a
// few are enough to replay the failure, and a run-wide check may hold
// hundreds.
const maxReproRequests = 3

// reproFile is one file of report-dir/evidence/.
type reproFile struct {
	path string // relative to the report directory
	data []byte
}

// addReproductions gives every failed requirement of rep its reproduction:
// the certify command line narrowed to it with the run's seed and, for
// each failed delivery whose whole body is in the evidence, the request
// saved under evidence/ with a send and a curl line that replay it. It
// returns the files to write into the report directory. rep must already
// be scrubbed: the files are made from its evidence.
func addReproductions(rep *reports.Report, cmd *cobra.Command, cfg harness.Config) []reproFile {
	var files []reproFile
	base := certifyLine(cmd.Flags())
	for i := range rep.Requirements {
		q := &rep.Requirements[i]
		if q.Status != reports.StatusFailed {
			continue
		}
		rp := &reports.Reproduction{Seed: cfg.Seed,
			Command: fmt.Sprintf("%s --seed %d --label-filter %s", base, cfg.Seed, shellQuote("req:"+q.ID))}
		for _, ev := range q.Evidence {
			rq := ev.Request
			if cfg.ReportDir == "" || rq == nil || rq.Body == "" || len(rp.Requests) == maxReproRequests {
				continue
			}
			n := len(rp.Requests) + 1
			bodyFile := fmt.Sprintf("evidence/%s-%d.json", q.ID, n)
			httpFile := fmt.Sprintf("evidence/%s-%d.http", q.ID, n)
			files = append(files, reproFile{bodyFile, []byte(rq.Body)}, reproFile{httpFile, httpText(rq, ev)})
			rp.Requests = append(rp.Requests, reports.ReproRequest{File: httpFile, BodyFile: bodyFile,
				Send: sendLine(cfg, rq, bodyFile), Curl: curlLine(cfg, rq, bodyFile)})
		}
		q.Reproduce = rp
	}
	return files
}

// scrubReproFiles removes secrets from the evidence files as Scrub does
// from the report: they are made from scrubbed evidence, and this holds
// even if a body echoed a credential.
func scrubReproFiles(files []reproFile, red *harness.Redactor) {
	for i := range files {
		files[i].data = []byte(red.Scrub(string(files[i].data)))
	}
}

// writeReproFiles writes the evidence files into dir.
func writeReproFiles(dir string, files []reproFile) error {
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		if err := reports.WriteFileAtomic(p, f.data); err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
	}
	return nil
}

// reproSkip are certify flags the reproduction line sets itself or that
// do not change what is checked.
var reproSkip = map[string]bool{"seed": true, "label-filter": true, "report-dir": true, "verbose": true, "color": true, "help": true}

// certifyLine is "hookproof certify" with every flag of this run that
// changes what is checked. Secrets are left out: they come again from
// HOOKPROOF_* or the config file, never from a line a report prints.
func certifyLine(fs *pflag.FlagSet) string {
	parts := []string{"hookproof", "certify"}
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Changed || reproSkip[f.Name] {
			return
		}
		if _, secret := f.Value.(*secretValue); secret {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				parts = append(parts, "--"+f.Name, shellQuote(v))
			}
			return
		}
		if f.Value.Type() == "bool" {
			if f.Value.String() == "true" {
				parts = append(parts, "--"+f.Name)
			} else {
				parts = append(parts, "--"+f.Name+"=false")
			}
			return
		}
		parts = append(parts, "--"+f.Name, shellQuote(f.Value.String()))
	})
	return strings.Join(parts, " ")
}

// httpText is the request as an HTTP message, credentials as placeholders.
func httpText(rq *reports.RequestEvidence, ev reports.Evidence) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", oneLineText(ev.Summary))
	if rq.Concurrent > 1 {
		fmt.Fprintf(&b, "# sent as %d identical copies released at one instant\n", rq.Concurrent)
	}
	if ev.EventID != "" {
		fmt.Fprintf(&b, "# event_id %s\n", ev.EventID)
	}
	fmt.Fprintf(&b, "%s %s\n", rq.Method, rq.URL)
	keys := make([]string, 0, len(rq.Headers))
	for k := range rq.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, rq.Headers[k])
	}
	b.WriteString("\n")
	b.WriteString(rq.Body)
	return []byte(b.String())
}

func oneLineText(s string) string { return strings.Join(strings.Fields(s), " ") }

// replayHeaders are the request's headers a replay must set itself:
// Content-Type and the credentials come from flags.
func replayHeaders(rq *reports.RequestEvidence) []string {
	var hs []string
	for k, v := range rq.Headers {
		if strings.EqualFold(k, "Authorization") || strings.EqualFold(k, "Content-Type") {
			continue
		}
		hs = append(hs, k+": "+v)
	}
	slices.Sort(hs)
	return hs
}

// sendLine replays the request with hookproof send and the run's auth.
func sendLine(cfg harness.Config, rq *reports.RequestEvidence, bodyFile string) string {
	parts := []string{"hookproof", "send", "--target", shellQuote(cfg.Target), "--body-file", bodyFile}
	if t := cfg.Auth.Type; t != "" {
		parts = append(parts, "--auth", string(t))
	}
	if cfg.Auth.Type == harness.AuthBasic && cfg.Auth.BasicUser != "" {
		parts = append(parts, "--basic-user", shellQuote(cfg.Auth.BasicUser))
	}
	if cfg.TLS.CACert != "" {
		parts = append(parts, "--ca-cert", shellQuote(cfg.TLS.CACert))
	}
	for _, h := range replayHeaders(rq) {
		parts = append(parts, "--header", shellQuote(h))
	}
	if rq.Concurrent > 1 {
		parts = append(parts, "--concurrent", strconv.Itoa(rq.Concurrent), "--retry")
	}
	if rq.Headers["Authorization"] == "[the forged credentials this check describes]" {
		parts = append(parts, "# with the forged credentials the evidence describes instead of the configured ones")
	}
	return strings.Join(parts, " ")
}

// curlLine replays the request with curl; secrets are shell variables the
// user sets (the same HOOKPROOF_* names hookproof reads).
func curlLine(cfg harness.Config, rq *reports.RequestEvidence, bodyFile string) string {
	parts := []string{"curl", "-sS", "-X", rq.Method, shellQuote(cfg.Target)}
	if ct := rq.Headers["Content-Type"]; ct != "" {
		parts = append(parts, "-H", shellQuote("Content-Type: "+ct))
	}
	switch rq.Headers["Authorization"] {
	case "":
	case "[the forged credentials this check describes]":
		parts = append(parts, "-H", `'Authorization: <the forged credentials the evidence describes>'`)
	default:
		switch cfg.Auth.Type {
		case harness.AuthBasic:
			parts = append(parts, "-u", `"$HOOKPROOF_BASIC_USER:$HOOKPROOF_BASIC_PASSWORD"`)
		case harness.AuthBearer:
			parts = append(parts, "-H", `"Authorization: Bearer $HOOKPROOF_BEARER_TOKEN"`)
		case harness.AuthOAuth2:
			parts = append(parts, "-H", `"Authorization: Bearer $ACCESS_TOKEN"`)
		}
	}
	for _, h := range replayHeaders(rq) {
		parts = append(parts, "-H", shellQuote(h))
	}
	if cfg.TLS.CACert != "" {
		parts = append(parts, "--cacert", shellQuote(cfg.TLS.CACert))
	}
	parts = append(parts, "--data-binary", "@"+bodyFile)
	line := strings.Join(parts, " ")
	if rq.Concurrent > 1 {
		// curl has no barrier: xargs starts the copies together, which is
		// close to hookproof send --concurrent but not an exact instant.
		line = fmt.Sprintf("seq %d | xargs -P %d -I{} %s", rq.Concurrent, rq.Concurrent, line)
	}
	return line
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '/' || r == ':' || r == '=' || r == ',' || r == '@' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
