package rewrite

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRewrite(t *testing.T) {
	text := "# Counts a vote twice.\n# Really.\nphase: prepare\n\n@@ a/x.go\n func f() {\n-\treturn 1\n+\treturn 2\n\n }\n@@ a/y.go\n-old\n"
	rw, err := Parse("m", []byte(text))
	require.NoError(t, err)
	assert.Equal(t, "Counts a vote twice. Really.", rw.About)
	assert.Equal(t, map[string]string{"phase": "prepare"}, rw.Fields)
	require.Len(t, rw.Hunks, 2)
	assert.Equal(t, Hunk{File: "a/x.go", Line: 5, Old: "func f() {\n\treturn 1\n\n}\n", New: "func f() {\n\treturn 2\n\n}\n"}, rw.Hunks[0])
	assert.Equal(t, Hunk{File: "a/y.go", Line: 11, Old: "old\n", New: ""}, rw.Hunks[1])
	assert.Equal(t, []string{"a/x.go", "a/y.go"}, rw.Files())

	for _, tt := range []struct{ name, text, want string }{
		{"no hunk", "# nothing\nphase: x\n", "no @@ FILE hunk"},
		{"a stray header line", "phase x\n@@ a.go\n-x\n", `expected a # comment, a key: value line or @@ FILE, found "phase x"`},
		{"a hunk line without a prefix", "@@ a.go\n-x\nx\n", `a hunk line starts with a space, - or +, found "x"`},
		{"nothing to find", "@@ a.go\n+x\n", "the hunk has no line to find in a.go"},
		{"no change", "@@ a.go\n x\n", "the hunk changes nothing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("m", []byte(tt.text))
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestApplyRewrite(t *testing.T) {
	files := map[string]string{"x.go": "package x\n\nfunc f() int {\n\treturn 1\n}\n\nfunc g() int {\n\treturn 1\n}\n"}
	read := func(f string) ([]byte, error) {
		if s, ok := files[f]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
	for _, tt := range []struct{ name, text, want, err string }{
		{name: "one place", text: "@@ x.go\n func g() int {\n-\treturn 1\n+\treturn 2\n",
			want: "package x\n\nfunc f() int {\n\treturn 1\n}\n\nfunc g() int {\n\treturn 2\n}\n"},
		{name: "two hunks in one file", text: "@@ x.go\n func f() int {\n-\treturn 1\n+\treturn 3\n@@ x.go\n func g() int {\n-\treturn 1\n+\treturn 4\n",
			want: "package x\n\nfunc f() int {\n\treturn 3\n}\n\nfunc g() int {\n\treturn 4\n}\n"},
		{name: "at the start of the file", text: "@@ x.go\n-package x\n+package y\n",
			want: "package y\n\nfunc f() int {\n\treturn 1\n}\n\nfunc g() int {\n\treturn 1\n}\n"},
		{name: "not there", text: "@@ x.go\n-\treturn 9\n", err: "what the hunk takes out is not in x.go"},
		{name: "twice", text: "@@ x.go\n-\treturn 1\n", err: "occurs 2 times in x.go; give it more context"},
		{name: "only whole lines", text: "@@ x.go\n-return 1\n", err: "is not in x.go"},
		{name: "no such file", text: "@@ z.go\n-x\n", err: "file does not exist"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rw, err := Parse("m", []byte(tt.text))
			require.NoError(t, err)
			out, err := rw.ApplyTo(read)
			if tt.err != "" {
				assert.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(out["x.go"]))
		})
	}
	_, err := (Rewrite{Name: "m", Hunks: []Hunk{{File: "z.go", Old: "x\n"}}}).ApplyTo(read)
	assert.True(t, errors.Is(err, fs.ErrNotExist))
}
