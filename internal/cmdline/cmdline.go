// Package cmdline is what the kit's two command lines share: pbftlab, the
// grade driver and the TA's tools, and pbft, each tree's replicas at the
// keyboard. Both exit with the same codes, parse their subcommands' flags
// the same way and stop the same way on Ctrl-C.
package cmdline

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	ExitOK     = 0
	ExitFailed = 1 // ran, and something failed
	ExitUsage  = 2 // could not run: bad arguments, bad input, a build error
)

// NewFlags returns the flag set of program prog's subcommand name. It
// reports errors instead of exiting, and its -h prints "usage: PROG
// SYNOPSIS" and the flags, on stderr.
func NewFlags(prog, name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s %s\n\nflags:\n", prog, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses flags wherever they appear among args, so that "node P1
// 5001 -manual" works as well as "node -manual P1 5001", and returns the
// positional arguments. -h gives flag.ErrHelp; a bad flag, which the flag
// set has reported, its error.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// ParseNone parses args for a command that takes flags only. ok false
// means the command returns code at once: ExitOK after -h, ExitUsage after
// a bad flag or an argument that is not one.
func ParseNone(prog string, fs *flag.FlagSet, args []string) (code int, ok bool) {
	pos, err := Parse(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return ExitOK, false
	case err != nil:
		return ExitUsage, false
	case len(pos) > 0:
		fmt.Fprintf(fs.Output(), "%s %s: unexpected argument %q\n", prog, fs.Name(), pos[0])
		fs.Usage()
		return ExitUsage, false
	}
	return ExitOK, true
}

// The signals that stop a command: Ctrl-C, and what kill sends.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// Interrupts delivers Ctrl-C and SIGTERM on the channel it returns, instead
// of letting them end the process, until stop is called.
func Interrupts() (signals <-chan os.Signal, stop func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, stopSignals...)
	return c, func() { signal.Stop(c) }
}

// InterruptContext returns a context that ends on Ctrl-C or SIGTERM, which
// then no longer end the process, and the function that stops listening.
func InterruptContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, stopSignals...)
}
