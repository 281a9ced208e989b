package gradetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"pbftlab/internal/submission"
	"pbftlab/ta/skelgen"
)

// The batch figure of make bench grades copies of solvedSubmission: they
// must pass the checker and build in the kit's tree, or the bench fails
// only after minutes of other figures. Compiling the one package through
// the overlay is all it takes; grading it is the full-marks test's job.
func TestSolvedSubmissionBuilds(t *testing.T) {
	root := Root(t)
	files, err := skelgen.Solved(root)
	require.NoError(t, err)
	editable, err := submission.Editable(filepath.Join(root, submission.Tree))
	require.NoError(t, err)
	require.Len(t, files, len(editable), "a full-marks submission holds every file a student edits")

	dir := filepath.Join(t.TempDir(), "copy1")
	HandIn(t, dir, files)
	ws, violations, err := submission.Prepare(root, dir)
	require.NoError(t, err)
	require.Empty(t, violations, "the checker refuses a full-marks submission")
	defer ws.Close()
	require.Empty(t, ws.Found.Missing)

	cmd := exec.Command("go", "build", "-overlay", ws.Overlay, "-o", os.DevNull, "./"+submission.Tree)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "a full-marks submission does not build in the kit:\n%s", out)
}
