package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookproof/hookproof/harness"
)

// run is the whole program minus process concerns, so tests drive it in-process.
//
// Every byte it writes, and the error it returns, passes through the run's
// one harness.Redactor, which commands teach the secrets they hold.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	red := harness.NewRedactor()
	ctx = withRedactor(ctx, red)
	out, errOut := red.Writer(stdout), red.Writer(stderr)
	defer func() {
		out.Flush()
		errOut.Flush()
		err = red.ScrubError(err)
	}()
	prov := provenance{}
	root := newRootCmd(out, errOut, os.Getenv, prov)
	root.SetArgs(args)
	err = root.ExecuteContext(ctx)
	if err != nil && isCobraUsageError(err) {
		return usageErr(err)
	}
	if exitCode(ctx, err) == exitUsage {
		err = withSources(err, prov)
	}
	return err
}

// newRootCmd builds the command tree. Before any command runs, its flags not
// given on the command line are filled from getenv and the config file, and
// prov learns where each such value came from.
func newRootCmd(stdout, stderr io.Writer, getenv func(string) string, prov provenance) *cobra.Command {
	root := &cobra.Command{
		Use:   "hookproof",
		Short: "Certify and load-test receivers of RiskOS webhooks",
		Long: `hookproof plays RiskOS against your webhook receiver: schema-valid events,
duplicates, auth variants and forgeries, hostile payloads, retry storms and load,
and says requirement by requirement what holds and what does not.`,
		Version:       harness.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr(fmt.Errorf("%s: %w (see %s --help)", c.CommandPath(), err, c.CommandPath()))
	})
	root.PersistentFlags().String("config", "", "config file (default ./hookproof.yaml if present; env HOOKPROOF_CONFIG)")
	// The one list of subcommands.
	root.AddCommand(
		newCertifyCmd(),
		newSendCmd(),
		newReplayCmd(),
		newLoadCmd(),
		newListenCmd(),
		newReceiverCmd(),
		newEventsCmd(),
		newReportCmd(),
		newExplainCmd(),
		newInitCmd(),
	)
	markConfigurable(root)
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if !configurable(cmd) {
			return nil
		}
		err := resolveSources(cmd, getenv, prov)
		// Learnt even when some value was refused: the others may be
		// echoed in the error.
		learnFlagSecrets(cmd.Flags(), redactorOf(cmd.Context()))
		return err
	}
	return root
}

// isCobraUsageError recognises cobra's own argument errors, which it does not type.
func isCobraUsageError(err error) bool {
	var ee *exitError
	if errors.As(err, &ee) {
		return false
	}
	msg := err.Error()
	for _, s := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires exactly", "invalid argument", "flag needs an argument"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
