// Command hookproof certifies and load-tests receivers of RiskOS webhooks.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// interrupts receives SIGINT and SIGTERM for the whole process.
var interrupts = make(chan os.Signal, 2)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	signal.Notify(interrupts, os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal winds the run down and writes the partial
		// report; a second one exits at once.
		<-interrupts
		cancel()
		<-interrupts
		fmt.Fprintln(os.Stderr, "hookproof: second interrupt, exiting now")
		stopLiveGroups()
		os.Exit(exitInterrupted)
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, errSilent) {
		fmt.Fprintln(os.Stderr, "hookproof:", err)
	}
	os.Exit(exitCode(ctx, err))
}

// rearmSignals registers the process's signal channel again. Ginkgo
// installs its own SIGINT/SIGTERM handler and scenarios.Run resets both
// signals afterwards, which also drops ours: without this, a second Ctrl-C
// while the report is written would kill the process outright.
func rearmSignals() { signal.Notify(interrupts, os.Interrupt, syscall.SIGTERM) }
