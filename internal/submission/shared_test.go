package submission

import (
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStdVars checks the checker's list of standard variables against the
// allowed packages as this Go release has them: every exported variable
// that can hold something is refused, and nothing else is.
func TestStdVars(t *testing.T) {
	imp := importer.ForCompiler(token.NewFileSet(), "source", nil)
	sizes := types.SizesFor("gc", "amd64")
	for _, path := range Standard() {
		t.Run(path, func(t *testing.T) {
			pkg, err := imp.Import(path)
			require.NoError(t, err)
			for _, name := range pkg.Scope().Names() {
				obj := pkg.Scope().Lookup(name)
				if !obj.Exported() {
					continue
				}
				v, isVar := obj.(*types.Var)
				holds := isVar && sizes.Sizeof(v.Type()) > 0
				assert.Equal(t, holds, isStdVar(path, name), "%s.%s", path, name)
			}
		})
	}
}

// TestLabExportsNoVariables: package lab is the one package of the kit a
// submission may import, so a variable it exported would be a place where
// one replica writes and another reads.
func TestLabExportsNoVariables(t *testing.T) {
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join("..", "..", "lab", "*.go"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					assert.False(t, n.IsExported(), "%s: lab exports the variable %s", fset.Position(n.Pos()), n.Name)
				}
			}
		}
	}
}

// TestTreesKeepTheRules: the reference and the skeleton handed out are
// what a submission is measured against, so neither may need what the
// checker refuses. A student's copy of the kit has the skeleton only.
func TestTreesKeepTheRules(t *testing.T) {
	// A student's release has the skeleton alone.
	trees := []string{Tree}
	if _, err := os.Stat(filepath.Join("..", "..", "solution")); err == nil {
		trees = append(trees, "solution")
	}
	for _, tree := range trees {
		t.Run(tree, func(t *testing.T) {
			paths, err := filepath.Glob(filepath.Join("..", "..", tree, "*.go"))
			require.NoError(t, err)
			files := map[string][]byte{}
			for _, p := range paths {
				if strings.HasSuffix(p, "_test.go") {
					continue
				}
				src, err := os.ReadFile(p)
				require.NoError(t, err)
				files[p] = src
				assert.Empty(t, Rules(p, src, tree, "pbftlab"))
			}
			require.NotEmpty(t, files)
			assert.Empty(t, Sizes(files))
		})
	}
}

// TestLabInts checks the size check's copy of package lab's untyped
// integer constants against the package: a constant missing from it would
// make an array of that length refused as one the check cannot evaluate.
func TestLabInts(t *testing.T) {
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join("..", "..", "lab", "*.go"))
	require.NoError(t, err)
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		require.NoError(t, err)
		files = append(files, f)
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	pkg, err := conf.Check(labPath, fset, files, nil)
	require.NoError(t, err)
	want := map[string]int64{}
	for _, name := range pkg.Scope().Names() {
		c, ok := pkg.Scope().Lookup(name).(*types.Const)
		if !ok || !c.Exported() || c.Type() != types.Typ[types.UntypedInt] {
			continue
		}
		v, exact := constant.Int64Val(c.Val())
		require.True(t, exact, name)
		want[name] = v
	}
	assert.Equal(t, want, labInts)
}
