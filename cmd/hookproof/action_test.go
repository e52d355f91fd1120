package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/hookproof/hookproof/internal/testbin"
)

const actionFile, actionScript = "../../action.yml", "../../action/run.sh"

// action is the part of action.yml the tests read.
type action struct {
	Inputs  map[string]struct{ Default string } `yaml:"inputs"`
	Outputs map[string]struct{ Value string }   `yaml:"outputs"`
	Runs    struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID  string            `yaml:"id"`
			Run string            `yaml:"run"`
			Env map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

// The action's inputs reach the script, every HOOKPROOF_* variable it sets
// is a certify flag, and every output it declares is one the script writes.
func TestActionDefinition(t *testing.T) {
	b, err := os.ReadFile(actionFile)
	if err != nil {
		t.Fatal(err)
	}
	var a action
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if a.Runs.Using != "composite" {
		t.Errorf("runs.using = %q, want composite", a.Runs.Using)
	}
	var env map[string]string
	for _, s := range a.Runs.Steps {
		if s.ID == "certify" {
			env = s.Env
			if !strings.Contains(s.Run, "action/run.sh") {
				t.Errorf("the certify step runs %q, not action/run.sh", s.Run)
			}
		}
	}
	if env == nil {
		t.Fatal("no step with id certify")
	}
	mapped := map[string]bool{}
	for _, v := range env {
		if m := regexp.MustCompile(`^\$\{\{ inputs\.([a-z0-9-]+) \}\}$`).FindStringSubmatch(v); m != nil {
			mapped[m[1]] = true
		}
	}
	for in := range a.Inputs {
		if !mapped[in] {
			t.Errorf("input %s does not reach the script", in)
		}
	}
	certify, _, err := newRootCmd(io.Discard, io.Discard, os.Getenv, provenance{}).Find([]string{"certify"})
	if err != nil {
		t.Fatal(err)
	}
	for name := range env {
		if strings.HasPrefix(name, "HOOKPROOF_ACTION_") || !strings.HasPrefix(name, "HOOKPROOF_") {
			continue
		}
		flag := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, "HOOKPROOF_"), "_", "-"))
		if certify.Flags().Lookup(flag) == nil || envName(flag) != name {
			t.Errorf("%s is not the variable of a certify flag", name)
		}
	}
	script, err := os.ReadFile(actionScript)
	if err != nil {
		t.Fatal(err)
	}
	for out, o := range a.Outputs {
		if o.Value != "${{ steps.certify.outputs."+out+" }}" {
			t.Errorf("output %s = %q, want the certify step's output of that name", out, o.Value)
		}
		if !strings.Contains(string(script), `echo "`+out+`=`) {
			t.Errorf("output %s is never written by action/run.sh", out)
		}
	}
}

// The action's script against the demo receiver, with GitHub's files
// faked: the summary is appended, the outputs say the verdict and where the
// reports are, the exit code is certify's, and the secret is nowhere.
func TestActionScript(t *testing.T) {
	bin := buildHookproof(t)
	script, err := filepath.Abs(actionScript)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "action-secret-5f2c9e"
	run := func(t *testing.T, env ...string) (out string, code int, outputs map[string]string, summary string) {
		t.Helper()
		dir := t.TempDir()
		ghOut, ghSummary := filepath.Join(dir, "github_output"), filepath.Join(dir, "step_summary")
		if err := os.WriteFile(ghSummary, []byte("earlier step\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", script)
		cmd.Dir = dir
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "HOOKPROOF_") && !strings.HasPrefix(kv, "GITHUB_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, append([]string{"HOOKPROOF_BIN=" + bin, "GITHUB_OUTPUT=" + ghOut, "GITHUB_STEP_SUMMARY=" + ghSummary,
			"HOOKPROOF_ACTION_DEMO=true", "HOOKPROOF_AUTH=bearer", "HOOKPROOF_BEARER_TOKEN=" + secret, "HOOKPROOF_PROFILE=quick"}, env...)...)
		b, code := testbin.Run(t, cmd)
		o, err := os.ReadFile(ghOut)
		if err != nil {
			t.Fatalf("GITHUB_OUTPUT: %v\n%s", err, b)
		}
		outputs = map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(string(o)), "\n") {
			k, v, _ := strings.Cut(l, "=")
			outputs[k] = v
		}
		s, err := os.ReadFile(ghSummary)
		if err != nil {
			t.Fatal(err)
		}
		for name, text := range map[string]string{"output": string(b), "GITHUB_OUTPUT": string(o), "GITHUB_STEP_SUMMARY": string(s)} {
			if strings.Contains(text, secret) {
				t.Errorf("the bearer token is in %s", name)
			}
		}
		if rd := outputs["report-dir"]; rd != "" {
			for _, k := range []string{"report-json", "junit", "summary", "html"} {
				if _, err := os.Stat(filepath.Join(dir, outputs[k])); err != nil && outputs["verdict"] != "error" {
					t.Errorf("output %s: %v", k, err)
				}
			}
		}
		return string(b), code, outputs, string(s)
	}

	t.Run("pass", func(t *testing.T) {
		out, code, outputs, summary := run(t, "HOOKPROOF_ACTION_ARGS=--label-filter=req:IDEM-02 --seed 5")
		if code != 0 || outputs["verdict"] != "pass" || outputs["exit-code"] != "0" {
			t.Fatalf("exit %d, outputs %v:\n%s", code, outputs, out)
		}
		if outputs["report-dir"] != "hookproof-report" || outputs["report-json"] != "hookproof-report/report.json" {
			t.Errorf("report outputs %v", outputs)
		}
		if !strings.HasPrefix(summary, "earlier step\n") || !strings.Contains(summary, "IDEM-02") {
			t.Errorf("summary.md not appended to the job summary:\n%s", summary)
		}
	})
	t.Run("a MUST fails", func(t *testing.T) {
		out, code, outputs, summary := run(t, "HOOKPROOF_ACTION_ARGS=--demo-fault no-dedupe --label-filter=req:IDEM-02", "HOOKPROOF_REPORT_DIR=out/reports")
		if code != 1 || outputs["verdict"] != "fail" || outputs["exit-code"] != "1" {
			t.Fatalf("exit %d, outputs %v:\n%s", code, outputs, out)
		}
		if outputs["summary"] != "out/reports/summary.md" {
			t.Errorf("summary output %q", outputs["summary"])
		}
		if !strings.Contains(summary, "IDEM-02") || !strings.Contains(strings.ToLower(summary), "fail") {
			t.Errorf("the job summary does not show IDEM-02 failing:\n%s", summary)
		}
	})
	t.Run("configuration error", func(t *testing.T) {
		out, code, outputs, summary := run(t, "HOOKPROOF_PROFILE=bogus")
		if code != 2 || outputs["verdict"] != "error" || outputs["exit-code"] != "2" {
			t.Fatalf("exit %d, outputs %v:\n%s", code, outputs, out)
		}
		if summary != "earlier step\n" {
			t.Errorf("the job summary changed without a report:\n%s", summary)
		}
	})
}
