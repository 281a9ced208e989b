package submission

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"pbftlab/lab"
)

// MaxArray bounds the elements of an array a submission may declare, and
// the index of an element in a composite literal. The compiler lays a
// large array literal out in the binary byte by byte: a gigabyte of it
// compiles for a minute and lands in the build cache, before any time
// limit of the grade applies to the code. A replica's state is a few
// entries per sequence number; the reference's largest array has 32.
const MaxArray = 1 << 16

// MaxConstString bounds the length of a string constant. Constants are
// evaluated by the checker and by the compiler, in memory: a string
// doubled forty times in a few lines of constants is 64 TiB to both.
const MaxConstString = 1 << 16

// Sizes checks the submitted files (by path) together, as the package they
// form, for arrays, literals and string constants too large to compile
// quickly. Constant lengths are evaluated across files, with the values of
// package lab's integer constants; a length or index the check cannot
// evaluate is refused, since the compiler would evaluate it unchecked.
func Sizes(files map[string][]byte) []Violation {
	fset := token.NewFileSet()
	var parsed []*ast.File
	for _, name := range slices.Sorted(maps.Keys(files)) {
		f, err := parser.ParseFile(fset, name, files[name], parser.SkipObjectResolution)
		if err != nil {
			return nil // Rules reports it
		}
		parsed = append(parsed, f)
	}

	var vs []Violation
	seen := map[token.Position]bool{}
	report := func(pos token.Pos, rule string) {
		p := fset.Position(pos)
		if seen[p] {
			return
		}
		seen[p] = true
		vs = append(vs, Violation{File: p.Filename, Line: p.Line, Rule: rule})
	}
	// Before anything evaluates a constant: the type checker would build
	// a huge string in memory as the compiler would.
	for _, c := range hugeStrings(parsed) {
		report(c.Pos(), fmt.Sprintf("constant %s may hold a string of more than %d bytes: build a long string at run time, if you need one", c.Name, MaxConstString))
	}
	if len(vs) > 0 {
		return vs
	}

	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{
		// The check needs constants only: package lab is its integer
		// constants, every other import an empty package, and the errors
		// that causes are ignored.
		Importer: importerFunc(func(path string) (*types.Package, error) {
			p := types.NewPackage(path, filepath.Base(path))
			if path == labPath {
				for name, v := range labInts {
					p.Scope().Insert(types.NewConst(token.NoPos, p, name, types.Typ[types.UntypedInt], constant.MakeInt64(v)))
				}
			}
			p.MarkComplete()
			return p, nil
		}),
		Error: func(error) {},
	}
	_, _ = conf.Check(Tree, fset, parsed, info)

	for _, f := range parsed {
		imports := importNames(f)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ArrayType:
				if n.Len == nil {
					return true
				}
				if _, ok := n.Len.(*ast.Ellipsis); !ok {
					if tv := info.Types[n.Len]; tv.Value == nil {
						report(n.Pos(), "an array whose length the checker cannot evaluate: write the length with literals and constants of your own files, or of package lab")
						return true
					}
				}
				if tv, ok := info.Types[n]; ok && tv.Type != nil {
					if k := elements(tv.Type); k > MaxArray {
						report(n.Pos(), fmt.Sprintf("an array of %d elements: at most %d are allowed (a replica's state is far smaller, and a huge array takes the compiler minutes)", k, MaxArray))
					}
				}
			case *ast.CompositeLit:
				for _, e := range n.Elts {
					kv, ok := e.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					tv := info.Types[kv.Key]
					switch {
					case tv.Value != nil && tv.Value.Kind() == constant.Int:
						if i, exact := constant.Int64Val(tv.Value); !exact || i >= MaxArray {
							report(kv.Pos(), fmt.Sprintf("a literal with an element at index %s: at most %d elements are allowed", tv.Value, MaxArray))
						}
					case tv.Value == nil && computedFromImport(kv.Key, imports):
						// A map key may be anything, but arithmetic on
						// another package's constant is an index the
						// check cannot see.
						report(kv.Pos(), "a literal key computed from another package's constant, which the checker cannot evaluate: compute it in code, or write it with constants of your own files")
					}
				}
			}
			return true
		})
	}
	return vs
}

// labPath is the import path of package lab, whose integer constants the
// size check knows.
const labPath = "pbftlab/lab"

// labInts are package lab's untyped integer constants, which a submission
// may use as a length. TestLabInts checks the list against package lab.
var labInts = map[string]int64{
	"DefaultCheckpointInterval": lab.DefaultCheckpointInterval,
	"DefaultWindow":             lab.DefaultWindow,
	"DefaultViewChangeTimeout":  lab.DefaultViewChangeTimeout,
}

// importNames maps each name under which file f imports a package to
// the package's path; a dot import is under ".".
func importNames(f *ast.File) map[string]string {
	names := map[string]string{}
	for _, spec := range f.Imports {
		ip, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			continue
		}
		name := ip[strings.LastIndex(ip, "/")+1:]
		if spec.Name != nil {
			name = spec.Name.Name
		}
		names[name] = ip
	}
	return names
}

// computedFromImport reports whether e is arithmetic on something selected
// from an imported package.
func computedFromImport(e ast.Expr, imports map[string]string) bool {
	arith, selected := false, false
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			arith = true
		case *ast.SelectorExpr:
			if x, ok := n.X.(*ast.Ident); ok && imports[x.Name] != "" {
				selected = true
			}
		}
		return true
	})
	return arith && selected
}

// hugeStrings finds the constants that may hold a string longer than
// MaxConstString, from the source alone: a constant is bounded by the
// string literals it is written with and by the bounds of the constants
// it names (any constant of that name, in any scope), so a bound is found
// by repeating that sum until nothing grows. A chain of constants that
// each doubles the one before is found in as many rounds as it has links.
func hugeStrings(files []*ast.File) []*ast.Ident {
	type constant struct {
		name *ast.Ident
		expr ast.Expr
	}
	var consts []constant
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			d, ok := n.(*ast.GenDecl)
			if !ok || d.Tok != token.CONST {
				return true
			}
			var last []ast.Expr // a spec without values repeats the one before
			for _, spec := range d.Specs {
				vs := spec.(*ast.ValueSpec)
				if len(vs.Values) > 0 {
					last = vs.Values
				}
				for i, name := range vs.Names {
					if i < len(last) {
						consts = append(consts, constant{name, last[i]})
					}
				}
			}
			return true
		})
	}
	const limit = 1 << 40 // saturate: the sums must not overflow
	bound := map[string]int64{}
	size := func(e ast.Expr) int64 {
		var n int64
		ast.Inspect(e, func(x ast.Node) bool {
			switch x := x.(type) {
			case *ast.BasicLit:
				n += int64(len(x.Value))
			case *ast.Ident:
				n += bound[x.Name]
			case *ast.SelectorExpr:
				return false // another package's constant: lab's are short
			}
			return n < limit
		})
		return min(n, limit)
	}
	for range len(consts) + 1 {
		grew := false
		for _, c := range consts {
			if b := size(c.expr); b > bound[c.name.Name] {
				bound[c.name.Name], grew = b, true
			}
		}
		if !grew {
			break
		}
	}
	var huge []*ast.Ident
	for _, c := range consts {
		if size(c.expr) > MaxConstString {
			huge = append(huge, c.name)
		}
	}
	return huge
}

// elements counts the elements of an array type, nested arrays
// multiplied out; 0 for anything else.
func elements(t types.Type) int64 {
	a, ok := t.Underlying().(*types.Array)
	if !ok {
		return 0
	}
	n := a.Len()
	if inner := elements(a.Elem()); inner > 0 && n > 0 {
		if n > (1<<62)/inner {
			return 1 << 62
		}
		n *= inner
	}
	return n
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }
