package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookproof/hookproof/reports"
)

type reportOptions struct {
	from      []string
	format    string
	output    string
	reportDir string
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
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		o.from = append(o.from, args...)
		if merge && o.format == "" && o.reportDir == "" {
			o.format = "json"
		}
		return runReport(cmd, o)
	}
	return cmd
}

func init() { extraCommands = append(extraCommands, newReportCmd) }

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
	if len(o.from) == 0 {
		errs = append(errs, errors.New("--from: required (a report.json written by --report-dir)"))
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
	rep, err := mergeReports(o.from, reps)
	if err != nil {
		return usageErr(err)
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
