package hookprooftest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/hookproof/hookproof/fakes/receiver"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

// reference is hookproof's reference receiver with bearer auth and its
// effects count, as a receiver's test would wire its own handler.
func reference(t *testing.T, faults ...receiver.Fault) (*receiver.Receiver, []Option) {
	t.Helper()
	rx, err := receiver.New(receiver.Options{Auth: harness.AuthConfig{Type: harness.AuthBearer, BearerToken: "tok"}, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rx.Close)
	return rx, []Option{Path(receiver.DefaultPath), BearerToken("tok"),
		Effects(func(_ context.Context, id string) (int, error) { return rx.Count(id), nil })}
}

func TestCertifyReportsEveryRequirement(t *testing.T) {
	if testing.Short() {
		t.Skip("a certification run")
	}
	dir := t.TempDir()
	rx, opts := reference(t)
	Certify(t, rx, append(opts, LabelFilter("area:ack || area:idem || req:AUTH-01"), ReportDir(dir), Seed(3))...)

	rep, err := reports.Read(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, r := range rep.Requirements {
		status[r.ID] = r.Status
	}
	for id, want := range map[string]string{"ACK-01": "passed", "IDEM-02": "passed", "AUTH-01": "passed", "VAL-01": "skipped"} {
		if status[id] != want {
			t.Errorf("%s: %q, want %q", id, status[id], want)
		}
	}
	if len(rep.Requirements) != len(harness.Catalogue) {
		t.Errorf("%d requirements reported, want the catalogue's %d", len(rep.Requirements), len(harness.Catalogue))
	}
	for _, f := range []string{"junit.xml", "summary.md", "report.html"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if rep.Verdict != reports.VerdictPass {
		t.Errorf("verdict %s: %s", rep.Verdict, rep.Headline())
	}
}

func TestCertifyWithOAuth2Issuer(t *testing.T) {
	if testing.Short() {
		t.Skip("a certification run")
	}
	iss := NewIssuer(t)
	rx, err := receiver.New(receiver.Options{Auth: harness.AuthConfig{Type: harness.AuthOAuth2}, Verifier: receiver.TokenVerifierFunc(iss.Verify)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rx.Close)
	dir := t.TempDir()
	Certify(t, rx, Path(receiver.DefaultPath), OAuth2(iss), LabelFilter("req:AUTH-01 || req:AUTH-05"), ReportDir(dir))
	rep, err := reports.Read(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Requirements {
		if (r.ID == "AUTH-01" || r.ID == "AUTH-05") && r.Status != reports.StatusPassed {
			t.Errorf("%s %s: %s", r.ID, r.Status, r.Reason)
		}
	}
	if iss.srv.Issued() == 0 {
		t.Error("no token was fetched from the issuer")
	}
}

func TestEffectsProbeIsCheckedFirst(t *testing.T) {
	p := funcProbe(func(context.Context, string) (int, error) { return 1, nil })
	if err := checkProbe(t.Context(), p); err == nil {
		t.Error("a probe counting 1 for an event_id never sent was accepted")
	}
	p = funcProbe(func(context.Context, string) (int, error) { return 0, nil })
	if err := checkProbe(t.Context(), p); err != nil {
		t.Error(err)
	}
}

func TestRunFilterFollowsTheSubtestPattern(t *testing.T) {
	for _, tc := range []struct {
		label, sub, want string
		ok               bool
	}{
		{"", "", "", true},
		{"area:auth", "", "area:auth", true},
		{"", "IDEM-0[12]", "req:IDEM-01 || req:IDEM-02", true},
		{"area:idem", "^IDEM-02$", "(area:idem) && (req:IDEM-02)", true},
		{"", "NOPE", "", false},
	} {
		got, ok := runFilter(tc.label, tc.sub)
		if got != tc.want || ok != tc.ok {
			t.Errorf("runFilter(%q, %q) = %q, %v; want %q, %v", tc.label, tc.sub, got, ok, tc.want, tc.ok)
		}
	}
	if got := splitRun(`TestX/IDEM-0[1/2]/deeper`); len(got) != 3 || got[1] != "IDEM-0[1/2]" {
		t.Errorf("splitRun = %q", got)
	}
	for _, tc := range []struct{ run, name, want string }{
		{"TestX/IDEM", "TestX", "IDEM"},
		{"TestX", "TestX", ""},
		{"TestX/receiver/ACK", "TestX/receiver", "ACK"},
		{"TestX/receiver", "TestX/receiver", ""},
	} {
		if got := patternBelow(tc.run, tc.name); got != tc.want {
			t.Errorf("patternBelow(%q, %q) = %q, want %q", tc.run, tc.name, got, tc.want)
		}
	}
}

// This package's tests are themselves a binary with a Ginkgo suite of its
// own (below): the certifications above run before it, and it must still
// find its specs, and its configuration, as registered.
var ownSpecsRan, detected = 0, error(nil)

var _ = ginkgo.Describe("the test binary's own suite", func() {
	ginkgo.It("runs after certifications", func() { ownSpecsRan++ })
	ginkgo.It("is refused to Certify from inside a spec", func() { detected = checkGinkgo() })
})

func TestZOwnGinkgoSuiteAfterCertify(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the certifications to have run first")
	}
	rx, opts := reference(t)
	Certify(t, rx, append(opts, LabelFilter("req:ACK-01"))...)

	gomega.RegisterFailHandler(ginkgo.Fail)
	if !ginkgo.RunSpecs(t, "own suite") {
		t.Fatal("the own suite failed")
	}
	if ownSpecsRan != 1 {
		t.Errorf("own spec ran %d times, want 1", ownSpecsRan)
	}
	if detected != errInsideGinkgo {
		t.Errorf("checkGinkgo inside a spec = %v, want errInsideGinkgo", detected)
	}
	if sc, _ := ginkgo.GinkgoConfiguration(); sc.LabelFilter != "" {
		t.Errorf("the certification's label filter %q leaked into the binary's Ginkgo configuration", sc.LabelFilter)
	}
}
