package kit

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every name on the TA-only list is a file or folder of the kit, so that
// a move or a rename cannot leave TA material in a student release while
// the list goes on naming the old place; and in a release (a kit without
// the reference), none of them is there.
func TestTAOnlyNamesWhatTheKitHas(t *testing.T) {
	root, err := Root()
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, Reference))
	release := os.IsNotExist(err)
	for _, rel := range TAOnly() {
		if slices.Contains(Leftovers(), rel) {
			continue
		}
		_, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
		if release {
			assert.True(t, os.IsNotExist(err), "%s is TA-only, and the release has it", rel)
		} else {
			assert.NoError(t, err, "%s is on a list of internal/kit but not in the kit", rel)
		}
	}
	for _, rel := range StudentTests() {
		_, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
		assert.NoError(t, err, "%s is on a list of internal/kit but not in the kit", rel)
	}
}

func TestInRelease(t *testing.T) {
	for rel, in := range map[string]bool{
		"solution/commit.go":                                false,
		"solutions/x.go":                                    true,
		"internal/mutate/mutate.go":                         false,
		"internal/kit/kit.go":                               true,
		"reports/score.json":                                false,
		"cmd/pbftlab/grade.go":                              true,
		"cmd/pbftlab/mutants.go":                            false,
		"cmd/pbftlab/batch_test.go":                         false,
		"cmd/pbftlab/testdata/trees/crash/grade_test.go":    false,
		"cmd/pbftlab/submission_test.go":                    true,
		"cmd/pbftlab/testdata/submissions/imports_os/x.go":  true,
		"cmd/pbftlab/testdata/submissions_extra/prepare.go": false,
		"sim/sim_test.go":                                   true,
		"HANDOUT.md":                                        true,
		"README.md":                                         false,
	} {
		assert.Equal(t, in, InRelease(rel), rel)
	}
}
