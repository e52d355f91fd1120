package reports

import (
	"strings"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// NewRunReport is what every report of a run says about the run itself,
// certify's, hookproof load's and a merge of raw load results alike: tool,
// profile, redacted target, times, the configuration, and a loud note when
// TLS was not verified. The caller adds requirements, figures and notes,
// then decides the verdict.
func NewRunReport(cfg harness.Config, started, finished time.Time, interrupted bool) *Report {
	rep := &Report{
		Tool:        Tool{Name: "hookproof", Version: harness.Version},
		Profile:     cfg.Profile,
		Target:      harness.RedactURL(cfg.Target),
		StartedAt:   started,
		FinishedAt:  finished,
		Interrupted: interrupted,
		Insecure:    cfg.TLS.InsecureSkipVerify,
		Config:      cfg,
		Seed:        cfg.Seed,
		Filter:      runFilter(cfg),
	}
	if cfg.TLS.InsecureSkipVerify {
		rep.Notes = append(rep.Notes, "TLS verification was OFF (--insecure-skip-verify): this run cannot certify the endpoint's transport")
	}
	return rep
}

// runFilter names what narrowed the run, "" for a whole certification.
func runFilter(cfg harness.Config) string {
	var f []string
	if cfg.LabelFilter != "" {
		f = append(f, "--label-filter "+cfg.LabelFilter)
	}
	if len(cfg.EventTypes) > 0 {
		f = append(f, "--event-types "+strings.Join(cfg.EventTypes, ","))
	}
	return strings.Join(f, "; ")
}
