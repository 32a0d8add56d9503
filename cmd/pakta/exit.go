package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // a check failed, a submission was refused, a failure
	exitUsage   = 2 // bad usage, unreadable or wrong-kind input
)

// exitError is an error carrying the process exit code. Commands return it;
// only main turns it into os.Exit.
type exitError struct {
	code int
	err  error // nil: nothing more to print (the command already reported)
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as bad usage or unreadable input: exit 2.
func usageError(err error) error { return &exitError{code: exitUsage, err: err} }

// usagef is usageError with a formatted message.
func usagef(format string, args ...any) error { return usageError(fmt.Errorf(format, args...)) }

// failure marks err as a failed check or operation: exit 1.
func failure(err error) error { return &exitError{code: exitFailure, err: err} }

// failf is failure with a formatted message.
func failf(format string, args ...any) error { return failure(fmt.Errorf(format, args...)) }

// silentExit ends with code after the command has printed its own findings.
func silentExit(code int) error {
	if code == exitOK {
		return nil
	}
	return &exitError{code: code}
}

// classifyErrors wraps every command's RunE so that an unclassified error
// from a command is a failure (exit 1). Errors that reach main unclassified
// therefore come from cobra itself, before any command ran: bad usage.
func classifyErrors(c *cobra.Command) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			err := run(cmd, args)
			if err == nil {
				return nil
			}
			var ee *exitError
			if errors.As(err, &ee) {
				return err
			}
			return failure(err)
		}
	}
	for _, sub := range c.Commands() {
		classifyErrors(sub)
	}
}

// reportError prints err on stderr, prefixed "pakta:", and returns the exit
// code it carries.
func reportError(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	code := exitUsage
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
	}
	msg := strings.TrimPrefix(err.Error(), "pakta: ")
	fmt.Fprintf(stderr, "pakta: %s\n", msg)
	return code
}

// exactArgs is cobra.ExactArgs as a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d argument(s), got %d (see %q)", cmd.CommandPath(), n, len(args), cmd.CommandPath()+" --help")
		}
		return nil
	}
}

// minArgs is cobra.MinimumNArgs as a usage error.
func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("%s needs at least %d argument(s) (see %q)", cmd.CommandPath(), n, cmd.CommandPath()+" --help")
		}
		return nil
	}
}

// noArgs is cobra.NoArgs as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) != 0 {
		return usagef("%s takes no arguments, got %q (see %q)", cmd.CommandPath(), args, cmd.CommandPath()+" --help")
	}
	return nil
}
