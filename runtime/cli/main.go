// Package cli is the command line of the lab at the keyboard. Each tree
// binds it to its replica with a two-line program:
//
//	func main() { cli.Main(skeleton.New) }
//
// and `go run ./skeleton/cmd/pbft primary` (or node, client, cluster, run,
// json) runs that tree's replica over TCP with the original lab's consoles.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"pbftlab/internal/cmdline"
	"pbftlab/lab"
	"pbftlab/script"
)

// Main runs the command named by os.Args and exits with its status.
func Main(newReplica lab.NewFunc) {
	os.Exit(Run(newReplica, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit statuses: 0 success, 1 failure (a case whose expectations do not
// hold, a process that cannot start), 2 a command line that makes no sense.
const (
	exitOK    = cmdline.ExitOK
	exitFail  = cmdline.ExitFailed
	exitUsage = cmdline.ExitUsage
)

const usage = `usage: pbft COMMAND [flags] [arguments]

commands (the original lab's five processes, and more):
  primary            run P0, the first primary, on port 5000
  node ID PORT       run replica ID on PORT: node P1 5001, node P2 5002, node P3 5003
  client [PORT]      run the client, on port 7000 unless told otherwise
  cluster            all four replicas and the client in this one process, on the
                     same ports, with one console taking lines like "P1: prepare yes"
  run CASEFILE       replay a case against a TCP cluster on loopback, print its
                     transcript and check its expectations
  json               run one replica as a node of the JSON protocol on stdin and stdout

"pbft COMMAND -h" lists a command's flags.
`

// Run runs the command in args, reading the console from stdin, and returns
// the exit status.
func Run(newReplica lab.NewFunc, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	var run func(lab.NewFunc, []string, io.Reader, io.Writer, io.Writer) error
	switch cmd {
	case "primary":
		run = runPrimary
	case "node":
		run = runNode
	case "client":
		run = runClient
	case "cluster":
		run = runCluster
	case "run":
		run = runCase
	case "json":
		run = runJSON
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "pbft: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	err := run(newReplica, rest, stdin, stdout, stderr)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "pbft %s: %v\n", cmd, err)
		return exitUsage
	case errors.Is(err, errFailed):
		return exitFail
	default:
		fmt.Fprintf(stderr, "pbft %s: %v\n", cmd, err)
		return exitFail
	}
}

// usageError is a command line that makes no sense.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// errFailed is a failure already reported on the output (a case whose
// expectations do not hold).
var errFailed = errors.New("failed")

// newFlags makes a subcommand's flag set; its -h prints synopsis and flags.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	return cmdline.NewFlags("pbft", name, synopsis, stderr)
}

// parse parses args into fs and returns the positional arguments; a flag
// error is a usage error (flag has printed it), -h is not an error.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := cmdline.Parse(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, err
	}
	if err != nil {
		return nil, usageError{explainFlagError(fs, err)}
	}
	return pos, nil
}

// explainFlagError adds to the flag package's error what to type instead:
// the flag nearest to one that does not exist, or the form a value takes.
func explainFlagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if guess := script.Nearest(strings.TrimLeft(name, "-"), names); guess != "" {
			return fmt.Errorf("%w: did you mean -%s?", err, guess)
		}
		return err
	}
	_, rest, ok := strings.Cut(msg, " for flag -")
	if !ok {
		return err
	}
	name, _, _ := strings.Cut(rest, ":")
	f := fs.Lookup(name)
	if f == nil {
		return err
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return err
	}
	switch g.Get().(type) {
	case time.Duration:
		return fmt.Errorf("%w (a duration, as 100ms, 2s or 0)", err)
	case int:
		return fmt.Errorf("%w (a whole number)", err)
	}
	return err
}
