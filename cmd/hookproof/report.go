package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/harness/load"
	"github.com/hookproof/hookproof/reports"
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
over skipped; counts, rates and status codes add up over distinct shards of
one run (the run's requested rate is taken once); latency percentiles are the
maximum over the shards (an upper bound, which the report notes). Reports of
different targets or profiles are refused, and so are load sections of the
same shard twice, of different runs (--run-id) or shard layouts, or measured
from different points (scheduled or actual send). Output as for hookproof
report; the default format here is json, ready for another merge.

--results FILE (repeatable) reads the raw results of load shards (hookproof
load --shard i/n --output FILE, vegeta's format) and builds the load section
from all of them at once, so its percentiles are exact over the union; LOAD-01
is judged on it (--ack-budget, default 500ms; --rate is the whole run's rate,
for the report). hookproof load's results carry each hit's schedule lag, so
that p99 is from the scheduled send, as a single run judges it; files that
hold no schedule (vegeta attack's) make it the p99 from the actual send, which
the report says. Files of different runs are refused. With --from as well,
the reports' other requirement results are merged in and their load sections
replaced.
Exit codes: 0 the merged verdict is pass; 1 it is fail; 2 bad input.`))
	cmd.AddCommand(newReportDiffCmd())
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
	reps, readErrs := readReports("--from", o.from)
	if err := errors.Join(append(errs, readErrs...)...); err != nil {
		return usageErr(err)
	}
	var rep *reports.Report
	if len(reps) > 0 {
		var err error
		if rep, err = reports.MergeNamed(o.from, reps...); err != nil {
			return usageErr(fmt.Errorf("--from: %w", err))
		}
	}
	if len(o.results) > 0 {
		rs, err := summarizeResultFiles(o.results)
		if err != nil {
			return usageErr(err)
		}
		bounds := load.Bounds{MinSuccess: load.MinSuccessRatio, MaxP99: o.ackBudget}
		if rep, err = load.MergeResults(rep, rs, bounds, o.rate); err != nil {
			return usageErr(fmt.Errorf("--results: %w", err))
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

// readReports reads every path, returning one error per unreadable file,
// each naming it (and flag, for files that are not reports at all).
func readReports(flag string, paths []string) ([]*reports.Report, []error) {
	var reps []*reports.Report
	var errs []error
	for _, path := range paths {
		if err := checkInput(flag, path, reports.MaxReportSize); err != nil {
			errs = append(errs, err)
			continue
		}
		r, err := reports.Read(path)
		if err != nil {
			errs = append(errs, &fileError{path: path, err: err})
			continue
		}
		r.Decide(r.Strict) // a stored verdict is never trusted over its requirements
		reps = append(reps, r)
	}
	return reps, errs
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
		f, err := openInput("--results", p, maxResultsFileBytes)
		if err != nil {
			errs = append(errs, err)
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

// reqLine is "passed: reason" for requirement id.
func reqLine(rep *reports.Report, id string) string {
	for _, q := range rep.Requirements {
		if q.ID == id {
			return q.Status + ": " + q.Reason
		}
	}
	return "not judged"
}
