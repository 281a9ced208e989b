// Package release writes the student release: the kit less the
// reference, the TA folder, the TAs' README and CI, with the TA blocks
// taken out of the Makefile and the tool's command table, and a GitHub
// Classroom workflow added. It refuses a stale skeleton and any file that
// would need the reference.
package release

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"pbftlab/internal/cmdline"
	"pbftlab/internal/kit"
	"pbftlab/internal/submission"
	"pbftlab/ta/skelgen"
)

// Command is "pbftlab handout": it writes the student release.
func Command(args []string, stdout, stderr io.Writer) int {
	root, err := kit.Root()
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab handout:", err)
		return cmdline.ExitUsage
	}
	var dest string
	fs := cmdline.NewFlags("pbftlab", "handout", "handout [-dest DIR]", stderr)
	fs.StringVar(&dest, "dest", filepath.Join(root, "dist", "handout"), "where to write the release")
	if code, ok := cmdline.ParseNone("pbftlab", fs, args); !ok {
		return code
	}
	if dest, err = filepath.Abs(dest); err != nil {
		fmt.Fprintln(stderr, "pbftlab handout:", err)
		return cmdline.ExitUsage
	}
	h, err := writeHandout(root, dest)
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab handout:", err)
		return cmdline.ExitUsage
	}
	fmt.Fprintf(stdout, "wrote the student release to %s (%d files)\n", dest, h.files)
	fmt.Fprintf(stdout, "  left out: %s\n", strings.Join(kit.TAOnly(), ", "))
	if len(h.dropped) > 0 {
		fmt.Fprintf(stdout, "  left out, as they test the reference: %s\n", strings.Join(h.dropped, ", "))
	}
	fmt.Fprintf(stdout, "try it: cd %s && go build ./... && make grade\n", dest)
	return cmdline.ExitOK
}

type handout struct {
	files   int
	dropped []string // tests that import the solution
}

// writeHandout copies the kit's tracked files at root to dest, less the TA
// material. It refuses when skeleton/ is stale, and when a file students
// get would need solution/ to build.
func writeHandout(root, dest string) (handout, error) {
	var h handout
	generated, err := skelgen.Generate(skelgen.Options{Root: root, From: "solution", To: submission.Tree})
	if err != nil {
		return h, err
	}
	if diffs, err := generated.Diff(filepath.Join(root, submission.Tree)); err != nil {
		return h, err
	} else if len(diffs) > 0 {
		return h, fmt.Errorf("skeleton/ is not what solution/ generates (%s); run make skeleton first", strings.Join(diffs, "; "))
	}
	module, err := submission.ModulePath(root)
	if err != nil {
		return h, err
	}
	if err := clearDest(dest); err != nil {
		return h, err
	}
	files, err := submission.TrackedFiles(root)
	if err != nil {
		return h, err
	}
	destRel, err := filepath.Rel(root, dest)
	if err != nil {
		return h, err
	}
	destRel = filepath.ToSlash(destRel)
	keep := map[string]bool{}
	for _, rel := range files {
		if !kit.InRelease(rel) || kit.Under(rel, destRel) {
			continue
		}
		if strings.HasSuffix(rel, ".go") {
			needs, err := kit.ImportsReference(filepath.Join(root, filepath.FromSlash(rel)), module)
			if err != nil {
				return h, err
			}
			if needs && strings.HasSuffix(rel, "_test.go") {
				h.dropped = append(h.dropped, rel)
				continue
			}
			if needs {
				return h, fmt.Errorf("%s imports %s/solution, which students do not get", rel, module)
			}
		}
		keep[rel] = true
	}
	if err := noSecrets(root, keep); err != nil {
		return h, err
	}
	if err := submission.CopyKit(root, dest, func(rel string) bool { return !keep[rel] }); err != nil {
		return h, err
	}
	h.files = len(keep)
	// The files with TA blocks go without them, so that make help and
	// pbftlab help list what a student runs; and the GitHub Classroom
	// workflow grades each push.
	for rel, comment := range kit.TABlocks() {
		if !keep[rel] {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return h, err
		}
		if err := os.WriteFile(filepath.Join(dest, filepath.FromSlash(rel)), withoutTABlocks(data, comment), 0o644); err != nil {
			return h, err
		}
	}
	specs, err := classroomSpecs(root)
	if err != nil {
		return h, err
	}
	workflow := filepath.Join(dest, filepath.FromSlash(ClassroomWorkflow))
	if err := os.MkdirAll(filepath.Dir(workflow), 0o755); err != nil {
		return h, err
	}
	if err := os.WriteFile(workflow, []byte(classroomWorkflow(specs)), 0o644); err != nil {
		return h, err
	}
	h.files++
	return h, nil
}

// withoutTABlocks is a file less the blocks between the lines comment+"ta{"
// and comment+"ta}": the Makefile's TA targets and the lines of make help
// that name them, the TA commands of pbftlab's table.
func withoutTABlocks(data []byte, comment string) []byte {
	var out []string
	ta := false
	for _, line := range strings.SplitAfter(string(data), "\n") {
		switch strings.TrimSpace(line) {
		case comment + "ta{":
			ta = true
			continue
		case comment + "ta}":
			ta = false
			continue
		}
		if !ta {
			out = append(out, line)
		}
	}
	return []byte(strings.Join(out, ""))
}

// noSecrets refuses a release in which a file repeats a line of code that
// only the solution's TODO regions hold: a copy, a diff or an excerpt of
// the answers that the TA-only list failed to leave out. A line the kit's
// own code also has (its non-test Go files) is common code, not an answer.
func noSecrets(root string, files map[string]bool) error {
	secrets, err := skelgen.Secrets(skelgen.Options{Root: root, From: "solution", To: submission.Tree})
	if err != nil {
		return err
	}
	texts := map[string][]string{}
	for rel := range files {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		if bytes.IndexByte(data, 0) < 0 { // text only
			texts[rel] = strings.Split(string(data), "\n")
		}
	}
	for rel, lines := range texts {
		if strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go") && !strings.Contains("/"+rel, "/testdata/") {
			for _, line := range lines {
				delete(secrets, skelgen.NormalizeLine(line))
			}
		}
	}
	var leaks []string
	for _, rel := range slices.Sorted(maps.Keys(texts)) {
		for i, line := range texts[rel] {
			if from, ok := secrets[skelgen.NormalizeLine(line)]; ok {
				leaks = append(leaks, fmt.Sprintf("%s:%d repeats %s", rel, i+1, from))
			}
		}
	}
	if len(leaks) > 0 {
		return fmt.Errorf("the release would hold code of the solution's TODO regions; leave these files out (the TA-only list in internal/kit):\n  %s", strings.Join(leaks, "\n  "))
	}
	return nil
}

// clearDest makes dest an empty folder. It removes an earlier release but
// nothing else: a folder with other files in it is refused.
func clearDest(dest string) error {
	entries, err := os.ReadDir(dest)
	if os.IsNotExist(err) {
		return os.MkdirAll(dest, 0o755)
	}
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	for _, marker := range []string{"HANDOUT.md", "go.mod", submission.Tree} {
		if _, err := os.Stat(filepath.Join(dest, marker)); err != nil {
			return fmt.Errorf("%s is not empty and does not hold an earlier release; choose another DEST", dest)
		}
	}
	if _, err := os.Stat(filepath.Join(dest, "solution")); err == nil {
		return fmt.Errorf("%s holds a solution/ folder, so it is a kit and not a release; choose another DEST", dest)
	}
	if err := os.RemoveAll(dest); err != nil {
		return err
	}
	return os.MkdirAll(dest, 0o755)
}
