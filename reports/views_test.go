package reports

import (
	"bytes"
	"strings"
	"testing"
)

func render(t *testing.T, r *Report) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, fr := range Renderers {
		var b bytes.Buffer
		if err := fr.Render(&b, r); err != nil {
			t.Fatalf("%s: %v", fr.Name, err)
		}
		out[fr.Name] = b.String()
	}
	var b bytes.Buffer
	if err := WriteConsole(&b, r, false); err != nil {
		t.Fatal(err)
	}
	out["console"] = b.String()
	return out
}

// A narrowed run is a partial certification everywhere, naming its filter.
func TestPartialRunIsHeadlinedPartial(t *testing.T) {
	r := shouldOnlyReport(false)
	r.Filter = "--label-filter req:ACK-03 || req:ACK-01"
	for name, out := range render(t, r) {
		if name == "report.json" {
			if !strings.Contains(out, `"filter": "--label-filter req:ACK-03 || req:ACK-01"`) {
				t.Errorf("report.json does not record the filter")
			}
			continue
		}
		if name == "junit.xml" {
			if !strings.Contains(out, `<property name="partial" value="--label-filter req:ACK-03 || req:ACK-01">`) {
				t.Errorf("junit.xml does not mark the run partial")
			}
			continue
		}
		low := strings.ToLower(out)
		if !strings.Contains(low, "partial certification") {
			t.Errorf("%s does not say partial certification", name)
		}
		if strings.Contains(low, "certification: pass") || strings.Contains(low, "certification report: pass") {
			t.Errorf("%s headlines a partial run as a certification pass", name)
		}
	}
	if out := render(t, r)["summary.md"]; !strings.Contains(out, "req:ACK-03") {
		t.Errorf("summary.md does not name the filter:\n%s", out)
	}
}

// A hookproof load report is titled as one and does not open with the
// requirements it does not judge.
func TestLoadReportIsALoadReport(t *testing.T) {
	r := scrubbedFixture()
	r.Kind = KindLoad
	for i := range r.Requirements {
		if r.Requirements[i].ID != "LOAD-01" {
			r.Requirements[i].Status, r.Requirements[i].Reason, r.Requirements[i].Evidence = StatusSkipped, "not judged by hookproof load", nil
		} else {
			r.Requirements[i].Status = StatusPassed
		}
	}
	r.Decide(false)
	out := render(t, r)
	html, md := out["report.html"], out["summary.md"]
	if !strings.Contains(html, "<h1>hookproof load report</h1>") || !strings.HasPrefix(md, "## hookproof load report: PASS") {
		t.Errorf("not titled as a load report:\n%s", md[:min(200, len(md))])
	}
	if n := strings.Count(html, `data-status="skipped"`); n != 0 {
		t.Errorf("report.html lists %d not-judged rows", n)
	}
	if strings.Index(html, `id="load"`) > strings.Index(html, `id="requirements"`) {
		t.Error("report.html puts the requirements before the load figures")
	}
	if strings.Count(md, "| skipped |") != 0 || !strings.Contains(md, "35 other requirements are not judged") {
		t.Errorf("summary.md lists the not-judged rows instead of counting them:\n%s", md)
	}
}

// The generator's workers show in both renderers, and a generator that ran
// out of them is called out: part of the latency may then be its own.
func TestLoadReportShowsTheGeneratorsWorkers(t *testing.T) {
	for _, c := range []struct {
		w    Workers
		want string
		warn bool
	}{
		{Workers{Peak: 40, Bound: 500}, "Generator workers: peak 40 of the bound 500", false},
		{Workers{Peak: 500, Bound: 500}, "Generator workers: peak 500 of the bound 500: all in use", true},
		{Workers{Bound: 50}, "Generator workers: bound 50", false},
	} {
		r := scrubbedFixture()
		r.Load.Workers = &c.w
		out := render(t, r)
		for _, name := range []string{"report.html", "summary.md"} {
			doc := out[name]
			if !strings.Contains(doc, c.want) {
				t.Errorf("%s for %+v: no %q", name, c.w, c.want)
			}
			if warned := strings.Contains(doc, "latency from the schedule may be the generator&#39;s") || strings.Contains(doc, "latency from the schedule may be the generator's"); warned != c.warn {
				t.Errorf("%s for %+v: warns of the generator's lag: %v; want %v", name, c.w, warned, c.warn)
			}
		}
	}
}

// GitHub autolinks a bare URL; a backslash escape inside it would end up in
// the href.
func TestMarkdownKeepsBareURLsLinkable(t *testing.T) {
	got := mdEscape("effects read through https://127.0.0.1:8081/_hookproof/effects?a=b|c and *bold*")
	if !strings.Contains(got, "https://127.0.0.1:8081/_hookproof/effects?a=b%7Cc") || !strings.Contains(got, `\*bold\*`) {
		t.Errorf("mdEscape = %q", got)
	}
	if strings.Contains(mdEscape("https://x.example/<script>"), "<") {
		t.Error("a URL may carry markup into the Markdown")
	}
}

// The configuration block shows durations as people write them.
func TestHTMLConfigShowsDurations(t *testing.T) {
	html := render(t, scrubbedFixture())["report.html"]
	start := strings.Index(html, `id="config-json"`)
	if start < 0 {
		t.Fatal("no config block")
	}
	block := html[start:]
	block = block[:strings.Index(block, "</pre>")]
	if strings.Contains(block, "30000000000") || !strings.Contains(block, `&#34;attempt&#34;: &#34;30s&#34;`) {
		t.Errorf("config block durations are not in Go notation:\n%s", block)
	}
}

// Failures come first, linked from the banner, with their reproduction.
func TestHTMLFailuresFirst(t *testing.T) {
	r := scrubbedFixture()
	for i := range r.Requirements {
		if r.Requirements[i].ID == "ACK-02" {
			r.Requirements[i].Reproduce = &Reproduction{Seed: 7, Command: "hookproof certify --target https://receiver.example.com/webhooks/riskos --seed 7 --label-filter req:ACK-02"}
		}
	}
	html := render(t, r)["report.html"]
	fail := strings.Index(html, `id="failures"`)
	reqs := strings.Index(html, `id="requirements"`)
	if fail < 0 || fail > reqs {
		t.Fatalf("no failures section before the requirements")
	}
	for _, q := range r.Requirements {
		if q.Status != StatusFailed {
			continue
		}
		for _, want := range []string{`href="#fail-` + q.ID + `"`, `id="fail-` + q.ID + `"`, `href="#req-` + q.ID + `"`} {
			if !strings.Contains(html, want) {
				t.Errorf("%s: no %s", q.ID, want)
			}
		}
	}
	if !strings.Contains(html[fail:reqs], "--label-filter req:ACK-02") {
		t.Error("the failures section does not show the reproduction")
	}
	if !strings.Contains(html, "What a correct receiver answers") {
		t.Error("rows do not carry the explain text")
	}
}
