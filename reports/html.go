package reports

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/hookproof/hookproof/harness"
)

//go:embed report.html.tmpl
var htmlTemplateText string

// htmlTemplate is parsed once; html/template escapes every value for its
// context (text, attribute, SVG), which is what keeps a hostile reason or
// body excerpt from becoming markup in a reviewer's browser.
var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms":        formatMS,
	"upper":     strings.ToUpper,
	"areaTitle": AreaTitle,
	"status":    statusWord,
	"headers":   sortedKeys[string],
	"answer":    answerLine,
	"time":      timeString,
	"pct":       percentText,
	"rate":      rateText,
	"num1":      numText,
	"capacity":  capacityText,
	"deref":     func(p *int) int { return *p },
	"guide": func(id string) *harness.Guidance {
		r, err := harness.LookupRequirement(id)
		if err != nil {
			return nil
		}
		g := r.Guide()
		return &g
	},
	"check": func(id string) string {
		r, _ := harness.LookupRequirement(id)
		return r.Check
	},
}).Parse(htmlTemplateText))

type htmlView struct {
	R *Report
	// Title names the kind of report: certification, partial
	// certification (a narrowed run) or load.
	Title      string
	Partial    bool
	LoadReport bool
	// NotJudged counts the requirements a load report does not judge.
	NotJudged int
	// Failures are the failed requirements, warnings included, for the
	// section the banner's IDs link to.
	Failures   []htmlFailure
	StatusHint string
	Headline   string
	Counts     Counts
	Duration   string
	Groups     []htmlGroup
	AckChart   *chart
	Status     *chart
	PerType    []typeRow
	LoadCharts []chart
	ConfigJSON string
}

type htmlFailure struct {
	Q       RequirementResult
	Warning bool
}

type htmlGroup struct {
	Area, Title             string
	Reqs                    []RequirementResult
	Passed, Failed, Skipped int
}

type typeRow struct {
	Type string
	P    Percentiles
}

// WriteHTML writes r as report.html: one self-contained page (inline CSS
// and SVG, no script library, no network) with the verdict banner, the
// requirements grouped by area with their evidence, the ack-latency and
// status-code charts, the load charts when a load ran, and the
// configuration snapshot. The page prints legibly: evidence opens for
// printing and the colours are kept.
func WriteHTML(w io.Writer, r *Report) error {
	if r == nil {
		return errors.New("reports: nil report")
	}
	v := htmlView{R: r, Title: ReportTitle(r), Partial: r.Partial() && r.Kind != KindLoad, LoadReport: r.Kind == KindLoad,
		Headline: r.Headline(), Counts: Count(r.Requirements), Duration: formatDuration(r.Duration())}
	for _, q := range r.Requirements {
		if q.Status == StatusFailed {
			v.Failures = append(v.Failures, htmlFailure{Q: q, Warning: Warning(q, r.Strict)})
		}
	}
	for _, g := range r.Areas() {
		reqs := g.Requirements
		if v.LoadReport {
			reqs = nil
			for _, q := range g.Requirements {
				if q.Status == StatusSkipped {
					v.NotJudged++
					continue
				}
				reqs = append(reqs, q)
			}
			if len(reqs) == 0 {
				continue
			}
		}
		hg := htmlGroup{Area: g.Area, Title: AreaTitle(g.Area), Reqs: reqs}
		c := Count(reqs)
		hg.Passed, hg.Failed, hg.Skipped = c.Passed, c.Failed, c.Skipped
		v.Groups = append(v.Groups, hg)
	}
	if d := r.Deliveries; d != nil && d.Total > 0 {
		ack := histogramChart("Ack latency distribution", d.Histogram, d.AckBudgetMS)
		st := statusChart("Status codes of every delivery attempt", d.StatusCodes)
		v.AckChart, v.Status = &ack, &st
		v.StatusHint = statusHint(r)
		for _, t := range sortedKeys(d.PerEventType) {
			v.PerType = append(v.PerType, typeRow{Type: t, P: d.PerEventType[t]})
		}
	}
	if l := r.Load; l != nil {
		v.LoadCharts = append(v.LoadCharts,
			seriesChart("Latency over time", " ms", l.Series,
				seriesSpec{name: "p50", class: "line-p50", value: func(p SeriesPoint) float64 { return p.P50 }},
				seriesSpec{name: "p99", class: "line-p99", value: func(p SeriesPoint) float64 { return p.P99 }}),
			seriesChart("Sent rate over time", "/s", l.Series,
				seriesSpec{name: "rate", class: "line-rate", value: func(p SeriesPoint) float64 { return p.Rate }}),
			histogramChart("Load latency distribution", l.Histogram, 0),
			statusChart("Load status codes", l.StatusCodes),
		)
	}
	if r.Config != nil {
		b, err := json.Marshal(r.Config)
		if err != nil {
			return fmt.Errorf("reports: render config snapshot: %w", err)
		}
		var out bytes.Buffer
		if err := json.Indent(&out, humanDurations(b), "", "  "); err != nil {
			return fmt.Errorf("reports: render config snapshot: %w", err)
		}
		v.ConfigJSON = out.String()
	}
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, v); err != nil {
		return fmt.Errorf("reports: render report.html: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("reports: write report.html: %w", err)
	}
	return nil
}

// ReportTitle names the report for its banner and headings: a load
// report, a partial certification (naming what narrowed it) or a
// certification.
func ReportTitle(r *Report) string {
	switch {
	case r.Kind == KindLoad:
		return "hookproof load report"
	case r.Partial():
		return "hookproof partial certification (" + r.Filter + ")"
	}
	return "hookproof certification report"
}

// statusHint explains amber answers on a report where they are expected:
// RETRY-02's overload burst sends above capacity on purpose, so a
// receiver that sheds load answers it 429 or 503, and RiskOS retries.
func statusHint(r *Report) string {
	d := r.Deliveries
	n := d.StatusCodes["429"] + d.StatusCodes["503"]
	if n == 0 {
		return ""
	}
	if r.Verdict == VerdictPass {
		return retryHint(r, n) + " Red bars on a passing report are answers to the deliberately invalid requests (missing or forged credentials, hostile bodies, other methods), which a correct receiver rejects."
	}
	return retryHint(r, n)
}

func retryHint(r *Report, n int) string {
	for _, q := range r.Requirements {
		if q.ID == "RETRY-02" && q.Status != StatusSkipped {
			return fmt.Sprintf("The %d answers 429/503 (amber) come mostly from RETRY-02's overload burst, which sends above the receiver's capacity on purpose: "+
				"shedding load with a retryable status is the right answer, RiskOS retries it, and RETRY-02 %s.", n, map[bool]string{true: "checked that every event was finally acknowledged", false: "found that not every event was finally acknowledged"}[q.Status == StatusPassed])
		}
	}
	return fmt.Sprintf("%d answers were 429/503 (amber): retryable, so RiskOS redelivers those events; RETRY-01 and RETRY-03 judge them.", n)
}

// durationKeys are the JSON names of the time.Duration fields of
// harness.Config, whose snapshot holds them as nanoseconds.
var durationKeys = sync.OnceValue(func() map[string]bool {
	keys := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case f.Type == reflect.TypeFor[time.Duration]() && name != "" && name != "-":
				keys[name] = true
			case f.Type.Kind() == reflect.Struct:
				walk(f.Type)
			}
		}
	}
	walk(reflect.TypeFor[harness.Config]())
	return keys
})

// humanDurations rewrites the configuration snapshot's durations
// (30000000000) in Go notation ("30s") for people; report.json keeps
// the numbers for scripts. Anything unexpected is left as it is.
func humanDurations(b []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return b
	}
	keys := durationKeys()
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if n, ok := e.(json.Number); ok && keys[k] {
					if i, err := n.Int64(); err == nil {
						x[k] = time.Duration(i).String()
						continue
					}
				}
				x[k] = walk(e)
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		}
		return v
	}
	out, err := json.Marshal(walk(v))
	if err != nil {
		return b
	}
	return out
}
