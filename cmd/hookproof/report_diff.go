package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookproof/hookproof/reports"
)

func newReportDiffCmd() *cobra.Command {
	var maxRegression, format string
	cmd := &cobra.Command{
		Use:   "diff BASE.json NEW.json",
		Short: "Compare two reports: requirements that got worse and load figures that regressed",
		Long: `diff compares a new report.json with a base one (typically the last
main-branch run) and lists requirements whose status got worse, load figures
(capacity, p99 latency, success ratio) that regressed by more than
--max-regression, requirements no longer checked, and improvements.
--format md writes Markdown for a pull-request comment.
Exit codes: 0 no regression; 1 a regression; 2 bad input.`,
		Args: cobra.ExactArgs(2),
	}
	cmd.Flags().StringVar(&maxRegression, "max-regression", "10%", "how much a load figure may worsen before it is a regression (10% or 0.1)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or md")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var errs []error
		threshold, err := parseRatio(maxRegression)
		if err != nil {
			errs = append(errs, fmt.Errorf("--max-regression: %w", err))
		}
		if format != "text" && format != "md" && format != "markdown" {
			errs = append(errs, fmt.Errorf("--format: %q is not text or md", format))
		}
		reps, readErrs := readReports("report diff", args)
		if err := errors.Join(append(errs, readErrs...)...); err != nil {
			return usageErr(err)
		}
		base, next := reps[0], reps[1]
		if base.Target != next.Target || base.Profile != next.Profile {
			fmt.Fprintf(cmd.ErrOrStderr(), "hookproof report diff: note: comparing %s (%s) with %s (%s)\n", base.Target, base.Profile, next.Target, next.Profile)
		}
		d := reports.Compare(base, next, threshold)
		if err := reports.WriteDiff(cmd.OutOrStdout(), d, format != "text"); err != nil {
			return err
		}
		if d.Regressed() {
			ids := make([]string, len(d.Regressions))
			for i, c := range d.Regressions {
				ids[i] = c.ID
			}
			return failedErr(fmt.Errorf("%d regression%s since %s: %s", len(ids), map[bool]string{true: "", false: "s"}[len(ids) == 1], args[0], strings.Join(ids, ", ")))
		}
		return nil
	}
	return cmd
}

// parseRatio reads "10%", "10 %" or "0.1" as 0.1.
func parseRatio(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a percentage such as 10%% or a ratio such as 0.1", s)
	}
	if pct {
		v /= 100
	}
	if v < 0 || v >= 10 || v != v {
		return 0, fmt.Errorf("%q is outside 0%%..1000%%", s)
	}
	return v, nil
}
