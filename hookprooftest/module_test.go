package hookprooftest_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/hookproof/hookproof/internal/testbin"
)

// receiverTest is the test file of a throwaway receiver module outside the
// repository, as a receiver team would write it: TestX certifies the
// handler (the reference receiver, with no dedupe when HANDLER=no-dedupe),
// TestY runs the module's own Ginkgo suite in the same binary, and
// TestInside calls Certify from inside a Ginkgo spec, which must be refused.
const receiverTest = `package receivertest

import (
	"context"
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hookproof/hookproof/fakes/receiver"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/hookprooftest"
)

func certify(t *testing.T) {
	var faults []receiver.Fault
	if os.Getenv("HANDLER") == "no-dedupe" {
		faults = append(faults, receiver.FaultNoDedupe)
	}
	rx, err := receiver.New(receiver.Options{Auth: harness.AuthConfig{Type: harness.AuthBearer, BearerToken: "tok"}, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	hookprooftest.Certify(t, rx, hookprooftest.Path(receiver.DefaultPath), hookprooftest.BearerToken("tok"),
		hookprooftest.Effects(func(_ context.Context, id string) (int, error) { return rx.Count(id), nil }))
}

func TestX(t *testing.T) { certify(t) }

var ownRan int
var outer *testing.T

var _ = Describe("the module's own suite", func() {
	It("runs beside the certification", func() { ownRan++ })
	It("calls Certify from inside a spec", Label("inside"), func() { certify(outer) })
})

func TestY(t *testing.T) {
	RegisterFailHandler(Fail)
	suite, _ := GinkgoConfiguration()
	suite.LabelFilter = "!inside"
	RunSpecs(t, "own", suite)
	if ownRan != 1 {
		t.Errorf("own spec ran %d times, want 1", ownRan)
	}
}

func TestInside(t *testing.T) {
	if os.Getenv("INSIDE") == "" {
		t.Skip("set INSIDE=1")
	}
	outer = t
	RegisterFailHandler(Fail)
	suite, _ := GinkgoConfiguration()
	suite.LabelFilter = "inside"
	RunSpecs(t, "own", suite)
}
`

// The throwaway module is built and tested with the real go command,
// against this checkout through a replace directive, as a receiver team's
// module would be.
func TestThrowawayModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a module outside the repository")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info")
	}
	// The same versions as this module, so nothing new is resolved.
	requires := ""
	for _, d := range bi.Deps {
		if d.Path == "github.com/onsi/ginkgo/v2" || d.Path == "github.com/onsi/gomega" {
			requires += "\t" + d.Path + " " + d.Version + "\n"
		}
	}
	dir := t.TempDir()
	gomod := "module example.com/receivertest\n\ngo 1.26\n\nrequire (\n\tgithub.com/hookproof/hookproof v0.0.0\n" + requires +
		")\n\nreplace github.com/hookproof/hookproof => " + root + "\n"
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"go.mod": gomod, "go.sum": string(sum), "x_test.go": receiverTest} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goTest := func(t *testing.T, env []string, args ...string) (string, int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", append([]string{"test", "-count=1", "-v"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), append([]string{"GOFLAGS=-mod=mod -buildvcs=false", "GOWORK=off", "GOTOOLCHAIN=local"}, env...)...)
		return testbin.Run(t, cmd)
	}

	t.Run("correct handler passes", func(t *testing.T) {
		out, code := goTest(t, nil, "-run", "^TestX$|^TestY$")
		if code != 0 {
			t.Fatalf("go test exit %d:\n%s", code, out)
		}
		for _, want := range []string{"--- PASS: TestX/ACK-01", "--- PASS: TestX/IDEM-02", "--- PASS: TestX/LOAD-01", "--- SKIP: TestX/IDEM-05", "--- PASS: TestY"} {
			if !strings.Contains(out, want) {
				t.Errorf("no %q in:\n%s", want, out)
			}
		}
	})
	t.Run("handler without dedupe fails IDEM-02", func(t *testing.T) {
		out, code := goTest(t, []string{"HANDLER=no-dedupe"}, "-run", "TestX/IDEM")
		if code != 1 {
			t.Errorf("go test exit %d, want 1", code)
		}
		if !strings.Contains(out, "--- FAIL: TestX/IDEM-02") {
			t.Errorf("TestX/IDEM-02 did not fail by name:\n%s", out)
		}
		if !strings.Contains(out, "pass the Restart option") {
			t.Errorf("IDEM-05's skip reason names a command-line flag, not the option:\n%s", out)
		}
		if strings.Contains(out, "TestX/ACK-01") {
			t.Errorf("-run TestX/IDEM ran ACK-01 too:\n%s", out)
		}
	})
	t.Run("Certify inside a Ginkgo spec is refused", func(t *testing.T) {
		out, code := goTest(t, []string{"INSIDE=1"}, "-run", "^TestInside$")
		if code != 1 || !strings.Contains(out, "Certify was called while a Ginkgo node is running") {
			t.Errorf("go test exit %d, want 1 with the refusal:\n%s", code, out)
		}
	})
}
