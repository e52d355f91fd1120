package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/harness/load"
	"github.com/hookproof/hookproof/reports"
	"github.com/hookproof/hookproof/scenarios"
)

type reportOptions struct {
	from      []string
	format    string
	output    string
	reportDir string
	// merge only: raw vegeta results of load shards, merged exactly.
	results   []string
	ackBudget time.Duration
	rate      float64
}

// reportFormats maps each --format spelling to its renderer.
var reportFormats = map[string]reports.Renderer{
	"html":     reports.WriteHTML,
	"md":       reports.WriteMarkdown,
	"markdown": reports.WriteMarkdown,
	"junit":    reports.WriteJUnit,
	"json":     reports.WriteJSON,
}

func newReportCmd() *cobra.Command {
	cmd := reportCommand("report --from report.json --format html|md|junit|json",
		"Re-render a report.json, or merge the reports of shards into one",
		`report reads one or more report.json files (--from, repeatable) and renders
them in another format, to stdout or --output FILE; --report-dir DIR writes all
four files (report.json, junit.xml, summary.md, report.html). Several --from
files are shards of one run (a CI matrix, an Indexed Job): they are merged into
one report with one verdict (see hookproof report merge).
Exit codes: 0 the (merged) verdict is pass; 1 it is fail, so CI can gate on a
merged report; 2 bad input (the message names the file and field).`)
	cmd.AddCommand(reportCommand("merge [report.json ...]",
		"Merge the report.json files of shards of one run into one report with one verdict",
		`merge combines the reports of shards of one run (--from, repeatable, or
file arguments) into one report: requirement statuses merge failed over passed
over skipped; counts, rates and status codes add up; latency percentiles are
the maximum over the shards (an upper bound, which the report notes). Reports
of different targets or profiles are refused. Output as for hookproof report;
the default format here is json, ready for another merge.

--results FILE (repeatable) reads the raw results of load shards (hookproof
load --shard i/n --output FILE, vegeta's format) and builds the load section
from all of them at once, so its percentiles are exact over the union; LOAD-01
is judged on it (--ack-budget, default 500ms; --rate is the whole run's rate,
for the report). Raw results hold when each hit was sent, not when it was
scheduled: that p99 is from the actual send. With --from as well, the reports'
other requirement results are merged in and their load sections replaced.
Exit codes: 0 the merged verdict is pass; 1 it is fail; 2 bad input.`))
	return cmd
}

// reportCommand builds report and its merge alias: the same flags and run,
// except that merge also takes files as arguments and defaults to JSON.
func reportCommand(use, short, long string) *cobra.Command {
	var o reportOptions
	merge := strings.HasPrefix(use, "merge")
	cmd := &cobra.Command{Use: use, Short: short, Long: long, Args: cobra.NoArgs}
	if merge {
		cmd.Args = cobra.ArbitraryArgs
	}
	fs := cmd.Flags()
	fs.StringArrayVar(&o.from, "from", nil, "report.json to read (repeatable: shards are merged)")
	formatHelp := "output format: html, md, junit or json"
	if merge {
		formatHelp += " (default json)"
	} else {
		formatHelp += " (required unless --report-dir)"
	}
	fs.StringVar(&o.format, "format", "", formatHelp)
	fs.StringVar(&o.output, "output", "", "write the rendering to FILE instead of stdout")
	fs.StringVar(&o.reportDir, "report-dir", "", "write report.json, junit.xml, summary.md and report.html here")
	if merge {
		fs.StringArrayVar(&o.results, "results", nil, "vegeta results file of a load shard (repeatable), merged exactly")
		fs.DurationVar(&o.ackBudget, "ack-budget", harness.DefaultConfig().Timeouts.AckBudget, "with --results: p99 ack latency LOAD-01 allows")
		fs.Float64Var(&o.rate, "rate", 0, "with --results: the whole run's requested rate in events/s, for the report")
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		o.from = append(o.from, args...)
		if merge && o.format == "" && o.reportDir == "" {
			o.format = "json"
		}
		return runReport(cmd, o)
	}
	return cmd
}

func runReport(cmd *cobra.Command, o reportOptions) error {
	var errs []error
	render, ok := reportFormats[strings.ToLower(o.format)]
	switch {
	case o.format == "" && o.reportDir == "":
		errs = append(errs, errors.New("--format: required (html, md, junit or json) unless --report-dir is given"))
	case o.format != "" && !ok:
		errs = append(errs, fmt.Errorf("--format: %q is not html, md, junit or json", o.format))
	case o.format == "" && o.output != "":
		errs = append(errs, errors.New("--output: needs --format"))
	}
	if len(o.from) == 0 && len(o.results) == 0 {
		errs = append(errs, errors.New("--from: required (a report.json written by --report-dir)"))
	}
	if len(o.results) > 0 {
		if o.ackBudget <= 0 {
			errs = append(errs, fmt.Errorf("--ack-budget: must be positive, got %s", o.ackBudget))
		}
		if math.IsNaN(o.rate) || math.IsInf(o.rate, 0) || o.rate < 0 {
			errs = append(errs, fmt.Errorf("--rate: %g is not a rate ≥ 0", o.rate))
		}
	}
	var reps []*reports.Report
	for _, path := range o.from {
		r, err := reports.Read(path)
		if err != nil {
			errs = append(errs, &fileError{path: path, err: err})
			continue
		}
		reps = append(reps, r)
	}
	if err := errors.Join(errs...); err != nil {
		return usageErr(err)
	}
	var rep *reports.Report
	if len(reps) > 0 {
		var err error
		if rep, err = mergeReports(o.from, reps); err != nil {
			return usageErr(err)
		}
	}
	if len(o.results) > 0 {
		rs, err := summarizeResultFiles(o.results)
		if err != nil {
			return usageErr(err)
		}
		if rep, err = withResults(rep, rs, o); err != nil {
			return usageErr(err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "hookproof report: %d results from %d files (%s): LOAD-01 %s\n",
			rs.Summary.Requests, len(o.results), strings.Join(rs.AttackNames(), ", "), reqLine(rep, "LOAD-01"))
	}
	// Read reports may come from anywhere (an older version, a hand edit):
	// scrub again before rendering, since renderers never do.
	reports.Scrub(rep, nil)

	if ok {
		var buf bytes.Buffer
		if err := render(&buf, rep); err != nil {
			return fmt.Errorf("--format %s: %w", o.format, err)
		}
		if err := writeRendering(cmd.OutOrStdout(), o.output, buf.Bytes()); err != nil {
			return err
		}
	}
	if o.reportDir != "" {
		if err := reports.WriteAll(o.reportDir, rep); err != nil {
			return fmt.Errorf("--report-dir: %w", err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "hookproof report: reports written to %s\n", o.reportDir)
	}
	if rep.Verdict != reports.VerdictPass {
		return failedErr(fmt.Errorf("verdict fail: %s", rep.Headline()))
	}
	return nil
}

// mergeReports merges shard reports, first checking what Merge refuses so
// the message names the file rather than an index.
func mergeReports(paths []string, reps []*reports.Report) (*reports.Report, error) {
	if len(reps) == 1 {
		return reps[0], nil
	}
	var errs []error
	for i, r := range reps[1:] {
		if r.Target != reps[0].Target {
			errs = append(errs, fmt.Errorf("--from: %s: target: %q differs from %q in %s; shards of one run share a target", paths[i+1], r.Target, reps[0].Target, paths[0]))
		}
		if r.Profile != reps[0].Profile {
			errs = append(errs, fmt.Errorf("--from: %s: profile: %q differs from %q in %s; shards of one run share a profile", paths[i+1], r.Profile, reps[0].Profile, paths[0]))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	rep, err := reports.Merge(reps...)
	if err != nil {
		return nil, fmt.Errorf("--from: %w", err)
	}
	return rep, nil
}

// writeRendering writes to stdout, or atomically to path, so a failed
// re-render never leaves half a file where CI looks for one.
func writeRendering(stdout io.Writer, path string, b []byte) error {
	if path == "" {
		_, err := stdout.Write(b)
		return err
	}
	if err := reports.WriteFileAtomic(path, b); err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	return nil
}

// fileError names the file on every line of a multi-problem error:
// reports.Read joins one line per bad field but names the file only on the
// first, and with several --from files a reader must know which one each
// line is about.
type fileError struct {
	path string
	err  error
}

func (e *fileError) Error() string {
	lines := strings.Split(e.err.Error(), "\n")
	for i, l := range lines {
		if i == 0 && strings.Contains(l, e.path) {
			lines[i] = "--from: " + l
			continue
		}
		lines[i] = "--from: " + e.path + ": " + l
	}
	return strings.Join(lines, "\n")
}

func (e *fileError) Unwrap() error { return e.err }

// summarizeResultFiles reads the shards' raw results into one summary.
func summarizeResultFiles(paths []string) (*load.ResultsSummary, error) {
	files := make([]load.ResultsFile, 0, len(paths))
	var errs []error
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("--results: %w", err))
			continue
		}
		defer f.Close()
		files = append(files, load.ResultsFile{Name: p, R: f})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// The default policy is RiskOS's retry set: lost = non-2xx outside it.
	rs, err := load.SummarizeResults(load.MetricsConfig{}, files...)
	if err != nil {
		return nil, fmt.Errorf("--results: %w", err)
	}
	return rs, nil
}

// withResults puts the exact load section of the raw results into rep (a
// new report when rep is nil) and judges LOAD-01 on it, replacing any
// LOAD-01 and load section the shard reports had: those were judged on a
// part of the run.
func withResults(rep *reports.Report, rs *load.ResultsSummary, o reportOptions) (*reports.Report, error) {
	s := rs.Summary
	s.RequestedRate = o.rate
	target := ""
	switch len(rs.URLs) {
	case 0:
	case 1:
		target = harness.RedactURL(rs.URLs[0])
	default:
		return nil, fmt.Errorf("--results: the files target %d URLs (%s); shards of one run share a target", len(rs.URLs), strings.Join(redactAll(rs.URLs), ", "))
	}
	if rep == nil {
		cfg := harness.DefaultConfig()
		cfg.Target, cfg.Timeouts.AckBudget = target, o.ackBudget
		rep = &reports.Report{
			Tool: reports.Tool{Name: "hookproof", Version: harness.Version}, Profile: cfg.Profile, Target: target,
			StartedAt: s.StartedAt, FinishedAt: s.StartedAt.Add(time.Duration(s.DurationS * float64(time.Second))), Config: cfg,
		}
	} else if target != "" && rep.Target != "" && target != rep.Target {
		return nil, fmt.Errorf("--results: target %q differs from %q in the --from reports; shards of one run share a target", target, rep.Target)
	}
	load01 := judgeLoad01(s, o.rate, o.ackBudget, false)
	load01.Evidence[0].Summary = fmt.Sprintf("%d requests from %d shards (%s) over %.1f s, sent %.0f/s: %.3f %% acked 2xx, p99 %.1f ms from the actual send (raw results hold no schedule); %s",
		s.Requests, len(rs.Files), strings.Join(rs.AttackNames(), ", "), s.DurationS, s.SentRate, 100*s.SuccessRatio, s.LatencyMS.P99, statusLine(s))
	load01.Reason += " (p99 from the actual send, over the exact union of the shards' results)"
	reqs := make([]reports.RequirementResult, 0, len(rep.Requirements)+1)
	for _, q := range rep.Requirements {
		if q.ID != "LOAD-01" {
			reqs = append(reqs, q)
		}
	}
	rep.Requirements = reports.Complete(append(reqs, load01), rep.Profile, "not judged from raw load results")

	rep.Load = scenarios.LoadSection(s)
	rep.Load.Shards = len(rs.Files)
	notes := []string{
		fmt.Sprintf("load section merged exactly from the raw results of %d shards (%s); %s; lost events are counted but not named, raw results hold no event_id", len(rs.Files), strings.Join(rs.AttackNames(), ", "), load.ServiceLatencyNote),
	}
	if missing := missingShards(rs.AttackNames()); missing != "" {
		// A missing shard (a pod that never ran, an artifact that was not
		// uploaded) must not let CI pass on part of the load.
		return nil, usageErr(fmt.Errorf("--results: %s; give every shard's results", missing))
	}
	for _, n := range rep.Notes {
		// Merge's note says load percentiles are upper bounds: no longer so.
		if strings.HasPrefix(n, "merged from ") {
			head, _, _ := strings.Cut(n, ":")
			n = head + ": delivery percentiles are the maximum over the shards, an upper bound; the load section is exact"
		}
		notes = append(notes, n)
	}
	rep.Notes = notes
	rep.Decide(rep.Strict)
	return rep, nil
}

// missingShards says when the attack names are shards i-of-n of one run
// and fewer than n of them were merged: the verdict then covers part of it.
func missingShards(attacks []string) string {
	n := 0
	for _, a := range attacks {
		var i, k int
		if _, err := fmt.Sscanf(a, "hookproof-shard-%d-of-%d", &i, &k); err != nil || (n != 0 && k != n) {
			return ""
		}
		n = k
	}
	if n > len(attacks) {
		return fmt.Sprintf("only %d of %d shards' results were merged", len(attacks), n)
	}
	return ""
}

func redactAll(urls []string) []string {
	out := make([]string, len(urls))
	for i, u := range urls {
		out[i] = harness.RedactURL(u)
	}
	return out
}

// reqLine is "passed: reason" for requirement id.
func reqLine(rep *reports.Report, id string) string {
	for _, q := range rep.Requirements {
		if q.ID == id {
			return q.Status + ": " + q.Reason
		}
	}
	return "not judged"
}
