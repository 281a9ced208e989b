package mutate

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// labSrc stands in for the lab's quorum helpers: the operators know them by
// their package's name and their own.
const labSrc = `package lab

func Faulty(n int) int          { return (n - 1) / 3 }
func Quorum(n int) int          { return 2*Faulty(n) + 1 }
func Weak(n int) int            { return Faulty(n) + 1 }
func Blocking(n, count int) bool { return count > n-Quorum(n) }

type Env interface{ Logf(format string, args ...any) }
`

// fakeImporter serves example.com/lab from labSrc and the standard
// library from export data.
func fakeImporter(t *testing.T) func(*token.FileSet) types.Importer {
	t.Helper()
	return func(fset *token.FileSet) types.Importer {
		f, err := parser.ParseFile(fset, "lab.go", labSrc, 0)
		require.NoError(t, err)
		lab, err := (&types.Config{}).Check("example.com/lab", fset, []*ast.File{f}, nil)
		require.NoError(t, err)
		return importerFunc(func(p string) (*types.Package, error) {
			if p == "example.com/lab" {
				return lab, nil
			}
			return importer.Default().Import(p)
		})
	}
}

type importerFunc func(string) (*types.Package, error)

func (f importerFunc) Import(p string) (*types.Package, error) { return f(p) }

// snippet wraps a function body in a package with one prepare region.
func snippet(body string) string {
	return `package ref

import (
	"errors"
	"fmt"

	"example.com/lab"
)

var (
	_ = lab.Quorum
	_ = errors.New
	_ = fmt.Errorf
)

type msg struct {
	view, seq int
	digest    string
	replica   int
	ok        bool
	fresh     bool
}

func g() msg { return msg{} }

func f(a, b, c bool, x, y, n int, v []int, m msg, p *msg, env lab.Env) int {
	// BEGIN TODO(prepare): the student's code
` + body + `
	// END TODO
	return 0
}
`
}

func planOf(t *testing.T, src string) *Plan {
	t.Helper()
	p, err := plan("ref", map[string][]byte{"ref/ref.go": []byte(src)}, fakeImporter(t))
	require.NoError(t, err)
	return p
}

// change is what a test expects of one mutant.
type change struct {
	kind     Kind
	old, new string
}

func changes(p *Plan, kinds ...Kind) []change {
	var out []change
	for _, m := range p.Mutants {
		if slices.Contains(kinds, m.Kind) {
			out = append(out, change{m.Kind, m.Old, m.New})
		}
	}
	return out
}

func TestOperators(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		kinds []Kind
		want  []change
	}{{
		name:  "drop each operand of a chain",
		body:  "if a && b && c {\n\t\treturn 1\n\t}",
		kinds: []Kind{DropOperand},
		want: []change{
			{DropOperand, "a && b && c", "b && c"},
			{DropOperand, "a && b && c", "a && c"},
			{DropOperand, "a && b && c", "a && b"},
		},
	}, {
		name:  "drop within a parenthesised chain of the other operator",
		body:  "if a || (b && c) {\n\t\treturn 1\n\t}",
		kinds: []Kind{DropOperand},
		want: []change{
			{DropOperand, "a || (b && c)", "(b && c)"},
			{DropOperand, "a || (b && c)", "a"},
			{DropOperand, "b && c", "c"},
			{DropOperand, "b && c", "b"},
		},
	}, {
		name:  "negate a chain and each of its operands",
		body:  "if a || x == y {\n\t\treturn 1\n\t}",
		kinds: []Kind{Negate},
		want: []change{
			{Negate, "a || x == y", "!(a || x == y)"},
			{Negate, "a", "!a"},
			{Negate, "x == y", "x != y"},
		},
	}, {
		name:  "negate a comparison by turning it around, a not by taking it off",
		body:  "if x < y {\n\t\treturn 1\n\t}\n\tif !c {\n\t\treturn 2\n\t}\n\tfor m.ok {\n\t\tbreak\n\t}",
		kinds: []Kind{Negate},
		want: []change{
			{Negate, "x < y", "x >= y"},
			{Negate, "!c", "c"},
			{Negate, "m.ok", "!m.ok"},
		},
	}, {
		name:  "negate the cases of a switch without a tag",
		body:  "switch {\n\tcase x > 0:\n\t\treturn 1\n\t}\n\tswitch x {\n\tcase 1:\n\t\treturn 2\n\t}",
		kinds: []Kind{Negate},
		want:  []change{{Negate, "x > 0", "x <= 0"}},
	}, {
		name:  "shift each comparison across its boundary",
		body:  "if x < y || x <= n || y > n || y >= x {\n\t\treturn 1\n\t}\n\t_ = x == y",
		kinds: []Kind{Boundary},
		want: []change{
			{Boundary, "x < y", "x <= y"},
			{Boundary, "x <= n", "x < n"},
			{Boundary, "y > n", "y >= n"},
			{Boundary, "y >= x", "y > x"},
		},
	}, {
		name:  "move a quorum by one",
		body:  "if len(v) >= lab.Quorum(n) || lab.Blocking(n, len(v)) {\n\t\treturn 1\n\t}\n\tx = y - lab.Weak(n)",
		kinds: []Kind{Quorum},
		want: []change{
			{Quorum, "lab.Quorum(n)", "lab.Quorum(n)+1"},
			{Quorum, "lab.Quorum(n)", "lab.Quorum(n)-1"},
			{Quorum, "len(v)", "len(v)+1"},
			{Quorum, "len(v)", "len(v)-1"},
			{Quorum, "lab.Weak(n)", "(lab.Weak(n)+1)"},
			{Quorum, "lab.Weak(n)", "(lab.Weak(n)-1)"},
		},
	}, {
		name:  "delete assignments, calls and a return an if guards",
		body:  "z := x\n\tx = z\n\ty++\n\tg()\n\tif c {\n\t\tpanic(z)\n\t}\n\tif a {\n\t\treturn 1\n\t}\n\tif b {\n\t\treturn 2\n\t} else {\n\t\treturn 3\n\t}",
		kinds: []Kind{Delete},
		want: []change{
			{Delete, "x = z", ""},
			{Delete, "y++", ""},
			{Delete, "g()", ""},
			{Delete, "return 1", ""},
		},
	}, {
		name:  "swap a field for its nearest neighbours of the same type",
		body:  "x = m.seq + p.replica\n\ty = len(m.digest)",
		kinds: []Kind{SwapField},
		want: []change{
			{SwapField, "m.seq", "m.view"},
			{SwapField, "m.seq", "m.replica"},
			{SwapField, "p.replica", "p.seq"},
		},
	}, {
		name:  "swap a boolean field",
		body:  "c = m.fresh",
		kinds: []Kind{SwapField},
		want:  []change{{SwapField, "m.fresh", "m.ok"}},
	}, {
		name:  "leave trace lines and the text of errors alone",
		body:  "env.Logf(\"n%d %v\", m.seq, x < y)\n\tif a {\n\t\tenv.Logf(\"quorum %d\", lab.Quorum(n))\n\t}\n\t_ = fmt.Errorf(\"%d of %d\", m.seq, lab.Quorum(n))\n\t_ = errors.New(fmt.Sprint(x < y))",
		kinds: []Kind{DropOperand, Boundary, Quorum, Delete, SwapField},
	}, {
		name:  "leave an if that only words a trace line alone, condition included",
		body:  "if a && m.ok && x < lab.Quorum(n) {\n\t\tenv.Logf(\"n%d\", m.seq)\n\t}",
		kinds: Kinds(),
	}, {
		name:  "mutate an if that does more than word a trace line",
		body:  "if a {\n\t\tenv.Logf(\"n%d\", m.seq)\n\t\tx = 1\n\t}",
		kinds: Kinds(),
		want:  []change{{Negate, "a", "!a"}, {Delete, "x = 1", ""}},
	}, {
		name:  "leave fields that are written, addressed or reached through a call",
		body:  "m.seq = 1\n\tp.seq++\n\t_ = &m.seq\n\tx = g().seq",
		kinds: []Kind{SwapField},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planOf(t, snippet(tt.body))
			assert.ElementsMatch(t, tt.want, changes(p, tt.kinds...))
			for _, m := range p.Mutants {
				assert.Equal(t, []string{"prepare"}, m.Phases)
				assert.False(t, m.Helper)
				_, err := parser.ParseFile(token.NewFileSet(), "x.go", p.Apply(m), 0)
				assert.NoError(t, err, "%s leaves Go that parses", m.Describe())
			}
		})
	}
}

// Only the regions and the helpers they call are the student's: the rest
// of a function, and functions no region calls, stay.
func TestScopes(t *testing.T) {
	src := `package ref

import "fmt"

func helper(x int) bool { return x > 1 }

func shared(x int) bool { return x < 2 }

func unused(x int) bool { return x >= 3 }

func name(x int) string {
	if x > 0 {
		return "positive"
	}
	return "other"
}

func f(x int) bool {
	if x == 9 {
		return false
	}
	// BEGIN TODO(commit): commit
	if helper(x) && shared(x) {
		return true
	}
	if x < 0 {
		panic(fmt.Errorf("%s", name(x)))
	}
	// END TODO
	// BEGIN TODO(prepare): prepare
	_ = shared(x)
	// END TODO
	return x != 4
}
`
	p := planOf(t, src)
	byFunc := map[string][]*Mutant{}
	for _, m := range p.Mutants {
		byFunc[m.Func] = append(byFunc[m.Func], m)
		assert.NotContains(t, m.Old, "x == 9", "code before the region stays")
		assert.NotContains(t, m.Old, "x != 4", "code after the region stays")
	}
	assert.NotContains(t, byFunc, "unused")
	assert.NotContains(t, byFunc, "name", "a function that only words an error is no helper")
	require.NotEmpty(t, byFunc["helper"])
	for _, m := range byFunc["helper"] {
		assert.True(t, m.Helper)
		assert.Equal(t, []string{"commit"}, m.Phases)
	}
	require.NotEmpty(t, byFunc["shared"])
	for _, m := range byFunc["shared"] {
		assert.Equal(t, []string{"prepare", "commit"}, m.Phases, "phases in the lab's order")
		assert.Equal(t, "prepare", m.Phase())
	}
	for _, m := range byFunc["f"] {
		assert.False(t, m.Helper)
	}
}

// Code the skeleton leaves out (REFERENCE ONLY lines, a reference-only
// file) is no student's: nothing in it is mutated, while the helper's
// code around those lines still is.
func TestReferenceOnlyCodeIsNotMutated(t *testing.T) {
	src := `package ref

func helper(x int) bool {
	// BEGIN REFERENCE ONLY: a fast path the skeleton leaves out
	if fast(x) && x > 5 {
		x = 7
		return true
	}
	// END REFERENCE ONLY
	return x > 1 && x != 3
}

func f(x int) bool {
	// BEGIN TODO(commit): commit
	if helper(x) || fast(x) {
		return true
	}
	// END TODO
	return false
}
`
	fastSrc := `//pbftlab:reference-only

package ref

func fast(x int) bool { return x == 2 || x < 0 }
`
	p, err := plan("ref", map[string][]byte{"ref/ref.go": []byte(src), "ref/fast.go": []byte(fastSrc)}, fakeImporter(t))
	require.NoError(t, err)
	var helper int
	for _, m := range p.Mutants {
		assert.NotEqual(t, "ref/fast.go", m.File, "%s: a reference-only file", m.Describe())
		assert.NotContains(t, m.Old, "x > 5", m.Describe())
		assert.NotContains(t, m.Old, "x = 7", m.Describe())
		if m.Func == "helper" {
			helper++
			assert.Contains(t, m.Old, "x", m.Describe())
			assert.Greater(t, m.Line, 9, "%s: above the END REFERENCE ONLY line", m.Describe())
		}
	}
	assert.Positive(t, helper, "the helper's own code is still mutated")
	assert.NotEmpty(t, changes(p, DropOperand), "the region's chain is still mutated")
}

// An ID names the same change after unrelated edits: code added around
// it, another function, white space.
func TestIDsAreStable(t *testing.T) {
	body := "if a && x < y {\n\t\treturn 1\n\t}\n\tif b {\n\t\treturn 2\n\t}\n\tx = m.seq"
	before := planOf(t, snippet(body))
	edited := strings.Replace(snippet("\tg()\n\t"+body), "func g() msg", "func h() {}\n\nfunc g() msg", 1)
	edited = strings.Replace(edited, "a && x < y", "a  &&  x < y", 1)
	after := planOf(t, edited)
	ids := func(p *Plan) []string {
		var out []string
		for _, m := range p.Mutants {
			out = append(out, m.ID)
		}
		return out
	}
	assert.Subset(t, ids(after), ids(before))
	assert.Len(t, ids(after), len(ids(before))+1, "the new call is one more mutant")
	// Two returns deleted under different ifs are told apart by their if.
	var deletes []string
	for _, m := range before.Mutants {
		if m.Kind == Delete && strings.HasPrefix(m.Old, "return") {
			deletes = append(deletes, m.ID)
		}
	}
	require.Len(t, deletes, 2)
	assert.NotEqual(t, strings.Count(deletes[0], ":"), 3, "no ordinal needed: %v", deletes)
	assert.NotEqual(t, strings.Count(deletes[1], ":"), 3, "no ordinal needed: %v", deletes)
	assert.Equal(t, "f:delete", deletes[0][:len("f:delete")])
}

// The schema is valid Go of the same package, and each guard keeps the
// reference's code in its off branch.
func TestSchemaTypeChecks(t *testing.T) {
	p := planOf(t, snippet("if a && x < lab.Quorum(n) {\n\t\tx = m.seq\n\t\tg()\n\t}\n\tc = m.fresh || b"))
	require.NotEmpty(t, p.Mutants)
	schema := p.Schema()
	require.Contains(t, schema, path.Join("ref", GuardFile))
	fset := token.NewFileSet()
	var files []*ast.File
	for name, src := range schema {
		f, err := parser.ParseFile(fset, name, src, 0)
		require.NoError(t, err, "%s:\n%s", name, src)
		files = append(files, f)
	}
	conf := types.Config{Importer: fakeImporter(t)(fset)}
	_, err := conf.Check("ref", fset, files, nil)
	require.NoError(t, err, "%s", schema["ref/ref.go"])
	out := string(schema["ref/ref.go"])
	assert.Contains(t, out, "pbftlabShift(lab.Quorum(n), ")
	assert.Contains(t, out, "pbftlabPick(")
	assert.Contains(t, out, "if pbftlabMutant != ")
	for _, m := range p.Mutants {
		assert.Positive(t, m.N)
	}
}

// Apply plants one mutant; a deleted statement leaves no blank line.
func TestApply(t *testing.T) {
	p := planOf(t, snippet("x = 1\n\ty = 2"))
	var del *Mutant
	for _, m := range p.Mutants {
		if m.Kind == Delete && m.Old == "x = 1" {
			del = m
		}
	}
	require.NotNil(t, del)
	out := string(p.Apply(del))
	assert.NotContains(t, out, "x = 1")
	assert.Contains(t, out, "the student's code\n\ty = 2\n")
	assert.Equal(t, "@@ ref/ref.go\n-x = 1\n", p.Hunk(del))
}

func TestEquivalents(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    map[string]string
		wantErr string
	}{
		{name: "ids and reasons", text: "# reviewed\n\nf:negate:abc123   the helper checks it again\nf:delete:def456\tnothing reads it\n",
			want: map[string]string{"f:negate:abc123": "the helper checks it again", "f:delete:def456": "nothing reads it"}},
		{name: "empty", text: "", want: map[string]string{}},
		{name: "no reason", text: "f:negate:abc123\n", wantErr: "eq.txt:1: f:negate:abc123 has no reason"},
		{name: "twice", text: "a x\na y\n", wantErr: "eq.txt:2: a is listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEquivalents("eq.txt", []byte(tt.text))
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// The reference's own schema, whatever solution/ holds now, is valid Go:
// one build can serve every mutant.
func TestReferenceSchemaTypeChecks(t *testing.T) {
	p, err := Discover("../..", "solution")
	require.NoError(t, err)
	require.NotEmpty(t, p.Mutants)
	fset := token.NewFileSet()
	var files []*ast.File
	for name, src := range p.Schema() {
		f, err := parser.ParseFile(fset, name, src, 0)
		require.NoError(t, err, name)
		files = append(files, f)
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	_, err = conf.Check(p.Pkg, fset, files, nil)
	require.NoError(t, err)
}
