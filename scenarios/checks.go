package scenarios

import (
	"fmt"
	"strings"
	"unicode/utf8"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/hookproof/hookproof/fakes/riskos"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

// Checks labels a spec with the requirement it certifies: req:ID, its area
// and its level, so --label-filter can select by any of them. An ID not in
// the catalogue is a programming error caught by the dry-run test.
func Checks(id string) Labels {
	r, err := harness.LookupRequirement(id)
	if err != nil {
		panic(err)
	}
	return Label("req:"+id, "area:"+strings.ToLower(r.Area), "level:"+strings.ToLower(string(r.Level)))
}

// reqOf returns the requirement IDs among a spec's labels.
func reqOf(labels []string) []string {
	var ids []string
	for _, l := range labels {
		if id, ok := strings.CutPrefix(l, "req:"); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// evidenceEntry is the report-entry name the runner collects evidence from.
const evidenceEntry = "evidence"

// record attaches evidence to the running spec: always in the report,
// on the console only when the spec fails or in verbose mode.
func record(ev reports.Evidence) {
	AddReportEntry(evidenceEntry, ev, ReportEntryVisibilityFailureOrVerbose)
}

// recordAttempt records one delivery attempt as evidence.
func recordAttempt(d riskos.Delivery, a harness.Attempt, expected, summary string) {
	record(evidenceOf(d, a, expected, summary))
}

// evidenceOf turns an attempt into evidence with credentials redacted.
func evidenceOf(d riskos.Delivery, a harness.Attempt, expected, summary string) reports.Evidence {
	method := d.Method
	if method == "" {
		method = "POST"
	}
	if summary == "" {
		summary = fmt.Sprintf("%s %s event %s", method, orDefault(a.EventType, d.EventType), a.EventID)
	}
	ev := reports.Evidence{
		Summary:  summary,
		Status:   a.Status,
		EventID:  a.EventID,
		Expected: expected,
		Request: &reports.RequestEvidence{
			Method:      method,
			URL:         harness.RedactURL(stripQuery(orDefault(d.URL, ""))),
			Headers:     requestHeaders(d),
			BodyExcerpt: excerpt(d.Body, 240),
		},
		AnswerExcerpt: excerpt([]byte(a.Answer), 200),
	}
	if len(d.Body) <= maxReplayBody && utf8.Valid(d.Body) {
		ev.Request.Body = string(d.Body)
	}
	if a.Status != 0 || a.ErrorClass == harness.ErrNone {
		ev.LatencyMS = float64(a.Latency.Microseconds()) / 1000
	}
	if a.ErrorClass != harness.ErrNone {
		ev.Error = string(a.ErrorClass)
		if a.Error != "" {
			ev.Error += ": " + a.Error
		}
	}
	return ev
}

// maxReplayBody is the largest body kept whole in the evidence, so that a
// failure can be replayed from the report; larger ones keep an excerpt.
const maxReplayBody = 16 << 10

// Header placeholders: the evidence says which credentials went with a
// request without ever holding them.
const (
	authConfigured = "[the configured credentials]"
	authForged     = "[the forged credentials this check describes]"
)

// requestHeaders are the headers the delivery set, as evidence: the
// credentials as a placeholder, static config headers left out (they may
// be secret, and replaying with the same config adds them anyway).
func requestHeaders(d riskos.Delivery) map[string]string {
	h := map[string]string{}
	switch d.ContentType {
	case "":
		h["Content-Type"] = "application/json"
	case riskos.NoContentType:
	default:
		h["Content-Type"] = d.ContentType
	}
	for k, v := range d.Header {
		if len(v) > 0 && !strings.EqualFold(k, "Authorization") {
			h[k] = v[0]
		}
	}
	switch {
	case d.Authorize != nil:
		h["Authorization"] = authForged
	case !d.NoAuth:
		h["Authorization"] = authConfigured
	}
	return h
}

// stripQuery drops a query string, which may carry a credential on purpose
// (AUTH-03 puts the token there).
func stripQuery(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?[query redacted]"
	}
	return u
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func excerpt(b []byte, n int) string { return reports.Excerpt(b, n) }

// Be2xx matches a 2xx status.
func Be2xx() types.GomegaMatcher {
	return SatisfyAll(BeNumerically(">=", 200), BeNumerically("<", 300))
}

// note records a one-line observation as evidence (a pass needs evidence too).
func note(format string, args ...any) {
	record(reports.Evidence{Summary: fmt.Sprintf(format, args...)})
}
