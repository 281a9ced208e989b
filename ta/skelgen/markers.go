package skelgen

import (
	"fmt"
	"go/ast"
	"go/token"
	"regexp"
	"slices"
	"strings"

	"pbftlab/script"
)

// A region is the code between one BEGIN TODO marker and its END TODO: the
// part of a phase the student writes.
type region struct {
	phase string
	hint  []string // the hint, then any comment lines that continue it

	beginLine, endLine int
	// begin and end are the offsets of the first byte of the BEGIN line and
	// of the byte after the END line's newline: the text the stub replaces.
	begin, end int
	// beginPos and endPos are the markers' own positions.
	beginPos, endPos token.Pos
}

// An omission is the code between "// BEGIN REFERENCE ONLY: why" and
// "// END REFERENCE ONLY": code the reference needs for something other
// than teaching (the fast mode of a cluster run for speed), which the
// skeleton leaves out entirely, markers included. It holds whole lines
// and lies outside every TODO region, so that taking it out leaves the
// code around it as it was.
type omission struct {
	begin, end int // offsets: the first byte of the BEGIN line, the byte after the END line
	beginLine  int
}

// referenceOnly is the directive, on a line of its own before the package
// clause, of a file the skeleton does not get at all.
const referenceOnly = "//pbftlab:reference-only"

// isReferenceOnly reports whether f carries the referenceOnly directive.
func isReferenceOnly(f *ast.File) bool {
	for _, group := range f.Comments {
		if group.Pos() > f.Package {
			break
		}
		for _, c := range group.List {
			if strings.TrimSpace(c.Text) == referenceOnly {
				return true
			}
		}
	}
	return false
}

// Error is a problem in the solution's markers, reported as file:line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

var (
	beginRE = regexp.MustCompile(`^BEGIN TODO\(([^)]*)\):\s*(\S.*)$`)
	endRE   = regexp.MustCompile(`^END TODO$`)
	omitRE  = regexp.MustCompile(`^BEGIN REFERENCE ONLY:\s*\S`)
)

// scanMarkers finds the regions of one parsed file. Every marker problem in
// the file is returned, each with its line, so that one run lists them all.
func scanMarkers(fset *token.FileSet, f *ast.File, src []byte) ([]*region, []*omission, []error) {
	var regions []*region
	var omits []*omission
	var errs []error
	fail := func(pos token.Pos, format string, args ...any) {
		p := fset.Position(pos)
		errs = append(errs, &Error{File: p.Filename, Line: p.Line, Msg: fmt.Sprintf(format, args...)})
	}
	var open *region
	var omitting *omission
	for _, group := range f.Comments {
		for _, c := range group.List {
			body, isLine := strings.CutPrefix(c.Text, "//")
			if !isLine {
				body = strings.TrimSuffix(strings.TrimPrefix(c.Text, "/*"), "*/")
			}
			body = strings.TrimSpace(body)
			if isOmit, isOmitEnd := strings.HasPrefix(body, "BEGIN REFERENCE ONLY"), strings.HasPrefix(body, "END REFERENCE ONLY"); isOmit || isOmitEnd {
				line := fset.Position(c.Pos()).Line
				switch {
				case !isLine || !ownLine(fset, src, c):
					fail(c.Pos(), "a REFERENCE ONLY marker must be a // comment on a line of its own")
				case open != nil:
					fail(c.Pos(), "REFERENCE ONLY inside the TODO region opened at line %d: the two do not mix", open.beginLine)
				case isOmit && omitting != nil:
					fail(c.Pos(), "BEGIN REFERENCE ONLY inside the one opened at line %d", omitting.beginLine)
				case isOmit && !omitRE.MatchString(body):
					fail(c.Pos(), "malformed marker %q: want \"// BEGIN REFERENCE ONLY: why\"", c.Text)
				case isOmit:
					omitting = &omission{begin: lineStart(src, fset.Position(c.Pos()).Offset), beginLine: line}
				case omitting == nil:
					fail(c.Pos(), "END REFERENCE ONLY without a BEGIN REFERENCE ONLY before it")
				case body != "END REFERENCE ONLY":
					fail(c.Pos(), "malformed marker %q: want \"// END REFERENCE ONLY\"", c.Text)
				default:
					omitting.end = lineEnd(src, fset.Position(c.End()).Offset)
					omits = append(omits, omitting)
					omitting = nil
				}
				continue
			}
			isBegin, isEnd := strings.HasPrefix(body, "BEGIN TODO"), strings.HasPrefix(body, "END TODO")
			if !isBegin && !isEnd {
				if open != nil && open.hintOpen(fset, c) {
					open.hint = append(open.hint, strings.TrimSpace(body))
				}
				continue
			}
			if !isLine {
				fail(c.Pos(), "a TODO marker must be a // comment")
				continue
			}
			if !ownLine(fset, src, c) {
				fail(c.Pos(), "a TODO marker must be on a line of its own")
				continue
			}
			line := fset.Position(c.Pos()).Line
			if isBegin {
				m := beginRE.FindStringSubmatch(body)
				if m == nil {
					fail(c.Pos(), "malformed marker %q: want \"// BEGIN TODO(phase): hint\"", c.Text)
					continue
				}
				if !slices.Contains(script.Phases(), m[1]) {
					fail(c.Pos(), "unknown phase %q in BEGIN TODO (phases: %s)", m[1], strings.Join(script.Phases(), ", "))
					continue
				}
				if open != nil {
					fail(c.Pos(), "BEGIN TODO inside the region opened at line %d: regions do not nest", open.beginLine)
					continue
				}
				if omitting != nil {
					fail(c.Pos(), "BEGIN TODO inside the REFERENCE ONLY lines opened at line %d: the two do not mix", omitting.beginLine)
					continue
				}
				open = &region{phase: m[1], hint: []string{m[2]}, beginLine: line, beginPos: c.Pos(),
					begin: lineStart(src, fset.Position(c.Pos()).Offset)}
				continue
			}
			if !endRE.MatchString(body) {
				fail(c.Pos(), "malformed marker %q: want \"// END TODO\"", c.Text)
				continue
			}
			if open == nil {
				fail(c.Pos(), "END TODO without a BEGIN TODO before it")
				continue
			}
			open.endLine, open.endPos = line, c.End()
			open.end = lineEnd(src, fset.Position(c.End()).Offset)
			regions = append(regions, open)
			open = nil
		}
	}
	if open != nil {
		fail(open.beginPos, "BEGIN TODO(%s) has no END TODO", open.phase)
	}
	if omitting != nil {
		p := fset.File(f.Pos())
		fail(p.LineStart(omitting.beginLine), "BEGIN REFERENCE ONLY has no END REFERENCE ONLY")
	}
	return regions, omits, errs
}

// hintOpen reports whether comment c continues the hint of a region whose
// BEGIN line is followed only by comment lines so far: the line right after
// the hint's last line.
func (r *region) hintOpen(fset *token.FileSet, c *ast.Comment) bool {
	return r.endLine == 0 && fset.Position(c.Pos()).Line == r.beginLine+len(r.hint)
}

// ownLine reports whether only white space precedes c on its line.
func ownLine(fset *token.FileSet, src []byte, c *ast.Comment) bool {
	off := fset.Position(c.Pos()).Offset
	return strings.TrimSpace(string(src[lineStart(src, off):off])) == ""
}

func lineStart(src []byte, off int) int {
	for off > 0 && src[off-1] != '\n' {
		off--
	}
	return off
}

func lineEnd(src []byte, off int) int {
	for off < len(src) && src[off] != '\n' {
		off++
	}
	if off < len(src) {
		off++
	}
	return off
}
