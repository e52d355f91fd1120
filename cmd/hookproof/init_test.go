package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const examplePath = "../../hookproof.example.yaml"

// testExample is what hookproof init writes.
func testExample() string {
	return exampleConfig(newRootCmd(io.Discard, io.Discard, func(string) string { return "" }, provenance{}))
}

func TestExampleConfigIsWhatInitWrites(t *testing.T) {
	want := testExample()
	if *update {
		if err := os.WriteFile(examplePath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Error("hookproof.example.yaml is not what hookproof init writes: run go test ./cmd/hookproof -run ExampleConfig -update")
	}
}

// uncommented turns every commented-out key of the example into a setting.
func uncommented(example string) string {
	var b strings.Builder
	for line := range strings.SplitAfterSeq(example, "\n") {
		b.WriteString(strings.TrimPrefix(line, "# "))
	}
	return b.String()
}

// With every line uncommented, the example is a valid config that names
// every flag of every command in that command's section, at its default: a
// flag added without regenerating the example fails here.
func TestExampleConfigCoversEveryFlag(t *testing.T) {
	path := writeFile(t, "hookproof.yaml", uncommented(testExample()))
	root := newRootCmd(io.Discard, io.Discard, func(string) string { return "" }, provenance{})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	file, err := parseConfig(path, data, root)
	if err != nil {
		t.Fatalf("the uncommented example does not parse: %v", err)
	}
	n := 0
	for _, c := range configCommands(root) {
		cmdPath := commandPath(c)
		sec := file
		for _, name := range cmdPath {
			sec = sec.subs[name]
			if sec == nil {
				break
			}
		}
		flags := settableFlags(c)
		if len(flags) > 0 && sec == nil {
			t.Errorf("the example has no section for hookproof %s", strings.Join(cmdPath, " "))
			continue
		}
		for _, f := range flags {
			n++
			if _, ok := sec.values[f.Name]; !ok {
				t.Errorf("the example's %s section lacks %s", strings.Join(cmdPath, "."), f.Name)
			}
		}
		if len(flags) == 0 || !c.Runnable() {
			continue
		}
		// Setting every key to its default changes no flag's value.
		_, cmd := configured(t, cmdPath, []string{"--config", path}, nil)
		for _, f := range settableFlags(cmd) {
			if f.Value.String() != f.DefValue {
				t.Errorf("hookproof %s --%s = %q from the example; its default is %q", strings.Join(cmdPath, " "), f.Name, f.Value.String(), f.DefValue)
			}
		}
	}
	if n < 150 {
		t.Errorf("checked %d flags; the command tree has far more", n)
	}
}

func TestInitWritesTheExampleAndRefusesToOverwrite(t *testing.T) {
	// init must work even where the config in effect is broken: replacing
	// it is what it is for.
	t.Setenv("HOOKPROOF_CONFIG", writeFile(t, "broken.yaml", "nonsense: [\n"))
	path := filepath.Join(t.TempDir(), "hookproof.yaml")
	if _, errOut, code := cli(t, "init", path); code != exitOK {
		t.Fatalf("init: exit %d\n%s", code, errOut)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != testExample() {
		t.Fatalf("init wrote something else than the example (%v)", err)
	}
	if err := os.WriteFile(path, []byte("mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := cli(t, "init", path)
	if code != exitUsage || !strings.Contains(errOut, "--force") {
		t.Errorf("init over an existing file: exit %d; want 2 naming --force\n%s", code, errOut)
	}
	if got, _ := os.ReadFile(path); string(got) != "mine\n" {
		t.Error("init without --force changed the existing file")
	}
	if _, errOut, code := cli(t, "init", "--force", path); code != exitOK {
		t.Fatalf("init --force: exit %d\n%s", code, errOut)
	}
	if got, _ := os.ReadFile(path); string(got) != testExample() {
		t.Error("init --force did not overwrite the file")
	}
}
