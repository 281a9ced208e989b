// Command pbftlab is the kit's own tool: it grades a tree and writes the
// reports. The Makefile calls it; run "pbftlab help" for its commands.
package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"pbftlab/grader/driver"
	"pbftlab/grader/stress"
	"pbftlab/internal/cmdline"
	//ta{
	"pbftlab/ta/batch"
	"pbftlab/ta/bench"
	"pbftlab/ta/gradescope"
	"pbftlab/ta/mutants"
	"pbftlab/ta/release"
	"pbftlab/ta/skelgen"
	//ta}
)

// command is one subcommand. run returns the process exit code.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands is the table of subcommands. The TA's commands sit between the
// "//ta{" and "//ta}" lines: a student release has neither those lines nor
// the ta/ folder that implements them, as its Makefile has none of the
// TA's targets.
func commands() []command {
	return []command{
		{name: "grade", summary: "grade a tree against the cases and write reports/", run: driver.Command},
		{name: "stress", summary: "play every case and robustness spec under many seeds of message order", run: stress.Command},
		//ta{
		{name: "batch", summary: "grade every submission folder inside a folder and write gradebook.csv", run: batch.Command},
		{name: "bench", summary: "measure grading time, the simulator and a TCP cluster, and print the table of ta/PERFORMANCE.md", run: bench.Command},
		{name: "gradescope", summary: "build the Gradescope autograder zip: setup.sh, run_autograder and the kit without solution/", run: gradescope.Command},
		{name: "handout", summary: "write the student release: the kit without solution/ and TA material", run: release.Command},
		{name: "mutants", summary: "grade the planted bugs of ta/mutants/ and show which spec catches each", run: mutants.Command},
		{name: "skeleton", summary: "write skeleton/ from solution/ (-check: only compare)", run: skelgen.Command},
		//ta}
	}
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return cmdline.ExitUsage
		}
		return cmdline.ExitOK
	}
	commands := commands()
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == args[0] })
	if i < 0 {
		fmt.Fprintf(stderr, "pbftlab: unknown command %q\n\n", args[0])
		usage(stderr)
		return cmdline.ExitUsage
	}
	return commands[i].run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: pbftlab COMMAND [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range slices.SortedFunc(slices.Values(commands()), func(a, b command) int { return strings.Compare(a.name, b.name) }) {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run \"pbftlab COMMAND -h\" for a command's flags.")
}
