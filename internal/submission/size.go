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
)

// MaxArray bounds the elements of an array a submission may declare, and
// the index of an element in a composite literal. The compiler lays a
// large array literal out in the binary byte by byte: a gigabyte of it
// compiles for a minute and lands in the build cache, before any time
// limit of the grade applies to the code. A replica's state is a few
// entries per sequence number; the reference's largest array has 32.
const MaxArray = 1 << 16

// Sizes checks the submitted files (by path) together, as the package they form,
// for arrays and literals too large to compile quickly. Constant lengths
// are evaluated across files; a length the check cannot evaluate (one that
// names the kit) is left to the compiler and the grade's build limit.
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
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{
		// The check needs the package's own constants only: every import
		// is an empty package, and the errors that causes are ignored.
		Importer: importerFunc(func(path string) (*types.Package, error) {
			p := types.NewPackage(path, filepath.Base(path))
			p.MarkComplete()
			return p, nil
		}),
		Error: func(error) {},
	}
	_, _ = conf.Check(Tree, fset, parsed, info)

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
	for _, f := range parsed {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ArrayType:
				if n.Len == nil {
					return true
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
					if tv, ok := info.Types[kv.Key]; ok && tv.Value != nil && tv.Value.Kind() == constant.Int {
						if i, exact := constant.Int64Val(tv.Value); !exact || i >= MaxArray {
							report(kv.Pos(), fmt.Sprintf("a literal with an element at index %s: at most %d elements are allowed", tv.Value, MaxArray))
						}
					}
				}
			}
			return true
		})
	}
	return vs
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
