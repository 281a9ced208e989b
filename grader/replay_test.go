package grader

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/internal/kit"
)

func TestReplayNamesWhatItNeeds(t *testing.T) {
	root, err := kit.Root()
	require.NoError(t, err)
	tests := []struct {
		name, tree, sub, cases, want string
		student                      bool
	}{
		{"the reference and the kit's cases", "solution", "", filepath.Join(root, "cases"), "make grade CASE=c SEED=7 RUNS=1", false},
		{"another tree", "skeleton", "", filepath.Join(root, "cases"), "make grade CASE=c SEED=7 RUNS=1 TREE=skeleton", false},
		{"another case folder", "solution", "", "/tmp/hidden", "make grade CASE=c SEED=7 RUNS=1 CASES=/tmp/hidden", false},
		{"a hand-in", "skeleton", "subs/ada", filepath.Join(root, "cases"), "make grade CASE=c SEED=7 RUNS=1 SUBMISSION=subs/ada", false},
		{"nothing set", "", "", "", "make grade CASE=c SEED=7 RUNS=1", false},
		{"for the student's own kit", "skeleton", "/autograder/submission", "/autograder/cases", "make grade CASE=c SEED=7 RUNS=1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(SettingsEnv, Settings{Tree: tt.tree, Submission: tt.sub, Cases: tt.cases, ForStudent: tt.student}.Encode())
			assert.Equal(t, tt.want, replay("c", 7))
		})
	}
}
