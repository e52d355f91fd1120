package main

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
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
	for _, tc := range []struct{ name, body, line string }{
		{"syntax", "target: http://x\nauth: [unclosed\n", ":1:"}, // where the YAML parser places it
		{"unknown key", "target: http://x\ntargte: http://y\n", `:2: unknown key "targte"`},
		{"old nested key", "target: http://x\ntimeouts:\n  attempt: 5s\n", `:2: unknown key "timeouts"`},
		{"key of a section's other command", "target: http://x\nsend:\n  rate: 100\n", `:3: unknown key "send.rate" (hookproof send has no --rate)`},
		{"wrong type", "target: http://x\ntimeout: forever\n", ":2: timeout: invalid value for --timeout"},
		{"list for a single value", "target: http://x\ncount: [1, 2]\n", ":2: count: --count takes one value"},
		{"no value", "target: http://x\ncount:\n", ":2: count: no value"},
		{"two documents", "target: http://x\n---\ncount: 2\n", ":2: a second YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "hookproof.yaml", tc.body)
			_, errOut, code := cli(t, "send", "--config", path, "--event", "decision_update")
			if code != exitUsage {
				t.Fatalf("exit code = %d; want 2\n%s", code, errOut)
			}
			if !strings.Contains(errOut, path+tc.line) {
				t.Errorf("stderr does not say %s%s:\n%s", path, tc.line, errOut)
			}
			noStackTrace(t, errOut)
		})
	}
}

func TestConfigFileProblemsAreReportedTogether(t *testing.T) {
	path := writeFile(t, "hookproof.yaml", "targte: x\ncount: many\nduplicates: [1]\nload:\n  event: x\n")
	_, errOut, code := cli(t, "send", "--config", path, "--target", "http://127.0.0.1:9/x", "--event", "decision_update")
	if code != exitUsage {
		t.Fatalf("exit code = %d; want 2\n%s", code, errOut)
	}
	// The unknown keys are one pass over the file; the values of send's
	// own flags are checked once the file is known to be sound.
	for _, want := range []string{path + `:1: unknown key "targte"`, path + `:5: unknown key "load.event" (hookproof load has no --event)`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	path = writeFile(t, "hookproof.yaml", "count: many\nduplicates: [1]\n")
	_, errOut, _ = cli(t, "send", "--config", path, "--target", "http://127.0.0.1:9/x", "--event", "decision_update")
	for _, want := range []string{path + ":1: count: invalid value for --count", path + ":2: duplicates: --duplicates takes one value"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestConfigFileMustBeASmallRegularFile(t *testing.T) {
	big := writeFile(t, "big.yaml", "target: x\n"+strings.Repeat("# padding\n", maxConfigBytes/10+1))
	for name, path := range map[string]string{"directory": t.TempDir(), "too large": big} {
		t.Run(name, func(t *testing.T) {
			_, errOut, code := cli(t, "send", "--config", path, "--event", "decision_update")
			if code != exitUsage || !strings.Contains(errOut, "--config "+path) {
				t.Fatalf("exit %d; want 2 naming --config %s:\n%s", code, path, errOut)
			}
			if name == "too large" && !strings.Contains(errOut, byteSize(maxConfigBytes)) {
				t.Errorf("stderr does not name the cap:\n%s", errOut)
			}
		})
	}
}

// A key only another command defines is the normal case of one file shared
// by certify and load: it is accepted and means nothing to send.
func TestSharedConfigKeysAndSections(t *testing.T) {
	path := writeFile(t, "hookproof.yaml", `
target: http://top.example/hook
rate: 75
required-rate: 80
load:
  target: http://load.example/hook
  duration: 3s
`)
	for _, tc := range []struct {
		cmd    []string
		target string
	}{{[]string{"send"}, "http://top.example/hook"}, {[]string{"load"}, "http://load.example/hook"}} {
		_, cmd := configured(t, tc.cmd, []string{"--config", path}, nil)
		if got := cmd.Flags().Lookup("target").Value.String(); got != tc.target {
			t.Errorf("%v: --target = %s; want %s", tc.cmd, got, tc.target)
		}
	}
	// listen is both a command and a flag: a mapping is the section.
	both := writeFile(t, "hookproof.yaml", "listen: 127.0.0.1:9999\nreceiver:\n  listen: 127.0.0.1:7777\n")
	for cmd, want := range map[string]string{"listen": "127.0.0.1:9999", "receiver": "127.0.0.1:7777"} {
		if _, c := configured(t, []string{cmd}, []string{"--config", both}, nil); c.Flags().Lookup("listen").Value.String() != want {
			t.Errorf("%s --listen = %s; want %s", cmd, c.Flags().Lookup("listen").Value.String(), want)
		}
	}
	_, cmd := configured(t, []string{"load"}, []string{"--config", path}, nil)
	if r, d := cmd.Flags().Lookup("rate").Value.String(), cmd.Flags().Lookup("duration").Value.String(); r != "75" || d != "3s" {
		t.Errorf("load --rate, --duration = %s, %s; want 75 (top level), 3s (section)", r, d)
	}
}

// configured builds the command tree, finds the command at path, parses
// args and fills the rest from env and the config file.
func configured(t *testing.T, path, args []string, env map[string]string) (provenance, *cobra.Command) {
	t.Helper()
	getenv := func(k string) string { return env[k] }
	prov := provenance{}
	root := newRootCmd(io.Discard, io.Discard, getenv, prov)
	cmd, _, err := root.Find(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("%v %v: %v", path, args, err)
	}
	if err := resolveSources(cmd, getenv, prov); err != nil {
		t.Fatalf("%v %v %v: %v", path, args, env, err)
	}
	return prov, cmd
}

// flagValue is what a flag holds, secrets revealed.
func flagValue(f *pflag.Flag) string {
	if s, ok := f.Value.(*secretValue); ok {
		return s.dst.Reveal()
	}
	return f.Value.String()
}

// sampleValues returns three distinct values of f's type for the file, the
// environment and the command line; the file's differs from the default.
func sampleValues(f *pflag.Flag) [3]string {
	switch f.Value.Type() {
	case "bool":
		def, _ := strconv.ParseBool(f.DefValue)
		return [3]string{strconv.FormatBool(!def), strconv.FormatBool(def), strconv.FormatBool(!def)}
	case "duration":
		return [3]string{"1s", "2s", "3s"}
	case "float64":
		return [3]string{"0.25", "0.5", "0.75"}
	case "int", "int64", "uint64":
		return [3]string{"3", "4", "5"}
	case "stringArray":
		return [3]string{"X-Src: file", "X-Src: env", "X-Src: flag"}
	}
	return [3]string{"from-file", "from-env", "from-flag"}
}

// Every flag of every command, set through each source: the flag ends with
// the value of the strongest source given, and records where it came from.
func TestEveryFlagOfEveryCommandFromEverySource(t *testing.T) {
	root := newRootCmd(io.Discard, io.Discard, func(string) string { return "" }, provenance{})
	n := 0
	for _, c := range configCommands(root) {
		path := commandPath(c)
		for _, f := range settableFlags(c) {
			n++
			name, vals := f.Name, sampleValues(f)
			// want[i] is what the flag holds when vals[i] is given on the
			// command line alone: the same Value.Set must produce it.
			var want [3]string
			for i, v := range vals {
				_, cmd := configured(t, path, []string{"--" + name + "=" + v}, nil)
				want[i] = flagValue(cmd.Flags().Lookup(name))
			}
			item := strconv.Quote(vals[0])
			if isRepeatable(f) {
				item = "[" + item + "]"
			}
			file := writeFile(t, "hookproof.yaml", name+": "+item+"\n")
			env := map[string]string{envName(name): vals[1]}
			for _, tc := range []struct {
				source string
				args   []string
				env    map[string]string
				want   string
				from   string
			}{
				{"file", nil, nil, want[0], file + ":1"},
				{"env over file", nil, env, want[1], envName(name)},
				{"flag over env", []string{"--" + name + "=" + vals[2]}, env, want[2], ""},
			} {
				prov, cmd := configured(t, path, append([]string{"--config", file}, tc.args...), tc.env)
				fl := cmd.Flags().Lookup(name)
				if got := flagValue(fl); got != tc.want || !fl.Changed {
					t.Errorf("%s --%s by %s = %q (changed %v); want %q", strings.Join(path, " "), name, tc.source, got, fl.Changed, tc.want)
				}
				if !strings.HasPrefix(prov[name], tc.from) || (tc.from == "") != (prov[name] == "") {
					t.Errorf("%s --%s by %s: provenance %q; want %q", strings.Join(path, " "), name, tc.source, prov[name], tc.from)
				}
			}
		}
	}
	if n < 150 {
		t.Errorf("walked %d flags; the command tree has far more", n)
	}
}

func TestRepeatableFlagFromEnvTakesOneValuePerLine(t *testing.T) {
	_, cmd := configured(t, []string{"send"}, nil, map[string]string{"HOOKPROOF_HEADER": "X-A: 1\nX-B: 2\n"})
	if got := cmd.Flags().Lookup("header").Value.(pflag.SliceValue).GetSlice(); len(got) != 2 || got[0] != "X-A: …" || got[1] != "X-B: …" {
		t.Errorf("headers = %q; want X-A and X-B", got)
	}
}

func TestConfigPrecedenceReachesTheConfig(t *testing.T) {
	path := writeFile(t, "hookproof.yaml", `
target: http://file.example/hook
auth: bearer
bearer-token: from-file
timeout: 7s
header: ["X-Env: file"]
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
		{"env @FILE", map[string]string{"HOOKPROOF_BEARER_TOKEN": "@" + secretFile}, nil, "http://file.example/hook", "from-at-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := &cobra.Command{Use: "x"}
			cf := targetFlags(cmd, harness.DefaultConfig())
			root := &cobra.Command{Use: "hookproof"}
			root.PersistentFlags().String("config", "", "")
			root.AddCommand(cmd)
			markConfigurable(root)
			if err := cmd.ParseFlags(append([]string{"--config", path}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			if err := resolveSources(cmd, func(k string) string { return tc.env[k] }, provenance{}); err != nil {
				t.Fatal(err)
			}
			cfg := cf.config()
			if cfg.Target != tc.target || cfg.Auth.BearerToken.Reveal() != tc.token {
				t.Errorf("target, token = %s, %s; want %s, %s", cfg.Target, cfg.Auth.BearerToken.Reveal(), tc.target, tc.token)
			}
			if cfg.Timeouts.Attempt.String() != "7s" || cfg.Auth.Type != harness.AuthBearer || len(cfg.Headers) != 1 || cfg.Headers[0].Value != "file" {
				t.Errorf("file values lost: %+v", cfg)
			}
		})
	}
}

// Help prints the defaults of the one default config, per command.
func TestHelpPrintsTheRealDefaults(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		{"certify", []string{"--time-scale float", "(default 0.01)", "(default 500ms)", "--required-rate float", "(default 50)", "(default 1048576)", "(default 30s)"}},
		{"send", []string{"(default 1)", "(default 30s)", "(default 5s)"}},
		{"load", []string{"--rate float", "(default 50)", "(default 30s)"}},
	} {
		out, _, code := cli(t, tc.cmd, "--help")
		if code != exitOK {
			t.Fatalf("%s --help: exit %d", tc.cmd, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s --help lacks %q", tc.cmd, w)
			}
		}
		if strings.Contains(out, "(default 0)") {
			t.Errorf("%s --help prints a zero default", tc.cmd)
		}
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

func TestEnvBadValueExits2NamingTheVariable(t *testing.T) {
	srv := startReceiver(t)
	for _, tc := range []struct {
		env, value string
		args       []string
	}{
		// Checked when load builds its run, after the sources are applied.
		{"HOOKPROOF_SHARD", "3/2", []string{"--rate", "10"}},
		// Checked by the flag's own parser.
		{"HOOKPROOF_RATE", "fast", nil},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			args := append([]string{"load", "--target", srv.WebhookURL(), "--duration", "1s"}, tc.args...)
			out, errOut, code := cli(t, args...)
			if code != exitUsage || !strings.Contains(errOut, tc.env) {
				t.Fatalf("exit %d; want 2 naming %s\nstdout: %s\nstderr: %s", code, tc.env, out, errOut)
			}
			noStackTrace(t, out, errOut)
		})
	}
}

// HOOKPROOF_RATE=100 and rate: 100 in hookproof.yaml each make load run at
// 100/s (the default is 50), judged from the rate the run requested.
func TestLoadRateFromEnvAndFile(t *testing.T) {
	srv := startReceiver(t)
	for _, tc := range []struct {
		name string
		env  string
		file string
	}{{"env", "100", ""}, {"file", "", "load:\n  rate: 100\n"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HOOKPROOF_RATE", tc.env)
			dir := t.TempDir()
			args := []string{"load", "--target", srv.WebhookURL(), "--duration", "1s", "--report-dir", dir}
			if tc.file != "" {
				args = append(args, "--config", writeFile(t, "hookproof.yaml", tc.file))
			}
			out, errOut, code := cli(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			if !strings.Contains(out, "Requests      100 ") {
				t.Errorf("summary does not show 100 requests in 1 s:\n%s", out)
			}
			rep, err := reports.Read(filepath.Join(dir, "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Load == nil || rep.Load.RequestedRate != 100 {
				t.Errorf("requested rate = %+v; want 100", rep.Load)
			}
		})
	}
}
