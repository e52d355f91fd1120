package harness

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// The catalogue is a contract: it must hold exactly the IDs of requirements.md.
func TestCatalogueMatchesRequirementsDoc(t *testing.T) {
	doc, err := os.ReadFile("../../shared/requirements.md")
	if err != nil {
		t.Skipf("requirements.md not beside the checkout: %v", err)
	}
	var want []string
	for _, m := range regexp.MustCompile(`(?m)^\| ((?:ACK|IDEM|AUTH|VAL|RETRY|LOAD|TLS)-\d+) \| (MUST|SHOULD)`).FindAllStringSubmatch(string(doc), -1) {
		want = append(want, m[1])
		r, err := LookupRequirement(m[1])
		if err != nil {
			t.Errorf("LookupRequirement(%s): %v", m[1], err)
			continue
		}
		if r.ID != "TLS-01" && string(r.Level) != m[2] { // TLS-01's level depends on the profile

			t.Errorf("%s level = %s; want %s", r.ID, r.Level, m[2])
		}
	}
	var got []string
	for _, r := range Catalogue {
		got = append(got, r.ID)
		if !slices.Contains(Areas, r.Area) {
			t.Errorf("%s has area %q, not one of %v", r.ID, r.Area, Areas)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("catalogue IDs = %v; want %v", got, want)
	}
}

func TestTLS01IsMustInProduction(t *testing.T) {
	r, _ := LookupRequirement("TLS-01")
	if got := r.LevelFor(ProfileProduction); got != Must {
		t.Errorf("TLS-01 in production = %s; want MUST", got)
	}
	if got := r.LevelFor(ProfileQuick); got != Should {
		t.Errorf("TLS-01 in quick = %s; want SHOULD", got)
	}
}
