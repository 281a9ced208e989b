// Package skelgen writes the student's skeleton from the reference
// solution, so that the two never drift apart.
//
// The solution marks the code a student writes with line comments:
//
//	// BEGIN TODO(prepare): count yes votes by distinct sender
//	...
//	// END TODO
//
// A region holds whole statements of one block of a function. Comment lines
// right after the BEGIN line continue its hint. In the skeleton each region
// becomes "// TODO(phase): hint" and the least code that still compiles:
// the variables that code after the region reads, declared with their zero
// value; "_ = x" for a variable only the region read; a zero-valued return
// when the region ended its function; a break when it held the only way out
// of an endless loop. Imports no longer used are dropped. Everything else is
// copied with the package renamed: non-test Go files, the grade test (now
// bound to the skeleton) and those of every sub-folder such as cmd/, with
// imports of the solution rewritten. Other tests of the solution are not
// copied, since they assert that the reference passes, and neither is
// anything but Go source.
//
// What the reference holds for another purpose than teaching, the fast mode
// a cluster run for speed uses, stays out of the skeleton altogether: a
// file whose header holds the line "//pbftlab:reference-only" is not
// copied, and neither are the lines from "// BEGIN REFERENCE ONLY: why" to
// "// END REFERENCE ONLY" in the others, markers included. Such lines sit
// outside every TODO region and must leave compiling code behind them, so
// they are whole statements, fields, case clauses or declarations.
package skelgen

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"pbftlab/internal/submission"
	"pbftlab/script"
)

// Options name the two trees.
type Options struct {
	Root string // the module root, which holds go.mod
	From string // the solution folder, relative to Root
	To   string // the skeleton folder, relative to Root
	// Fill names phases whose regions keep the reference's code instead of
	// a stub: the tree a student has after finishing those phases, which
	// is how the kit checks that the stubs of the others fail fast.
	Fill []string
}

// Files maps slash-separated paths, relative to the skeleton folder, onto
// their contents.
type Files map[string][]byte

// GradeTest is the one test file of the solution the skeleton keeps.
const GradeTest = "grade_test.go"

// skeletonDoc replaces the solution's package comment.
const skeletonDoc = `// Package skeleton is your PBFT replica: the reference's files with the
// code of each phase taken out. Every "TODO(phase): hint" comment marks
// code to write; the rest is given and works as it is. HANDOUT.md takes the
// phases in order and names the cases that test each one.`

// Generate builds the skeleton in memory.
func Generate(o Options) (Files, error) {
	module, err := submission.ModulePath(o.Root)
	if err != nil {
		return nil, err
	}
	g := &generator{
		opts:     o,
		fset:     token.NewFileSet(),
		fromPath: module + "/" + filepath.ToSlash(o.From),
		toPath:   module + "/" + filepath.ToSlash(o.To),
		fromName: path.Base(filepath.ToSlash(o.From)),
		toName:   path.Base(filepath.ToSlash(o.To)),
		out:      Files{},
	}
	for _, ph := range o.Fill {
		if !slices.Contains(script.Phases(), ph) {
			return nil, fmt.Errorf("unknown phase %q to fill (phases: %s)", ph, strings.Join(script.Phases(), ", "))
		}
	}
	g.imp = importer.ForCompiler(g.fset, "source", nil).(types.ImporterFrom)
	pkgs, err := g.collect()
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, p := range pkgs {
		errs = append(errs, p.scan(g)...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, p := range pkgs {
		if err := p.generate(g); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	g.out[StaticcheckConf] = []byte(staticcheckConf)
	return g.out, nil
}

// StaticcheckConf is the one file of the skeleton not made from the
// solution: the skeleton's helpers wait for the student's code to call
// them, so staticcheck's unused-code check would only be noise there.
const StaticcheckConf = "staticcheck.conf"

const staticcheckConf = `# The helpers here are unused until your code calls them.
checks = ["inherit", "-U1000"]
`

type generator struct {
	opts             Options
	fset             *token.FileSet
	imp              types.ImporterFrom
	fromPath, toPath string // import paths
	fromName, toName string // package names
	out              Files
}

// pkg is one folder of Go files of the solution.
type pkg struct {
	dir   string // slash path relative to the solution folder; "." at the top
	files []*file
}

type file struct {
	rel  string // slash path relative to the solution folder
	path string
	src  []byte
	ast  *ast.File
	test bool
	// refOnly marks a file the skeleton does not get (see referenceOnly).
	refOnly bool
	regions []*region // the regions to stub
	filled  []*region // the regions of Options.Fill, kept as they are
	omits   []*omission
	places  []*placement
	stubs   []*stub
	drop    map[string]bool // import paths to delete
	renames []edit
}

// collect reads the Go files of the solution folder, grouped by package.
func (g *generator) collect() ([]*pkg, error) {
	root := filepath.Join(g.opts.Root, g.opts.From)
	byDir := map[string]*pkg{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if d.IsDir() {
			if p != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasPrefix(name, ".") {
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil // build output and notes stay with the solution
		}
		test := strings.HasSuffix(name, "_test.go")
		if test && rel != GradeTest {
			return nil // the solution's own tests stay with it
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(g.fset, p, src, parser.ParseComments)
		if err != nil {
			return err
		}
		dir := path.Dir(rel)
		if byDir[dir] == nil {
			byDir[dir] = &pkg{dir: dir}
		}
		byDir[dir].files = append(byDir[dir].files, &file{rel: rel, path: p, src: src, ast: f, test: test, refOnly: isReferenceOnly(f), drop: map[string]bool{}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(byDir) == 0 {
		return nil, fmt.Errorf("no Go files in %s", root)
	}
	var pkgs []*pkg
	for _, dir := range slices.Sorted(maps.Keys(byDir)) {
		pkgs = append(pkgs, byDir[dir]) // "." sorts first: the package the others import
	}
	return pkgs, nil
}

// scan finds the regions of every file and places them in the syntax
// tree, returning every problem found.
func (p *pkg) scan(g *generator) []error {
	var errs []error
	for _, f := range p.files {
		if f.test {
			continue
		}
		regions, omits, rerrs := scanMarkers(g.fset, f.ast, f.src)
		errs = append(errs, rerrs...)
		f.omits = omits
		if f.refOnly && len(regions)+len(omits) > 0 {
			p := g.fset.Position(f.ast.Package)
			errs = append(errs, &Error{File: p.Filename, Line: p.Line, Msg: "a file marked " + referenceOnly + " is left out whole: it holds no markers"})
			continue
		}
		for _, r := range regions {
			if slices.Contains(g.opts.Fill, r.phase) {
				f.filled = append(f.filled, r)
				continue
			}
			pl, err := place(g.fset, f.ast, r)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			f.regions = append(f.regions, r)
			f.places = append(f.places, pl)
			f.stubs = append(f.stubs, &stub{})
		}
	}
	return errs
}

// hasRegions reports whether the package needs more than renaming: a
// region to stub, lines or a file to leave out.
func (p *pkg) hasRegions() bool {
	return slices.ContainsFunc(p.files, func(f *file) bool { return len(f.regions)+len(f.omits) > 0 || f.refOnly })
}

// generate renders the package's files into g.out. A package with regions
// is type-checked, before to work out the stubs and after to make sure the
// skeleton compiles.
func (p *pkg) generate(g *generator) error {
	for _, f := range p.files {
		f.renames = g.renames(f)
	}
	if !p.hasRegions() {
		for _, f := range p.files {
			out, _ := apply(f.src, f.renames)
			if err := g.emit(f, out); err != nil {
				return err
			}
		}
		return nil
	}
	info, tpkg, err := g.checkSolution(p)
	if err != nil {
		return err
	}
	for _, f := range p.files {
		if err := f.planStubs(g, info, tpkg); err != nil {
			return err
		}
	}
	return p.settle(g, info)
}

func (g *generator) emit(f *file, src []byte) error {
	out, err := format.Source(src)
	if err != nil {
		return fmt.Errorf("%s: the generated file does not parse: %v", f.path, err)
	}
	g.out[f.rel] = out
	return nil
}

// checkSolution type-checks the solution package's non-test files.
func (g *generator) checkSolution(p *pkg) (*types.Info, *types.Package, error) {
	var files []*ast.File
	for _, f := range p.files {
		if !f.test {
			files = append(files, f.ast)
		}
	}
	info := &types.Info{
		Types: map[ast.Expr]types.TypeAndValue{},
		Defs:  map[*ast.Ident]types.Object{},
		Uses:  map[*ast.Ident]types.Object{},
	}
	conf := types.Config{Importer: g.imp}
	tpkg, err := conf.Check(path.Join(g.fromPath, p.dir), g.fset, files, info)
	if err != nil {
		return nil, nil, fmt.Errorf("the solution does not compile: %v", err)
	}
	return info, tpkg, nil
}

// commentFixes rewrite what comments say about the solution so that they
// speak of the skeleton.
func (g *generator) commentFixes(text string) string {
	text = strings.ReplaceAll(text, g.fromPath, g.toPath)
	text = regexp.MustCompile(`\b`+regexp.QuoteMeta(g.fromName)+`([/.])([A-Za-z])`).ReplaceAllStringFunc(text, func(s string) string {
		if s[len(g.fromName)] == '.' && !(s[len(s)-1] >= 'A' && s[len(s)-1] <= 'Z') {
			return s // "the solution.": end of a sentence, not an identifier
		}
		return g.toName + s[len(g.fromName):]
	})
	return strings.ReplaceAll(text, "the reference replica", "your replica")
}

// renames are the edits that move a file from the solution's package and
// import paths to the skeleton's.
func (g *generator) renames(f *file) []edit {
	var edits []edit
	off := func(pos token.Pos) int { return g.fset.Position(pos).Offset }
	switch f.ast.Name.Name {
	case g.fromName, g.fromName + "_test":
		name := g.toName + strings.TrimPrefix(f.ast.Name.Name, g.fromName)
		edits = append(edits, edit{off(f.ast.Name.Pos()), off(f.ast.Name.End()), name})
	}
	bare := false // the solution imported under its own name
	for _, spec := range f.ast.Imports {
		ip := strings.Trim(spec.Path.Value, `"`)
		if ip != g.fromPath && !strings.HasPrefix(ip, g.fromPath+"/") {
			continue
		}
		edits = append(edits, edit{off(spec.Path.Pos()), off(spec.Path.End()), `"` + g.toPath + strings.TrimPrefix(ip, g.fromPath) + `"`})
		if ip == g.fromPath && spec.Name == nil {
			bare = true
		}
	}
	if bare {
		ast.Inspect(f.ast, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == g.fromName {
					edits = append(edits, edit{off(id.Pos()), off(id.End()), g.toName})
				}
			}
			return true
		})
	}
	for _, cg := range f.ast.Comments {
		if cg == f.ast.Doc && f.ast.Name.Name == g.fromName && strings.HasPrefix(cg.Text(), "Package "+g.fromName+" ") {
			edits = append(edits, edit{off(cg.Pos()), off(cg.End()), skeletonDoc})
			continue
		}
		for _, c := range cg.List {
			if fixed := g.commentFixes(c.Text); fixed != c.Text {
				edits = append(edits, edit{off(c.Pos()), off(c.End()), fixed})
			}
		}
	}
	return edits
}

// edit replaces src[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// apply makes the edits, which must not overlap, and returns the result
// and a map from offsets in it back to offsets in src (-1 for offsets in
// replaced text).
func apply(src []byte, edits []edit) ([]byte, func(int) int) {
	edits = slices.Clone(edits)
	slices.SortFunc(edits, func(a, b edit) int { return a.start - b.start })
	type seg struct{ out, in, n int }
	var segs []seg
	var b bytes.Buffer
	last := 0
	for _, e := range edits {
		segs = append(segs, seg{b.Len(), last, e.start - last})
		b.Write(src[last:e.start])
		b.WriteString(e.text)
		last = e.end
	}
	segs = append(segs, seg{b.Len(), last, len(src) - last})
	b.Write(src[last:])
	back := func(off int) int {
		for _, s := range segs {
			if off >= s.out && off < s.out+s.n {
				return s.in + off - s.out
			}
		}
		return -1
	}
	return b.Bytes(), back
}
