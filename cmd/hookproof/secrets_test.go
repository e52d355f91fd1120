package main

import (
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretForms are the ways a secret can reach output: verbatim, in a Basic
// header, URL-encoded, or base64 in either alphabet.
func secretForms(user string, secrets ...string) []string {
	var forms []string
	for _, s := range secrets {
		forms = append(forms, s, url.QueryEscape(s),
			base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s)),
			base64.StdEncoding.EncodeToString([]byte(user+":"+s)), base64.RawURLEncoding.EncodeToString([]byte(user+":"+s)))
	}
	return forms
}

// everything returns stdout, stderr and every file under dir.
func everything(t *testing.T, dir string, outs ...string) string {
	t.Helper()
	all := strings.Join(outs, "\n")
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, rerr := os.ReadFile(p)
			if rerr != nil {
				t.Errorf("reading %s: %v", p, rerr)
			}
			all += "\n" + string(b)
		}
		return nil
	})
	return all
}

// Secrets given through a config file, the environment and flags, for each
// auth type (OAuth2 with the demo issuer), never appear in any byte a
// certify run produces, in any encoding.
func TestCertifyLeaksNoSecretInAnyForm(t *testing.T) {
	if testing.Short() {
		t.Skip("runs certify three times")
	}
	const (
		user     = "hp-user"
		password = "pw:Quartz-8812-£" // a colon and UTF-8, as S-06b allows
		token    = "bt-Cobalt-5531-distinct"
		client   = "hp-client"
		csecret  = "cs-Garnet-7719-distinct"
	)
	cfgFile := writeFile(t, "hookproof.yaml", "auth: basic\nbasic-user: "+user+"\nbasic-password: \""+password+"\"\n")
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"basic from config file", nil, []string{"--config", cfgFile}},
		{"bearer from environment", map[string]string{"HOOKPROOF_AUTH": "bearer", "HOOKPROOF_BEARER_TOKEN": token}, nil},
		{"oauth2 from flags", nil, []string{"--auth", "oauth2", "--oauth2-client-id", client, "--oauth2-client-secret", csecret}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HOOKPROOF_AUTH", "")
			t.Setenv("HOOKPROOF_BEARER_TOKEN", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			dir := t.TempDir()
			args := append([]string{"certify", "--demo", "--report-dir", dir, "--color", "never", "--seed", "5",
				"--label-filter", "area:auth || area:ack", "--time-scale", "0.001"}, tc.args...)
			out, errOut, code := cli(t, args...)
			if code != exitOK && code != exitFailed {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			all := everything(t, dir, out, errOut)
			for _, f := range secretForms(user, password, token, csecret) {
				if strings.Contains(all, f) {
					t.Errorf("secret form %q appears in the output or reports", f)
				}
			}
			// And the reports are really there: an empty directory would
			// pass the grep.
			for _, f := range []string{"report.json", "junit.xml", "summary.md", "report.html"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("%s: %v", f, err)
				}
			}
		})
	}
}

// Credentials in a target URL's userinfo never appear in the unreachable
// message, nor in a usage error.
func TestTargetUserinfoNeverPrinted(t *testing.T) {
	const pw = "ui-Basalt-3307"
	for _, target := range []string{
		"http://someone:" + pw + "@127.0.0.1:1/hook",
		"ftp://someone:" + pw + "@127.0.0.1:1/hook",
	} {
		out, errOut, code := cli(t, "certify", "--target", target)
		if code != exitUnreachable && code != exitUsage {
			t.Errorf("%s: exit %d; want 3 or 2", target, code)
		}
		for _, f := range secretForms("someone", pw) {
			if strings.Contains(out+errOut, f) {
				t.Errorf("userinfo password form %q printed:\n%s%s", f, out, errOut)
			}
		}
	}
}
