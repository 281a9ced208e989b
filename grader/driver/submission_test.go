package driver

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"pbftlab/internal/cmdline"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A submission that breaks a rule is turned away before anything of it is
// compiled or run, with the file, the line and the rule.
func TestGradeRejectsASubmission(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		want []string
	}{{
		name: "an import of os",
		dir:  "imports_os",
		want: []string{filepath.Join("imports_os", "prepare.go") + `:5: import "os" is not allowed`},
	}, {
		name: "a go statement",
		dir:  "go_statement",
		want: []string{filepath.Join("go_statement", "commit.go") + ":4: go statement: a replica may not start goroutines"},
	}, {
		name: "the whole tree, files in skeleton/",
		dir:  "whole_tree",
		want: []string{filepath.Join("whole_tree", "skeleton", "commit.go") + `:3: import "os" is not allowed`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reports := filepath.Join(t.TempDir(), "reports")
			var stdout, stderr bytes.Buffer
			code := Command([]string{"-submission", filepath.Join("testdata", "submissions", tt.dir), "-reports", reports}, &stdout, &stderr)
			assert.Equal(t, cmdline.ExitUsage, code)
			for _, w := range tt.want {
				assert.Contains(t, stderr.String(), w)
			}
			assert.Contains(t, stderr.String(), "nothing was compiled or run")
			assert.NotContains(t, stdout.String(), "grading", "no grading started")
		})
	}
}

func TestGradeSubmissionGradesOnlyTheSkeleton(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Command([]string{"-submission", filepath.Join("testdata", "submissions", "go_statement"), "-tree", "solution"}, &stdout, &stderr)
	assert.Equal(t, cmdline.ExitUsage, code)
	assert.Contains(t, stderr.String(), "-submission grades the skeleton tree")
}

func TestGradeSubmissionNeedsAFolder(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Command([]string{"-submission", filepath.Join(t.TempDir(), "absent")}, &stdout, &stderr)
	require.Equal(t, cmdline.ExitUsage, code)
	assert.Contains(t, stderr.String(), "absent")
}

// Grading the student tree says what a hand-in of it would be refused
// for, and grades it all the same; another tree is not checked.
func TestWarnRules(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	write("go.mod", "module example\n\ngo 1.26\n")
	write("skeleton/commit.go", "package skeleton\n\nimport \"os\"\n\nvar _ = os.Args\n")
	write("skeleton/prepare.go", "package skeleton\n")
	write("skeleton/grade_test.go", "package skeleton\n\nimport \"os\"\n")
	write("solution/commit.go", "package solution\n\nimport \"os\"\n\nvar _ = os.Args\n")

	var out bytes.Buffer
	warnRules(Options{Root: root, Tree: "skeleton"}, &out)
	assert.Contains(t, out.String(), "warning: handed in as it is, skeleton/ would be refused")
	assert.Contains(t, out.String(), `skeleton/commit.go:3: import "os" is not allowed`)
	assert.NotContains(t, out.String(), "prepare.go")
	assert.NotContains(t, out.String(), "grade_test.go", "the kit's test is not the student's")

	out.Reset()
	warnRules(Options{Root: root, Tree: "solution"}, &out)
	assert.Empty(t, out.String(), "only the student tree is checked")

	write("skeleton/commit.go", "package skeleton\n")
	warnRules(Options{Root: root, Tree: filepath.Join(root, "skeleton")}, &out)
	assert.Empty(t, out.String(), "a tree that breaks no rule")

	write("skeleton/util.go", "package skeleton\n")
	warnRules(Options{Root: root, Tree: "skeleton"}, &out)
	assert.Contains(t, out.String(), "util.go would be left out", "a file a hand-in does not take")
}
