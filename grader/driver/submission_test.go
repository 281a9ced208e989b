package driver

import (
	"bytes"
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
