package skelgen

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fast mode of the reference reaches the skeleton neither as a file
// nor as the lines that call into it.
func TestReferenceOnly(t *testing.T) {
	files, err := generate(t, map[string]string{
		"solution/x.go": `package solution

import "strings"

type R struct {
	n int
	// BEGIN REFERENCE ONLY: the fast mode's state (fast.go)
	fast
	// END REFERENCE ONLY
}

func (r *R) Do(s string) int {
	// BEGIN REFERENCE ONLY: the fast path (fast.go)
	if r.quick(strings.ToUpper(s)) {
		return 1
	}
	// END REFERENCE ONLY
	switch s {
	case "a":
		r.n++
	// BEGIN REFERENCE ONLY: only the fast mode sends b
	case "b":
		r.n += r.extra
	// END REFERENCE ONLY
	default:
	}
	return r.n
}
`,
		"solution/fast.go": `//pbftlab:reference-only

package solution

type fast struct{ extra int }

func (r *R) quick(s string) bool { return s == "" }
`,
	})
	require.NoError(t, err)
	assert.NotContains(t, files, "fast.go", "a reference-only file is left out whole")
	assert.Equal(t, `package skeleton

type R struct {
	n int
}

func (r *R) Do(s string) int {
	switch s {
	case "a":
		r.n++
	default:
	}
	return r.n
}
`, string(files["x.go"]), "the marked lines go, markers included, and the import only they used")
}

func TestReferenceOnlyMarkerErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{{
		name: "BEGIN without END",
		src:  "package solution\n\nfunc f() {\n\t// BEGIN REFERENCE ONLY: fast\n\tprintln()\n}\n",
		want: "x.go:4: BEGIN REFERENCE ONLY has no END REFERENCE ONLY",
	}, {
		name: "END without BEGIN",
		src:  "package solution\n\nfunc f() {\n\tprintln()\n\t// END REFERENCE ONLY\n}\n",
		want: "x.go:5: END REFERENCE ONLY without a BEGIN REFERENCE ONLY before it",
	}, {
		name: "no reason",
		src:  "package solution\n\nfunc f() {\n\t// BEGIN REFERENCE ONLY\n\tprintln()\n\t// END REFERENCE ONLY\n}\n",
		want: "x.go:4: malformed marker",
	}, {
		name: "inside a TODO region",
		src:  "package solution\n\nfunc f() {\n\t// BEGIN TODO(prepare): a\n\t// BEGIN REFERENCE ONLY: fast\n\tprintln()\n\t// END REFERENCE ONLY\n\t// END TODO\n}\n",
		want: "x.go:5: REFERENCE ONLY inside the TODO region opened at line 4",
	}, {
		name: "a TODO region inside",
		src:  "package solution\n\nfunc f() {\n\t// BEGIN REFERENCE ONLY: fast\n\t// BEGIN TODO(prepare): a\n\tprintln()\n\t// END TODO\n\t// END REFERENCE ONLY\n}\n",
		want: "x.go:5: BEGIN TODO inside the REFERENCE ONLY lines opened at line 4",
	}, {
		name: "markers in a reference-only file",
		src:  "//pbftlab:reference-only\n\npackage solution\n\nfunc f() {\n\t// BEGIN TODO(prepare): a\n\tprintln()\n\t// END TODO\n}\n",
		want: "x.go:3: a file marked",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := generate(t, map[string]string{"solution/x.go": tt.src})
			require.Error(t, err)
			assert.Contains(t, err.Error(), filepath.Join("solution", tt.want))
		})
	}
}

// Fill keeps the reference's code in the regions of the phases it names,
// and stubs the rest: the tree of a student halfway through the lab.
func TestFill(t *testing.T) {
	src := `package solution

func f(n int) int {
	// BEGIN TODO(pre-prepare): double n
	n *= 2
	// END TODO
	// BEGIN TODO(prepare): add one
	n++
	// END TODO
	return n
}
`
	tests := []struct {
		name string
		fill []string
		want string
	}{{
		name: "nothing filled",
		want: "\t// TODO(pre-prepare): double n\n\t// TODO(prepare): add one\n\treturn n\n",
	}, {
		name: "the first phase filled",
		fill: []string{"pre-prepare"},
		want: "\t// BEGIN TODO(pre-prepare): double n\n\tn *= 2\n\t// END TODO\n\t// TODO(prepare): add one\n\treturn n\n",
	}, {
		name: "both filled",
		fill: []string{"pre-prepare", "prepare"},
		want: "\t// BEGIN TODO(pre-prepare): double n\n\tn *= 2\n\t// END TODO\n\t// BEGIN TODO(prepare): add one\n\tn++\n\t// END TODO\n\treturn n\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := Generate(Options{Root: module(t, map[string]string{"solution/x.go": src}), From: "solution", To: "skeleton", Fill: tt.fill})
			require.NoError(t, err)
			assert.Equal(t, "package skeleton\n\nfunc f(n int) int {\n"+tt.want+"}\n", string(files["x.go"]))
		})
	}
	_, err := Generate(Options{Root: module(t, map[string]string{"solution/x.go": src}), From: "solution", To: "skeleton", Fill: []string{"voting"}})
	assert.ErrorContains(t, err, `unknown phase "voting" to fill`)
}

func TestSecretsLeaveOutReferenceOnlyCode(t *testing.T) {
	root := module(t, map[string]string{
		"solution/x.go": `package solution

func f(xs []int) int {
	total := 0
	// BEGIN REFERENCE ONLY: the fast mode adds them up its own way
	total += sumOf(xs) * distinctWeight
	// END REFERENCE ONLY
	// BEGIN TODO(commit): add them up
	total += sumOf(xs) * distinctWeight
	// END TODO
	return total
}
`,
		"solution/fast.go": "//pbftlab:reference-only\n\npackage solution\n\nfunc g(xs []int) int {\n\treturn 0 // total += sumOf(xs) * distinctWeight\n}\n",
	})
	secrets, err := Secrets(Options{Root: root, From: "solution", To: "skeleton"})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"total += sumOf(xs) * distinctWeight": filepath.Join(root, "solution", "x.go") + ":9",
	}, secrets, "what the release never holds does not make a region's line public")
}
