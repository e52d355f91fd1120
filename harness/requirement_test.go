package harness

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The catalogue is a contract published in docs/requirements.md: the code
// must hold exactly its IDs, in its order, with its levels and texts.
func TestCatalogueMatchesRequirementsDoc(t *testing.T) {
	doc, err := os.ReadFile("../docs/requirements.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range catalogueDiff(string(doc), Catalogue) {
		t.Error(p)
	}
}

// A drift in either direction is caught, so the check above can fail.
func TestCatalogueDiffFindsEachKindOfDrift(t *testing.T) {
	doc := "| ID | Level | Requirement | How it is checked |\n|---|---|---|---|\n" +
		"| ACK-01 | MUST | All `2xx`. | Send. |\n" +
		"| ACK-02 | SHOULD | Fast. | Time. |\n" +
		"| TLS-01 | MUST in `--profile production`, SHOULD otherwise | HTTPS. | Handshake. |\n"
	same := []Requirement{
		{ID: "ACK-01", Level: Must, Title: "All 2xx.", Check: "Send."},
		{ID: "ACK-02", Level: Should, Title: "Fast.", Check: "Time."},
		{ID: "TLS-01", Level: Should, Title: "HTTPS.", Check: "Handshake."},
	}
	if p := catalogueDiff(doc, same); len(p) != 0 {
		t.Fatalf("identical catalogues differ: %v", p)
	}
	for name, mutate := range map[string]func([]Requirement) []Requirement{
		"level":      func(c []Requirement) []Requirement { c[1].Level = Must; return c },
		"title":      func(c []Requirement) []Requirement { c[0].Title = "All 200."; return c },
		"check":      func(c []Requirement) []Requirement { c[2].Check = "Other."; return c },
		"extra ID":   func(c []Requirement) []Requirement { return append(c, Requirement{ID: "VAL-99", Level: Must}) },
		"missing ID": func(c []Requirement) []Requirement { return c[1:] },
		"order":      func(c []Requirement) []Requirement { c[0], c[1] = c[1], c[0]; return c },
	} {
		if p := catalogueDiff(doc, mutate(slices.Clone(same))); len(p) == 0 {
			t.Errorf("%s drift not found", name)
		}
	}
}

var docRow = regexp.MustCompile(`(?m)^\| ((?:ACK|IDEM|AUTH|VAL|RETRY|LOAD|TLS)-\d+) \| ([^|]+) \| (.+) \| (.+) \|$`)

// catalogueDiff lists every way cat differs from the tables of doc. Markdown
// code spans lose their backticks: the code's texts are printed as plain text.
func catalogueDiff(doc string, cat []Requirement) []string {
	var problems, docIDs []string
	plain := strings.NewReplacer("`", "")
	for _, m := range docRow.FindAllStringSubmatch(doc, -1) {
		id, level, title, check := m[1], strings.TrimSpace(m[2]), plain.Replace(m[3]), plain.Replace(m[4])
		docIDs = append(docIDs, id)
		i := slices.IndexFunc(cat, func(r Requirement) bool { return r.ID == id })
		if i < 0 {
			problems = append(problems, id+" is in the document, not in the catalogue")
			continue
		}
		r := cat[i]
		switch level {
		case "MUST in `--profile production`, SHOULD otherwise":
			if r.Level != Should || r.LevelFor(ProfileProduction) != Must {
				problems = append(problems, id+": want SHOULD, MUST in the production profile")
			}
		default:
			if string(r.Level) != level {
				problems = append(problems, id+" level = "+string(r.Level)+"; want "+level)
			}
		}
		if r.Title != title {
			problems = append(problems, id+" title = "+r.Title+"\n\twant "+title)
		}
		if r.Check != check {
			problems = append(problems, id+" check = "+r.Check+"\n\twant "+check)
		}
	}
	var ids []string
	for _, r := range cat {
		ids = append(ids, r.ID)
		if !slices.Contains(docIDs, r.ID) {
			problems = append(problems, r.ID+" is in the catalogue, not in the document")
		}
		if area, _, _ := strings.Cut(r.ID, "-"); !slices.Contains(Areas, area) {
			problems = append(problems, r.ID+" is in none of the areas "+strings.Join(Areas, ", "))
		}
	}
	if len(problems) == 0 && !slices.Equal(ids, docIDs) {
		problems = append(problems, "catalogue order "+strings.Join(ids, " ")+"\n\twant "+strings.Join(docIDs, " "))
	}
	return problems
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

// Every requirement explains itself: explain, the HTML report and the
// docs read the same text.
func TestEveryRequirementHasGuidance(t *testing.T) {
	for _, r := range Catalogue {
		g := r.Guide()
		if g.Answer == "" || len(g.Failures) == 0 {
			t.Errorf("%s: no guidance (what a correct receiver answers, common failures)", r.ID)
		}
	}
	if len(guidance) != len(Catalogue) {
		t.Errorf("%d guidance entries for %d requirements: an entry names an ID outside the catalogue", len(guidance), len(Catalogue))
	}
}
