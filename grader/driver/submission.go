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
	o.Root, o.Tree, o.Overlay, o.Unmap = ws.Root, submission.Tree, ws.Overlay, ws.Unmap
	return ws, cmdline.ExitOK
}

// warnRules checks the student tree, when that is what o grades, as a
// hand-in is checked, and prints what would be refused. The grade goes
// on: a student finds out while working, not when the hand-in is refused.
func warnRules(o Options, w io.Writer) {
	dir := o.Tree
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(o.Root, dir)
	}
	if filepath.Clean(dir) != filepath.Join(o.Root, submission.Tree) {
		return
	}
	module, err := submission.ModulePath(o.Root)
	if err != nil {
		return
	}
	if added, err := submission.Added(dir); err == nil && len(added) > 0 {
		fmt.Fprintf(w, "warning: a hand-in takes only %s/%s; %s would be left out, and whatever uses it would not compile: put its code in those files\n",
			submission.Tree, strings.Join(submission.Files, ", "), strings.Join(added, ", "))
	}
	editable, err := submission.Editable(dir)
	if err != nil {
		return
	}
	_, violations, err := submission.Read(dir, editable, module)
	if err != nil || len(violations) == 0 {
		return
	}
	fmt.Fprintf(w, "warning: handed in as it is, %s/ would be refused before anything is compiled (make grade SUBMISSION=%s grades it as a hand-in):\n", submission.Tree, submission.Tree)
	for _, v := range violations {
		if rel, err := filepath.Rel(o.Root, v.File); err == nil {
			v.File = filepath.ToSlash(rel)
		}
		fmt.Fprintf(w, "  %s\n", v)
	}
}
