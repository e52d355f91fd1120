package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The HTML report draws its charts as inline SVG computed here, so the page
// needs no script library and no network. Geometry is in SVG user units;
// the template scales the viewBox to the page width.

// chart is a bar or line chart ready for the template.
type chart struct {
	Title, Caption string
	W, H           float64
	// Plot area.
	X0, Y0, X1, Y1 float64
	Bars           []chartBar
	Lines          []chartLine
	YTicks         []chartTick
	XTicks         []chartTick
	// Marker is a vertical reference line (the ack budget), if any.
	Marker *chartMarker
	Empty  string
}

type chartBar struct {
	X, Y, W, H float64
	Class      string
	// Label goes under (vertical bars) or left of (horizontal bars) the bar;
	// Value next to it; Tip is the hover title.
	Label, Value, Tip string
	LX, LY, VX, VY    float64
}

type chartLine struct {
	Class, Name, Points string
	// LegendX and LegendY place the legend entry.
	LegendX, LegendY float64
}

type chartTick struct {
	X, Y  float64
	Label string
}

type chartMarker struct {
	X, Y0, Y1, LX, LY float64
	Label             string
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, so axis ticks
// land on round numbers.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// roundLabel rounds a bucket bound for its axis label (the tooltip keeps
// the exact bound): 11.534336 ms reads as 11.5.
func roundLabel(v float64) float64 {
	switch {
	case v >= 100:
		return math.Round(v)
	case v >= 10:
		return math.Round(v*10) / 10
	}
	return math.Round(v*100) / 100
}

func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	if math.Abs(v) >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	if math.Abs(v) >= 10 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// yTicks returns four ticks from 0 to a nice maximum at or above top.
func yTicks(top, y0, y1 float64, unit string) (float64, []chartTick) {
	step := niceCeil(top / 4)
	maxV := step * 4
	var ticks []chartTick
	for i := 0; i <= 4; i++ {
		v := step * float64(i)
		ticks = append(ticks, chartTick{Y: y1 - (y1-y0)*v/maxV, Label: num(v) + unit})
	}
	return maxV, ticks
}

// histogramChart draws buckets as vertical bars, bars above budgetMS
// marked as over budget and the budget itself as a dashed line.
func histogramChart(title string, buckets []Bucket, budgetMS float64) chart {
	c := chart{Title: title, W: 560, H: 240, X0: 48, Y0: 16, X1: 548, Y1: 196}
	total := 0
	top := 0
	for _, b := range buckets {
		total += b.Count
		top = max(top, b.Count)
	}
	if total == 0 {
		c.Empty = "No answered deliveries to chart."
		return c
	}
	maxV, ticks := yTicks(float64(top), c.Y0, c.Y1, "")
	c.YTicks = ticks
	slot := (c.X1 - c.X0) / float64(len(buckets))
	gap := math.Min(6, slot*0.2)
	for i, b := range buckets {
		h := (c.Y1 - c.Y0) * float64(b.Count) / maxV
		x := c.X0 + slot*float64(i)
		class := "bar-ok"
		if budgetMS > 0 && b.UpperMS > budgetMS {
			class = "bar-over"
		}
		lower := 0.0
		if i > 0 {
			lower = buckets[i-1].UpperMS
		}
		bar := chartBar{
			X: x + gap/2, Y: c.Y1 - h, W: slot - gap, H: h, Class: class,
			Label: "≤" + num(roundLabel(b.UpperMS)),
			Tip:   fmt.Sprintf("%d deliveries in (%s ms, %s ms]", b.Count, num(lower), num(b.UpperMS)),
			LX:    x + slot/2, LY: c.Y1 + 14,
			VX: x + slot/2, VY: c.Y1 - h - 4,
		}
		if b.Count > 0 {
			bar.Value = strconv.Itoa(b.Count)
		}
		c.Bars = append(c.Bars, bar)
		if budgetMS > 0 && b.UpperMS == budgetMS {
			mx := x + slot
			c.Marker = &chartMarker{X: mx, Y0: c.Y0, Y1: c.Y1, LX: mx - 4, LY: c.Y0 + 10, Label: "budget " + num(budgetMS) + " ms"}
		}
	}
	thinLabels(&c, slot)
	c.Caption = fmt.Sprintf("Latency buckets in ms (upper bound); %d samples.", total)
	return c
}

// thinLabels keeps the x-labels (and the count above each bar) readable
// when bars are narrow: a label needs about 44 px, so only every k-th
// bar keeps its label, always the first and the last.
func thinLabels(c *chart, slot float64) {
	const labelPX = 44
	k := int(math.Ceil(labelPX / slot))
	if k <= 1 {
		return
	}
	for i := range c.Bars {
		if i%k != 0 && i != len(c.Bars)-1 {
			c.Bars[i].Label = ""
		}
		if slot < 24 {
			c.Bars[i].Value = "" // the tooltip still has it
		}
	}
	if n := len(c.Bars); n >= 2 && (n-1)%k != 0 && (n-1)%k < k/2+1 {
		// the last label would touch the one before it
		c.Bars[n-1-(n-1)%k].Label = ""
	}
}

// statusClass colours a status-code key: 2xx good, RiskOS-retryable
// statuses a warning, other statuses bad, transport errors apart.
func statusClass(code string) string {
	n, err := strconv.Atoi(code)
	switch {
	case err != nil:
		return "bar-err"
	case n >= 200 && n < 300:
		return "bar-ok"
	case n == 408 || n == 409 || n == 423 || n == 429 || n == 502 || n == 503 || n == 504:
		return "bar-warn"
	}
	return "bar-bad"
}

// statusChart draws one horizontal bar per status code (or error class).
func statusChart[V int | uint64](title string, codes map[string]V) chart {
	keys := sortedKeys(codes)
	rowH := 26.0
	c := chart{Title: title, W: 560, X0: 130, X1: 440, Y0: 8}
	c.H = c.Y0 + rowH*float64(max(1, len(keys))) + 8
	c.Y1 = c.H - 8
	var top, total V
	for _, k := range keys {
		top = max(top, codes[k])
		total += codes[k]
	}
	if total == 0 {
		c.Empty = "No answers to chart."
		c.H = 40
		return c
	}
	for i, k := range keys {
		v := codes[k]
		y := c.Y0 + rowH*float64(i)
		w := math.Max(2, (c.X1-c.X0)*float64(v)/float64(top))
		share := 100 * float64(v) / float64(total)
		c.Bars = append(c.Bars, chartBar{
			X: c.X0, Y: y + 4, W: w, H: rowH - 8, Class: statusClass(k),
			Label: statusLabel(k), LX: c.X0 - 8, LY: y + rowH/2 + 4,
			Value: fmt.Sprintf("%d (%.1f %%)", uint64(v), share), VX: c.X0 + w + 6, VY: y + rowH/2 + 4,
			Tip: fmt.Sprintf("%s: %d of %d", statusLabel(k), uint64(v), uint64(total)),
		})
	}
	c.Caption = "Green: 2xx. Amber: retryable (RiskOS retries). Red: any other status (the event is lost). Grey: no answer."
	return c
}

func statusLabel(code string) string {
	if _, err := strconv.Atoi(code); err == nil {
		return "HTTP " + code
	}
	return strings.ReplaceAll(code, "_", " ")
}

// seriesChart draws one line per named series over time t (seconds).
func seriesChart(title, unit string, pts []SeriesPoint, series ...seriesSpec) chart {
	c := chart{Title: title, W: 560, H: 240, X0: 56, Y0: 24, X1: 548, Y1: 200}
	if len(pts) < 2 {
		c.Empty = "Too few points to chart."
		return c
	}
	if len(pts) < 5 {
		// One point per interval of the load engine: a run of a few
		// seconds has a few points, which a line would overstate.
		c.Empty = fmt.Sprintf("The run lasted about %s s: only %d one-second intervals, too few for a chart over time. The latency distribution below covers every request.", num(pts[len(pts)-1].T+1), len(pts))
		return c
	}
	tMax := pts[len(pts)-1].T
	top := 0.0
	for _, p := range pts {
		tMax = math.Max(tMax, p.T)
		for _, s := range series {
			top = math.Max(top, s.value(p))
		}
	}
	if tMax <= 0 {
		tMax = 1
	}
	maxV, ticks := yTicks(top, c.Y0, c.Y1, unit)
	c.YTicks = ticks
	xStep := niceCeil(tMax / 5)
	for t := 0.0; t <= tMax+1e-9; t += xStep {
		c.XTicks = append(c.XTicks, chartTick{X: c.X0 + (c.X1-c.X0)*t/tMax, Y: c.Y1 + 16, Label: num(t) + " s"})
	}
	for i, s := range series {
		var b strings.Builder
		for j, p := range pts {
			if j > 0 {
				b.WriteByte(' ')
			}
			x := c.X0 + (c.X1-c.X0)*p.T/tMax
			y := c.Y1 - (c.Y1-c.Y0)*s.value(p)/maxV
			fmt.Fprintf(&b, "%.1f,%.1f", x, y)
		}
		c.Lines = append(c.Lines, chartLine{Class: s.class, Name: s.name, Points: b.String(), LegendX: c.X0 + 8 + 90*float64(i), LegendY: 12})
	}
	c.Caption = fmt.Sprintf("%d intervals over %s s.", len(pts), num(tMax))
	return c
}

type seriesSpec struct {
	name, class string
	value       func(SeriesPoint) float64
}
