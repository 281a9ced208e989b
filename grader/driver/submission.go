package driver

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"pbftlab/internal/cmdline"
	"pbftlab/internal/submission"
)

// submissionFlag adds grade's -submission flag.
func submissionFlag(fs *flag.FlagSet) *string {
	return fs.String("submission", "", "grade a student's files from this folder (or its skeleton/ sub-folder) in a clean copy of the kit")
}

// DefaultTree is the reference when the kit has it, else the student tree:
// a student's copy of the kit has no reference.
func DefaultTree(root string) string {
	if _, err := os.Stat(filepath.Join(root, "solution")); err == nil {
		return "solution"
	}
	return submission.Tree
}

// openSubmission checks the submission in dir and, when it breaks no rule,
// points o at a clean copy of the kit holding its files. The caller closes
// the workspace; a nil workspace means grading must stop with code.
func openSubmission(o *Options, dir string, fs *flag.FlagSet, stdout, stderr io.Writer) (*submission.Workspace, int) {
	treeSet := false
	fs.Visit(func(f *flag.Flag) { treeSet = treeSet || f.Name == "tree" })
	if treeSet && filepath.Clean(o.Tree) != submission.Tree {
		fmt.Fprintf(stderr, "pbftlab grade: -submission grades the %s tree; leave out -tree %s\n", submission.Tree, o.Tree)
		return nil, cmdline.ExitUsage
	}
	ws, violations, err := submission.Prepare(o.Root, dir)
	if err != nil {
		fmt.Fprintf(stderr, "pbftlab grade: submission %s: %v\n", dir, err)
		return nil, cmdline.ExitUsage
	}
	if len(violations) > 0 {
		fmt.Fprintf(stderr, "pbftlab grade: the submission in %s breaks %d rule(s); nothing was compiled or run:\n", dir, len(violations))
		for _, v := range violations {
			fmt.Fprintf(stderr, "  %s\n", v)
		}
		return nil, cmdline.ExitUsage
	}
	f := ws.Found
	fmt.Fprintf(stdout, "submission %s: taking %s\n", f.Dir, strings.Join(slices.Sorted(maps.Keys(f.Files)), ", "))
	if len(f.Missing) > 0 {
		fmt.Fprintf(stdout, "  not in the submission, so the skeleton's own: %s\n", strings.Join(f.Missing, ", "))
	}
	if len(f.Ignored) > 0 {
		fmt.Fprintf(stdout, "  ignored, not files a student edits: %s\n", strings.Join(f.Ignored, ", "))
	}
	o.Root, o.Tree, o.Overlay = ws.Root, submission.Tree, ws.Overlay
	return ws, cmdline.ExitOK
}
