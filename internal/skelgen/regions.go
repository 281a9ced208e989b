package skelgen

import (
	"errors"
	"go/ast"
	"go/token"
)

// Region is a TODO region as other tools see it: the phase its BEGIN
// marker names and where its markers are. Code strictly between Begin and
// End is the student's.
type Region struct {
	Phase      string
	Begin, End token.Pos
}

// Regions finds the TODO regions of one parsed file with the skeleton
// generator's own rules, so that what other tools call a region is exactly
// what the skeleton takes out. A marker problem is an error, as it is for
// the generator.
func Regions(fset *token.FileSet, f *ast.File, src []byte) ([]Region, error) {
	found, _, errs := scanMarkers(fset, f, src)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	out := make([]Region, len(found))
	for i, r := range found {
		out[i] = Region{Phase: r.phase, Begin: r.beginPos, End: r.endPos}
	}
	return out, nil
}
