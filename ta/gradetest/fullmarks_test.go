package gradetest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader"
	"pbftlab/grader/driver"
	"pbftlab/internal/cmdline"
	"pbftlab/internal/submission"
)

// The skeleton is the solution with its marked regions taken out, so the
// skeleton with every region filled in from the solution, handed in as a
// submission, must earn every point. This also runs the whole submission
// path: the checks, the clean copy and grading there.
func TestSolutionRegionsGiveFullMarks(t *testing.T) {
	if testing.Short() {
		t.Skip("grades a whole tree")
	}
	dir := filepath.Join(t.TempDir(), "handin", submission.Tree)
	HandIn(t, dir, Solved(t))

	reports := filepath.Join(t.TempDir(), "reports")
	var stdout, stderr bytes.Buffer
	code := driver.Command([]string{"-submission", filepath.Dir(dir), "-reports", reports}, &stdout, &stderr)
	require.Equal(t, cmdline.ExitOK, code, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	assert.Contains(t, stdout.String(), "submission "+dir+": taking ")

	var sc struct {
		Score, Max, RobScore, RobMax int
		Rows                         []grader.Row `json:"cases"`
	}
	data, err := os.ReadFile(filepath.Join(reports, "score.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &sc))
	assert.Positive(t, sc.Max)
	assert.Equal(t, sc.Max, sc.Score)
	assert.Equal(t, sc.RobMax, sc.RobScore)
	for _, row := range sc.Rows {
		assert.Equal(t, "passed", row.State, row.Name)
	}
}
