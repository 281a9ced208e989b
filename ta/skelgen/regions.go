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

// Span is a stretch of a file's text, from Begin up to (not including)
// End.
type Span struct {
	Begin, End token.Pos
}

// Holds reports whether the span holds the whole of n.
func (s Span) Holds(n ast.Node) bool { return n.Pos() >= s.Begin && n.End() <= s.End }

// ReferenceOnly finds what of one parsed file the skeleton leaves out,
// with the generator's own rules: the lines from each "// BEGIN REFERENCE
// ONLY: why" to its "// END REFERENCE ONLY", markers included, or the
// whole file when it carries the //pbftlab:reference-only directive. A
// student never sees, writes or calls that code. A marker problem is an
// error.
func ReferenceOnly(fset *token.FileSet, f *ast.File, src []byte) ([]Span, error) {
	tf := fset.File(f.Pos())
	if isReferenceOnly(f) {
		return []Span{{Begin: token.Pos(tf.Base()), End: token.Pos(tf.Base() + tf.Size())}}, nil
	}
	_, omits, errs := scanMarkers(fset, f, src)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	out := make([]Span, len(omits))
	for i, o := range omits {
		out[i] = Span{Begin: tf.Pos(o.begin), End: tf.Pos(o.end)}
	}
	return out, nil
}
