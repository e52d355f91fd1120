package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookproof/hookproof/harness"
)

func newEventsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List, sample and show the schemas of RiskOS event types",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the RiskOS event types hookproof knows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			for _, t := range harness.EventTypes() {
				fmt.Fprintf(w, "%-28s %-16s %s\n", t.Name, t.Category, t.Description)
			}
			return nil
		},
	})

	var count int
	var seed int64
	sample := &cobra.Command{
		Use:   "sample TYPE",
		Short: "Print generated events of TYPE, one JSON object per line",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkEventType("sample TYPE", args[0]); err != nil {
				return err
			}
			if count < 1 || count > 10_000_000 {
				return usageErr(fmt.Errorf("--count: %d is outside 1..10000000", count))
			}
			g := harness.NewGenerator(seed, harness.WithRunNonce(uint64(seed))) // printed, not delivered: reproducible ids too
			w := bufio.NewWriter(cmd.OutOrStdout())
			for range count {
				ev, err := g.Event(args[0])
				if err != nil {
					return err
				}
				w.Write(ev.Body)
				w.WriteByte('\n')
			}
			return w.Flush()
		},
	}
	sample.Flags().IntVar(&count, "count", 1, "how many events to print")
	sample.Flags().Int64Var(&seed, "seed", 1, "generator seed: the same seed prints the same events")
	cmd.AddCommand(sample)

	cmd.AddCommand(&cobra.Command{
		Use:   "schema TYPE",
		Short: "Print the JSON Schema (draft 2020-12) hookproof validates TYPE against",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkEventType("schema TYPE", args[0]); err != nil {
				return err
			}
			s, err := harness.SchemaJSON(args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), strings.TrimRight(string(s), "\n"))
			return err
		},
	})
	return cmd
}

// checkEventType turns an unknown type into a usage error that lists the known ones.
func checkEventType(what, name string) error {
	if _, ok := harness.LookupEventType(name); ok {
		return nil
	}
	return usageErr(fmt.Errorf("%s: unknown event type %q; known types: %s", what, name, strings.Join(harness.EventTypeNames(), ", ")))
}
