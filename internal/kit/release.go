package kit

import "strings"

// Reference is the folder of the reference solution, which only TAs have.
const Reference = "solution"

// Leftovers are the folders that runs leave in the kit (reports, releases
// and bundles, a cluster's checkpoint files): no copy of the kit carries
// them.
func Leftovers() []string { return []string{"dist", "reports", "checkpoints"} }

// taOnly is what a student release leaves out besides the reference and
// the leftovers: the tools that need the reference (the skeleton
// generator, the release command and their tests), the planted bugs of
// mutants/ (diffs of the reference) with the command that grades them and
// the generated mutants' tool, the tests that need the reference (hostile
// submissions are rewrites of it; stress tests it), grading many
// submissions, Gradescope's autograder, the stress and benchmark commands,
// the maintainers' notes and CI. It is the one list of TA-only material:
// the release (pbftlab handout) leaves it out, and the Gradescope bundle
// and the mutants' copies of the kit leave out what they do not need from
// the same names.
var taOnly = []string{
	"internal/skelgen",
	"cmd/pbftlab/handout.go",
	"cmd/pbftlab/handout_test.go",
	"cmd/pbftlab/fullmarks_test.go",
	"mutants",
	"cmd/pbftlab/mutants.go",
	"cmd/pbftlab/mutants_test.go",
	"cmd/pbftlab/mutants_auto.go",
	"cmd/pbftlab/mutants_auto_test.go",
	"internal/mutate",
	"cmd/pbftlab/prefixes_test.go",
	"cmd/pbftlab/solved_test.go",
	"cmd/pbftlab/rewrite.go",
	"cmd/pbftlab/rewrite_test.go",
	"cmd/pbftlab/hostile_test.go",
	"cmd/pbftlab/testdata/hostile",
	"cmd/pbftlab/stress_test.go",
	"runtime/jsonnode/process_test.go",
	"cmd/pbftlab/batch.go",
	"cmd/pbftlab/gradescope.go",
	"cmd/pbftlab/bench.go",
	"cmd/pbftlab/stress.go",
	"gradescope",
	"PERFORMANCE.md",
	"README.md",
	".ci",
	"e2e",
}

// studentTests are the tests of the kit's own command that a release
// keeps: they check what a student runs (refusing a submission, the
// failure text). Its other tests grade the reference through the TAs'
// tools, so they stay out, with their fixtures.
var studentTests = []string{
	"cmd/pbftlab/failures_test.go",
	"cmd/pbftlab/submission_test.go",
	"cmd/pbftlab/testdata/submissions",
}

// TAOnly returns every path a student release leaves out: the reference,
// the leftovers and the TA's material. Beside these, the release leaves
// out the tests of cmd/pbftlab but StudentTests (see TATest).
func TAOnly() []string {
	return append(append([]string{Reference}, taOnly...), Leftovers()...)
}

// StudentTests returns the tests of cmd/pbftlab, with their fixtures, that
// a release keeps.
func StudentTests() []string { return append([]string(nil), studentTests...) }

// TATest reports whether rel is a test or test fixture of cmd/pbftlab that
// a release leaves out: any but StudentTests.
func TATest(rel string) bool {
	if !Under(rel, "cmd/pbftlab") || Under(rel, studentTests...) {
		return false
	}
	return strings.HasSuffix(rel, "_test.go") || Under(rel, "cmd/pbftlab/testdata")
}

// TABlocks returns the files a release keeps less their TA blocks, each
// with the comment that opens its marker lines ("#ta{" ... "#ta}" in the
// Makefile): the TA's make targets and pbftlab commands, whose files the
// release leaves out.
func TABlocks() map[string]string {
	return map[string]string{"Makefile": "#", "cmd/pbftlab/main.go": "//"}
}

// InRelease reports whether the kit's file rel (a slash path from the
// root) goes into a student release.
func InRelease(rel string) bool {
	return !Under(rel, TAOnly()...) && !TATest(rel)
}

// Under reports whether the slash path rel is one of dirs or inside one.
func Under(rel string, dirs ...string) bool {
	for _, d := range dirs {
		if rel == d || strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}
