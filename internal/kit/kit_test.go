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
			assert.NoError(t, err, "%s is TA-only in internal/kit but not in the kit", rel)
		}
	}
}

func TestInRelease(t *testing.T) {
	for rel, in := range map[string]bool{
		"solution/commit.go":                   false,
		"solutions/x.go":                       true,
		"ta/mutate/mutate.go":                  false,
		"ta":                                   false,
		"tab/x.go":                             true,
		"internal/kit/kit.go":                  true,
		"reports/score.json":                   false,
		"cmd/pbftlab/main.go":                  true,
		"grader/driver/grade.go":               true,
		"grader/driver/testdata/submissions/x": true,
		"sim/sim_test.go":                      true,
		"HANDOUT.md":                           true,
		"README.md":                            false,
		".ci/run":                              false,
	} {
		assert.Equal(t, in, InRelease(rel), rel)
	}
}

func TestImportsReference(t *testing.T) {
	for imp, want := range map[string]bool{
		"m/solution":          true,
		"m/solution/cmd/pbft": true,
		"m/solutions":         false,
		"m/skeleton":          false,
		"other/solution":      false,
	} {
		path := filepath.Join(t.TempDir(), "x_test.go")
		require.NoError(t, os.WriteFile(path, []byte("package x\n\nimport _ \""+imp+"\"\n"), 0o644))
		got, err := ImportsReference(path, "m")
		require.NoError(t, err)
		assert.Equal(t, want, got, imp)
	}
	path := filepath.Join(t.TempDir(), "broken.go")
	require.NoError(t, os.WriteFile(path, []byte("package"), 0o644))
	_, err := ImportsReference(path, "m")
	assert.Error(t, err, "a file that does not parse")
}
