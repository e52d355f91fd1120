package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/hookproof/hookproof/harness"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMalformedConfigFileExits2NamingFileAndLine(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"syntax", "target: http://x\nauth: [unclosed\n", "line"},
		{"unknown key", "target: http://x\ntargte: http://y\n", "targte"},
		{"wrong type", "timeouts:\n  attempt: forever\n", "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "hookproof.yaml", tc.body)
			_, errOut, code := cli(t, "send", "--config", path, "--event", "decision_update")
			if code != exitUsage {
				t.Fatalf("exit code = %d; want 2\n%s", code, errOut)
			}
			if !strings.Contains(errOut, path) || !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr does not name the file and %q:\n%s", tc.want, errOut)
			}
			noStackTrace(t, errOut)
		})
	}
}

// Precedence: defaults < file < HOOKPROOF_* < flags.
func TestConfigPrecedence(t *testing.T) {
	path := writeFile(t, "hookproof.yaml", `
target: http://file.example/hook
auth:
  type: bearer
  bearer_token: from-file
timeouts:
  attempt: 7s
headers:
  - {name: X-Env, value: file}
`)
	secretFile := writeFile(t, "token", "from-at-file\n")
	for _, tc := range []struct {
		name   string
		env    map[string]string
		args   []string
		target string
		token  string
	}{
		{"file only", nil, nil, "http://file.example/hook", "from-file"},
		{"env over file", map[string]string{"HOOKPROOF_TARGET": "http://env.example/hook", "HOOKPROOF_BEARER_TOKEN": "from-env"}, nil, "http://env.example/hook", "from-env"},
		{"flag over env", map[string]string{"HOOKPROOF_BEARER_TOKEN": "from-env"}, []string{"--bearer-token", "@" + secretFile}, "http://file.example/hook", "from-at-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := &cobra.Command{Use: "x"}
			cf := targetFlags(cmd)
			if err := cmd.ParseFlags(append([]string{"--config", path}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			cfg, err := cf.load(func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Target != tc.target || cfg.Auth.BearerToken.Reveal() != tc.token {
				t.Errorf("target, token = %s, %s; want %s, %s", cfg.Target, cfg.Auth.BearerToken.Reveal(), tc.target, tc.token)
			}
			if cfg.Timeouts.Attempt.String() != "7s" || cfg.Auth.Type != harness.AuthBearer || len(cfg.Headers) != 1 {
				t.Errorf("file values lost: %+v", cfg)
			}
		})
	}
}

func TestSecretsStayOutOfErrors(t *testing.T) {
	const secret = "zz-distinctive-secret-91"
	_, errOut, code := cli(t, "send", "--target", "not a url", "--event", "decision_update",
		"--auth", "oauth2", "--oauth2-client-secret", secret, "--oauth2-token-url", "https://user:"+secret+"@x/token")
	if code != exitUsage {
		t.Fatalf("exit code = %d; want 2\n%s", code, errOut)
	}
	if strings.Contains(errOut, secret) {
		t.Errorf("the secret leaked into stderr:\n%s", errOut)
	}
}
