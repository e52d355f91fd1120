package main

import (
	"context"
	"errors"
)

// Exit codes: scripts depend on them, so they never change meaning (README
// documents them).
const (
	exitOK          = 0
	exitFailed      = 1 // a MUST requirement failed
	exitUsage       = 2 // usage or configuration error
	exitUnreachable = 3 // target unreachable before any check
	exitInterrupted = 130
)

// errSilent marks an error whose message was already printed.
var errSilent = errors.New("")

// exitError carries an exit code through the error chain.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr marks err as a usage or configuration error (exit 2).
func usageErr(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitUsage, err: err}
}

// unreachableErr marks err as the target being unreachable (exit 3).
func unreachableErr(err error) error { return &exitError{code: exitUnreachable, err: err} }

// failedErr marks a completed run whose verdict is fail (exit 1).
func failedErr(err error) error { return &exitError{code: exitFailed, err: err} }

func exitCode(ctx context.Context, err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return exitInterrupted
	}
	return exitFailed
}
