package kit

import (
	"go/parser"
	"go/token"
	"strconv"
	"strings"
)

// Reference is the folder of the reference solution, which only TAs have.
const Reference = "solution"

// TA is the folder of everything else only TAs have: their commands
// (batch grading, Gradescope's bundle, the release itself, the planted and
// generated mutants, stress, benchmarks, the skeleton generator), the
// tests that grade the reference, the end-to-end tests and their notes.
// The student release is the kit less Reference, TA, the kit's own
// README and CI, and the leftovers.
const TA = "ta"

// Leftovers are the folders that runs leave in the kit (reports, releases
// and bundles, a cluster's checkpoint files): no copy of the kit carries
// them.
func Leftovers() []string { return []string{"dist", "reports", "checkpoints"} }

// TAOnly returns every path a student release leaves out: the reference,
// the TA folder, the TAs' README (a release's guide is HANDOUT.md), the
// kit's CI, and the leftovers.
func TAOnly() []string {
	return append([]string{Reference, TA, "README.md", ".ci"}, Leftovers()...)
}

// TABlocks returns the files a release keeps less their TA blocks, each
// with the comment that opens its marker lines ("#ta{" ... "#ta}" in the
// Makefile): the TA's make targets and pbftlab commands, whose packages
// the release leaves out with TA.
func TABlocks() map[string]string {
	return map[string]string{"Makefile": "#", "cmd/pbftlab/main.go": "//"}
}

// InRelease reports whether the kit's file rel (a slash path from the
// root) goes into a student release.
func InRelease(rel string) bool { return !Under(rel, TAOnly()...) }

// Under reports whether the slash path rel is one of dirs or inside one.
func Under(rel string, dirs ...string) bool {
	for _, d := range dirs {
		if rel == d || strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}

// ImportsReference reports whether the Go file at path, of the module
// named module, imports the reference: what cannot build without it, so
// that neither a release nor the Gradescope bundle can carry it.
func ImportsReference(path, module string) (bool, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
	if err != nil {
		return false, err
	}
	for _, spec := range f.Imports {
		ip, _ := strconv.Unquote(spec.Path.Value)
		if ip == module+"/"+Reference || strings.HasPrefix(ip, module+"/"+Reference+"/") {
			return true, nil
		}
	}
	return false, nil
}
