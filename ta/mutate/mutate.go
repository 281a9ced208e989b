// Package mutate plants bugs in the reference mechanically, to measure
// how much wrong code the grader catches. It mutates the code between the
// TODO markers of the reference package (what a student writes) and the
// bodies of the package's functions that code calls (the helpers a student
// leans on), with six operators: drop one operand of a && or || chain,
// negate a condition, shift a comparison across its boundary, move a
// quorum of the lab's quorum helpers by one, delete a statement, and read
// a field's neighbour of the same type instead of the field. Trace lines
// and the text of errors are left alone: people read them, specs do not.
// So is what the skeleton leaves out (REFERENCE ONLY lines, reference-only
// files): no student sees or writes that code, so its mutants would
// measure nothing a student could get wrong.
//
// All mutants of a run are compiled into one test binary, a mutant schema:
// each site is guarded by the number of the mutant that is on, read once
// from the environment (EnvVar), so the build that costs seconds is paid
// once and each mutant costs one run of the suite. An off switch leaves
// the reference's behaviour as it is.
//
// A mutant's ID is stable across unrelated edits: the function it is in,
// the operator, and a hash of the code it replaces and the code it puts
// in, with an ordinal only when one function holds the same change twice.
// So a reviewed list of equivalent mutants keeps naming the same mutants
// while the reference changes around them.
//
// General mutation tools for Go (go-gremlins, for one) were not used: they
// build and test the module once per mutant, know nothing of which lines
// are the student's, have no operator for quorums, deleted statements or
// swapped fields, and judge a mutant by "go test" failing rather than by
// which graded spec, of which phase, loses points.
package mutate

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"pbftlab/script"
	"pbftlab/ta/skelgen"
)

// EnvVar names the environment variable that turns one mutant of a schema
// on, by its number (Mutant.N); unset or 0, every mutant is off.
const EnvVar = "PBFTLAB_MUTANT"

// Kind is a mutation operator.
type Kind string

// The operators.
const (
	DropOperand Kind = "drop-operand" // a && b && c -> a && c
	Negate      Kind = "negate"       // cond -> !cond, a < b -> a >= b
	Boundary    Kind = "boundary"     // a < b -> a <= b
	Quorum      Kind = "quorum"       // lab.Quorum(n) -> lab.Quorum(n)+1
	Delete      Kind = "delete"       // a statement taken out
	SwapField   Kind = "swap-field"   // m.View -> m.Seq
)

// Kinds lists the operators in the order reports show them.
func Kinds() []Kind { return []Kind{DropOperand, Negate, Boundary, Quorum, Delete, SwapField} }

// Mutant is one planted bug: the code Old at a place of one file replaced
// by New.
type Mutant struct {
	ID     string
	N      int      // its number in the schema, from 1
	Phases []string // phases it belongs to, in the lab's phase order; the first is its phase
	File   string   // slash path from the module root
	Line   int
	Func   string // Type.method or function
	Kind   Kind
	Helper bool   // in a helper a region calls, not in a region
	Old    string // the code replaced
	New    string // what replaces it; empty for a deleted statement

	start, end int // Old's byte offsets in File
	form       form
	delta      int    // a quorum's move
	ctx        string // the head of the statement around it
}

// Phase is the phase the mutant is reported under.
func (m *Mutant) Phase() string { return m.Phases[0] }

// Describe says in one line what the mutant changes and where.
func (m *Mutant) Describe() string {
	where := fmt.Sprintf("%s:%d %s", path.Base(m.File), m.Line, m.Func)
	if m.Helper {
		where += " (helper)"
	}
	if m.Kind == Delete {
		return fmt.Sprintf("%s: delete %q", where, short(m.Old))
	}
	return fmt.Sprintf("%s: %s %q -> %q", where, m.Kind, short(m.Old), short(m.New))
}

// short squeezes code onto one line of reasonable length.
func short(s string) string {
	s = squeeze(s)
	if len(s) > 90 {
		s = s[:87] + "..."
	}
	return s
}

// Plan is the mutants of one package and the sources they apply to.
type Plan struct {
	Dir     string // the package folder, slash path from the module root
	Pkg     string // the package name
	Mutants []*Mutant
	src     map[string][]byte // by slash path from the module root
}

// Source returns the unchanged source of a file of the plan.
func (p *Plan) Source(file string) []byte { return p.src[file] }

// Files lists the plan's files, sorted.
func (p *Plan) Files() []string {
	return slices.Sorted(func(yield func(string) bool) {
		for f := range p.src {
			if !yield(f) {
				return
			}
		}
	})
}

// Discover reads the package in dir (a folder of root, given as a slash
// path) and plans its mutants: every TODO region of its non-test files,
// and the body of every function of the package that code in a region
// calls and that holds no region itself, except the code the skeleton
// leaves out. Sub-folders are other packages
// and are left alone.
func Discover(root, dir string) (*Plan, error) {
	matches, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(dir), "*.go"))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, p := range matches {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		files[path.Join(dir, filepath.Base(p))] = data
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no Go files in %s", filepath.Join(root, dir))
	}
	return plan(dir, files, func(fset *token.FileSet) types.Importer {
		return importer.ForCompiler(fset, "source", nil)
	})
}

// plan parses and type-checks files, one package, and plans its mutants.
func plan(dir string, files map[string][]byte, imp func(*token.FileSet) types.Importer) (*Plan, error) {
	fset := token.NewFileSet()
	p := &Plan{Dir: dir, src: files}
	var asts []*ast.File
	for _, name := range p.Files() {
		f, err := parser.ParseFile(fset, name, files[name], parser.ParseComments)
		if err != nil {
			return nil, err
		}
		asts = append(asts, f)
	}
	p.Pkg = asts[0].Name.Name
	info := &types.Info{
		Types:      map[ast.Expr]types.TypeAndValue{},
		Defs:       map[*ast.Ident]types.Object{},
		Uses:       map[*ast.Ident]types.Object{},
		Selections: map[*ast.SelectorExpr]*types.Selection{},
	}
	conf := types.Config{Importer: imp(fset)}
	tpkg, err := conf.Check(p.Pkg, fset, asts, info)
	if err != nil {
		return nil, fmt.Errorf("type-checking %s: %w", dir, err)
	}
	for _, name := range []string{guardVar, shiftFunc, pickFunc} {
		if tpkg.Scope().Lookup(name) != nil {
			return nil, fmt.Errorf("%s declares %s, a name the mutant schema needs", dir, name)
		}
	}
	w := &walker{plan: p, fset: fset, info: info, pkg: tpkg}
	if err := w.run(asts); err != nil {
		return nil, err
	}
	p.number()
	return p, nil
}

// number gives the mutants their IDs and schema numbers, in file and
// source order.
func (p *Plan) number() {
	slices.SortStableFunc(p.Mutants, func(a, b *Mutant) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.start, b.start), cmp.Compare(b.end, a.end))
	})
	seen := map[string]int{}
	for i, m := range p.Mutants {
		m.N = i + 1
		sum := sha256.Sum256([]byte(squeeze(m.Old) + "\x00" + squeeze(m.New) + "\x00" + squeeze(m.ctx)))
		id := fmt.Sprintf("%s:%s:%s", m.Func, m.Kind, hex.EncodeToString(sum[:])[:6])
		seen[id]++
		if n := seen[id]; n > 1 {
			id += fmt.Sprintf(":%d", n)
		}
		m.ID = id
	}
}

// squeeze reduces white space to single blanks, so that reformatting the
// code leaves IDs as they are.
func squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }

// PhaseOrder sorts phases as the lab lists them.
func PhaseOrder(a, b string) int {
	return cmp.Compare(slices.Index(script.Phases(), a), slices.Index(script.Phases(), b))
}

// scope is code to mutate: a region, or the body of a helper.
type scope struct {
	start, end token.Pos
	phases     []string
	helper     bool
}

func (s scope) holds(n ast.Node) bool { return n.Pos() > s.start && n.End() <= s.end }

// regionsOf finds the TODO regions of a file.
func regionsOf(fset *token.FileSet, f *ast.File, src []byte) ([]skelgen.Region, error) {
	return skelgen.Regions(fset, f, src)
}
