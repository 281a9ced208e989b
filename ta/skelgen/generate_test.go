package skelgen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// module writes a small module holding the given files and returns its root.
func module(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files["go.mod"] = "module example\n\ngo 1.26\n"
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	return root
}

func generate(t *testing.T, files map[string]string) (Files, error) {
	t.Helper()
	return Generate(Options{Root: module(t, files), From: "solution", To: "skeleton"})
}

func TestStubs(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{{
		name: "a region that ends its function returns zero values",
		src: `package solution

import "errors"

type T struct{ n int }

func f(n int) (int, *T, T, string, bool, error) {
	// BEGIN TODO(prepare): compute everything
	if n < 0 {
		return 0, nil, T{}, "", false, errors.New("negative")
	}
	return n, &T{n}, T{n}, "x", true, nil
	// END TODO
}
`,
		want: `package solution

type T struct{ n int }

func f(n int) (int, *T, T, string, bool, error) {
	// TODO(prepare): compute everything
	return 0, nil, T{}, "", false, nil
}
`,
	}, {
		name: "variables read after the region keep a zero-valued declaration",
		src: `package solution

import (
	"fmt"
	"strings"
)

func f(words []string) string {
	// BEGIN TODO(commit): join the words
	var b strings.Builder
	n, m := len(words), 0
	for _, w := range words {
		fmt.Fprint(&b, w)
		m++
	}
	// END TODO
	return b.String() + fmt.Sprint(n, m)
}
`,
		want: `package solution

import (
	"fmt"
	"strings"
)

func f(words []string) string {
	// TODO(commit): join the words
	var b strings.Builder
	var n, m int
	return b.String() + fmt.Sprint(n, m)
}
`,
	}, {
		name: "a variable only the region read is kept alive with a blank assignment",
		src: `package solution

func f(xs map[int]int) int {
	total := 0
	x := xs[1]
	// BEGIN TODO(pre-prepare): add x
	total += x
	// END TODO
	return total
}
`,
		want: `package solution

func f(xs map[int]int) int {
	total := 0
	x := xs[1]
	// TODO(pre-prepare): add x
	_ = x
	return total
}
`,
	}, {
		name: "an endless loop whose exit was in the region gets a break",
		src: `package solution

func f(xs map[int]bool) int {
	n := 0
	for {
		// BEGIN TODO(commit): count until the first gap
		if !xs[n+1] {
			break
		}
		n++
		// END TODO
	}
	return n
}
`,
		want: `package solution

func f(xs map[int]bool) int {
	n := 0
	for {
		// TODO(commit): count until the first gap
		break
	}
	return n
}
`,
	}, {
		name: "comment lines right after BEGIN continue the hint",
		src: `package solution

func f() {
	// BEGIN TODO(checkpoint): first line
	// second line
	println("x")
	// a note that is not part of the hint
	println("y")
	// END TODO
}
`,
		want: `package solution

func f() {
	// TODO(checkpoint): first line
	// second line
}
`,
	}, {
		name: "regions in a nested block and a function literal",
		src: `package solution

func f(xs []int) func() int {
	for _, x := range xs {
		if x > 0 {
			// BEGIN TODO(recovery): print it
			println(x)
			// END TODO
		}
	}
	return func() int {
		// BEGIN TODO(view-change): return the count
		return len(xs)
		// END TODO
	}
}
`,
		want: `package solution

func f(xs []int) func() int {
	for _, x := range xs {
		if x > 0 {
			// TODO(recovery): print it
		}
	}
	return func() int {
		// TODO(view-change): return the count
		return 0
	}
}
`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := generate(t, map[string]string{"solution/x.go": tt.src})
			require.NoError(t, err)
			want := strings.Replace(tt.want, "package solution", "package skeleton", 1)
			assert.Equal(t, want, string(files["x.go"]))
		})
	}
}

func TestMarkerErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{{
		name: "BEGIN without END",
		src:  "package solution\n\nfunc f() {\n\t// BEGIN TODO(prepare): vote\n\tprintln()\n}\n",
		want: "x.go:4: BEGIN TODO(prepare) has no END TODO",
	}, {
		name: "END without BEGIN",
		src:  "package solution\n\nfunc f() {\n\tprintln()\n\t// END TODO\n}\n",
		want: "x.go:5: END TODO without a BEGIN TODO before it",
	}, {
		name: "nested regions",
		src:  "package solution\n\nfunc f() {\n\t// BEGIN TODO(prepare): a\n\t// BEGIN TODO(commit): b\n\tprintln()\n\t// END TODO\n}\n",
		want: "x.go:5: BEGIN TODO inside the region opened at line 4",
	}, {
		name: "unknown phase",
		src:  "package solution\n\nfunc f() {\n\t// BEGIN TODO(voting): a\n\tprintln()\n\t// END TODO\n}\n",
		want: `x.go:4: unknown phase "voting"`,
	}, {
		name: "no hint",
		src:  "package solution\n\nfunc f() {\n\t// BEGIN TODO(prepare):\n\tprintln()\n\t// END TODO\n}\n",
		want: "x.go:4: malformed marker",
	}, {
		name: "marker after code",
		src:  "package solution\n\nfunc f() {\n\tprintln() // BEGIN TODO(prepare): a\n\tprintln()\n\t// END TODO\n}\n",
		want: "x.go:4: a TODO marker must be on a line of its own",
	}, {
		name: "markers in different blocks",
		src:  "package solution\n\nfunc f(b bool) {\n\t// BEGIN TODO(prepare): a\n\tif b {\n\t\tprintln()\n\t\t// END TODO\n\t}\n}\n",
		want: "x.go:7: END TODO is inside a statement",
	}, {
		name: "outside a function",
		src:  "package solution\n\n// BEGIN TODO(prepare): a\nvar x = 1\n\n// END TODO\n",
		want: "x.go:3: the region must be inside a function body",
	}, {
		name: "an endless loop left without an exit",
		src:  "package solution\n\nfunc f(n int) {\n\tfor {\n\t\t// BEGIN TODO(commit): stop at zero\n\t\tif n == 0 {\n\t\t\tbreak\n\t\t}\n\t\t// END TODO\n\t\tn--\n\t}\n}\n",
		want: "x.go:5: taking this region out leaves the loop at line 4 with no way out",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := generate(t, map[string]string{"solution/x.go": tt.src})
			require.Error(t, err)
			assert.Contains(t, err.Error(), filepath.Join("solution", tt.want))
		})
	}
}

// Every marker problem of a run is reported, not only the first.
func TestMarkerErrorsAreAllReported(t *testing.T) {
	_, err := generate(t, map[string]string{
		"solution/a.go": "package solution\n\nfunc f() {\n\t// END TODO\n}\n",
		"solution/b.go": "package solution\n\nfunc g() {\n\t// BEGIN TODO(nope): x\n\t// END TODO\n}\n",
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join("solution", "a.go:4"))
	assert.Contains(t, err.Error(), filepath.Join("solution", "b.go:4"))
}

func TestRenamesAndWhatIsCopied(t *testing.T) {
	files, err := generate(t, map[string]string{
		"solution/replica.go": `// Package solution is the reference.
package solution

// New builds one.
func New() int { return 1 }
`,
		"solution/grade_test.go": `package solution_test

import (
	"testing"

	"example/solution"
)

func TestGrade(t *testing.T) { _ = solution.New() }
`,
		"solution/sim_test.go":      "package solution_test\n",
		"solution/notes.txt":        "kept out\n",
		"solution/testdata/x.go":    "package nothing\n",
		"solution/cmd/run/main.go":  "// Command run starts the reference replica (see solution/cmd).\npackage main\n\nimport \"example/solution\"\n\nfunc main() { println(solution.New()) }\n",
		"solution/cmd/run/run_test": "not Go\n",
	})
	require.NoError(t, err)
	var names []string
	for name := range files {
		names = append(names, name)
	}
	assert.ElementsMatch(t, []string{"replica.go", "grade_test.go", "cmd/run/main.go", StaticcheckConf}, names)
	assert.Equal(t, skeletonDoc+"\npackage skeleton\n\n// New builds one.\nfunc New() int { return 1 }\n", string(files["replica.go"]))
	assert.Contains(t, string(files["grade_test.go"]), "package skeleton_test")
	assert.Contains(t, string(files["grade_test.go"]), `"example/skeleton"`)
	assert.Contains(t, string(files["grade_test.go"]), "skeleton.New()")
	assert.Equal(t, "// Command run starts your replica (see skeleton/cmd).\npackage main\n\nimport \"example/skeleton\"\n\nfunc main() { println(skeleton.New()) }\n", string(files["cmd/run/main.go"]))
}

func TestWriteAndDiff(t *testing.T) {
	dir := t.TempDir()
	files := Files{"a.go": []byte("package a\n"), "cmd/b/main.go": []byte("package main\n")}
	diffs, err := files.Diff(filepath.Join(dir, "none"))
	require.NoError(t, err)
	assert.Equal(t, []string{"a.go: missing", "cmd/b/main.go: missing"}, diffs)

	require.NoError(t, os.MkdirAll(filepath.Join(dir, "old"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "old", "stale.go"), []byte("package old\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.go"), []byte("package changed\n"), 0o644))
	diffs, err = files.Diff(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"a.go: differs", "cmd/b/main.go: missing", "old/stale.go: not generated"}, diffs)

	require.NoError(t, files.Write(dir))
	diffs, err = files.Diff(dir)
	require.NoError(t, err)
	assert.Empty(t, diffs)
	assert.NoDirExists(t, filepath.Join(dir, "old"), "a folder left empty is removed")
}

func TestSecrets(t *testing.T) {
	root := module(t, map[string]string{"solution/x.go": `package solution

func f(xs []int) int {
	total := len(xs) + len(xs)*len(xs)
	// BEGIN TODO(commit): add them up
	// a comment inside the region, long enough to count
	total := len(xs) + len(xs)*len(xs)
	for _, x := range xs {
		total += x * distinctWeight
	}
	// END TODO
	return total
}
`})
	secrets, err := Secrets(Options{Root: root, From: "solution", To: "skeleton"})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"total += x * distinctWeight": filepath.Join(root, "solution", "x.go") + ":9",
	}, secrets, "lines also outside the region, short lines and comments are not secrets")
	assert.Equal(t, "return len(seen)", NormalizeLine("-\treturn len(seen)  "))
}
