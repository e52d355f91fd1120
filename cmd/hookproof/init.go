package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func newInitCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init [--force] [FILE]",
		Short: "Write a commented hookproof.yaml listing every setting of every command",
		Long: `init writes FILE (default hookproof.yaml; "-" for stdout): every flag of every
command as a commented-out key set to its default, grouped by command, with the
flag's help. Uncomment what you need. It refuses to overwrite an existing file
unless --force (exit 2).`,
		Args: cobra.MaximumNArgs(1),
		// init must be able to replace a config file that no longer parses.
		Annotations: map[string]string{noConfigAnnotation: "true"},
	}
	cmd.Flags().BoolVar(&force, "force", false, "overwrite FILE if it exists")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		path := "hookproof.yaml"
		if len(args) == 1 {
			path = args[0]
		}
		text := exampleConfig(cmd.Root())
		if path == "-" {
			_, err := fmt.Fprint(cmd.OutOrStdout(), text)
			return err
		}
		flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
		if force {
			flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		}
		f, err := os.OpenFile(path, flags, 0o644)
		if errors.Is(err, fs.ErrExist) {
			return usageErr(fmt.Errorf("init: %s exists; use --force to overwrite it", path))
		}
		if err != nil {
			return usageErr(fmt.Errorf("init: %w", err))
		}
		if _, err := f.WriteString(text); err != nil {
			f.Close()
			return fmt.Errorf("init: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "hookproof init: wrote %s\n", path)
		return nil
	}
	return cmd
}

// exampleConfig renders the config file that lists every settable flag of
// every configurable command under root, commented out, at its default.
// Uncommenting a "# " prefix turns a line into valid config; prose lines
// start with "##" so they stay comments.
func exampleConfig(root *cobra.Command) string {
	var b strings.Builder
	b.WriteString(`## hookproof configuration, written by hookproof init.
##
## Every flag of every command is a key here, spelled as the flag
## (rate: 100, time-scale: 0.01); repeatable flags take a YAML list
## (header: ["X-Tenant: acme"]). Every flag is also an environment variable:
## HOOKPROOF_ and the name upper-cased, dashes as underscores
## (HOOKPROOF_TIME_SCALE); a repeatable flag's variable takes one value per
## line. The command line wins over the environment, which wins over this file.
##
## A top-level key applies to every command that has that flag, so certify
## and load can share one file; a key no command has is an error. A section
## named after a command (load:, report: merge:) applies to that command and
## its subcommands only, and wins over top-level keys. Below, each command's
## keys are listed in its own section at their defaults: uncomment the
## section line and the keys you set.
##
## The file is read from --config FILE, else HOOKPROOF_CONFIG, else
## ./hookproof.yaml if it exists.
`)
	var open []string // the sections the previous command left open
	for _, c := range configCommands(root) {
		flags := settableFlags(c)
		if len(flags) == 0 || !c.HasParent() {
			continue
		}
		path := commandPath(c)
		fmt.Fprintf(&b, "\n## hookproof %s: %s\n", strings.Join(path, " "), c.Short)
		// A subcommand's section nests in its parent's, which must not be
		// opened twice.
		same := 0
		for same < len(open) && same < len(path) && open[same] == path[same] {
			same++
		}
		for i := same; i < len(path); i++ {
			fmt.Fprintf(&b, "# %s%s:\n", strings.Repeat("  ", i), path[i])
		}
		open = path
		indent := strings.Repeat("  ", len(path))
		for _, f := range flags {
			fmt.Fprintf(&b, "#%s # %s\n", indent, usageLine(f))
			fmt.Fprintf(&b, "# %s%s: %s\n", indent, f.Name, yamlDefault(f))
		}
	}
	return b.String()
}

// usageLine is a flag's help on one line.
func usageLine(f *pflag.Flag) string {
	return strings.Join(strings.Fields(f.Usage), " ")
}
