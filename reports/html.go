package reports

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strings"
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
}).Parse(htmlTemplateText))

type htmlView struct {
	R          *Report
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
	v := htmlView{R: r, Headline: r.Headline(), Counts: Count(r.Requirements), Duration: formatDuration(r.Duration())}
	for _, g := range r.Areas() {
		hg := htmlGroup{Area: g.Area, Title: AreaTitle(g.Area), Reqs: g.Requirements}
		c := Count(g.Requirements)
		hg.Passed, hg.Failed, hg.Skipped = c.Passed, c.Failed, c.Skipped
		v.Groups = append(v.Groups, hg)
	}
	if d := r.Deliveries; d != nil && d.Total > 0 {
		ack := histogramChart("Ack latency distribution", d.Histogram, d.AckBudgetMS)
		st := statusChart("Status codes of every delivery attempt", d.StatusCodes)
		v.AckChart, v.Status = &ack, &st
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
		if err := json.Indent(&out, b, "", "  "); err != nil {
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
