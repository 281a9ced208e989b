package stress

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"pbftlab/internal/cmdline"
	"pbftlab/internal/kit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStressCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs trees")
	}
	// The kit's make stress takes the reference, a student's copy the
	// skeleton: only in the kit does a replay of the skeleton name it.
	root, err := kit.Root()
	require.NoError(t, err)
	tree := ""
	if _, err := os.Stat(filepath.Join(root, kit.Reference)); err == nil {
		tree = " TREE=skeleton"
	}
	t.Run("a failing case leaves transcripts and replay commands", func(t *testing.T) {
		// A case no replica passes, so that the test holds in a student's
		// copy whose skeleton is finished as in the kit's.
		cases, err := filepath.Abs(filepath.Join("testdata", "fails"))
		require.NoError(t, err)
		reports := filepath.Join(t.TempDir(), "stress")
		require.NoError(t, os.MkdirAll(reports, 0o755))
		stale := filepath.Join(reports, "wrong_balance-99.txt")
		require.NoError(t, os.WriteFile(stale, []byte("an earlier run"), 0o644))
		var stdout, stderr bytes.Buffer
		code := Command([]string{"-tree", "skeleton", "-n", "2", "-seed", "5", "-cases", cases, "-reports", reports}, &stdout, &stderr)
		require.Equal(t, cmdline.ExitFailed, code, stdout.String()+stderr.String())
		out := stdout.String()
		assert.Contains(t, out, "Runs: 2, failures: 1", "the seed whose network loses messages counts only the run's own failures")
		assert.Contains(t, out, "replay: make stress"+tree+" CASES="+cases+" CASE=wrong_balance SEED=5 N=1")
		assert.FileExists(t, filepath.Join(reports, "wrong_balance-5.txt"))
		assert.NoFileExists(t, stale, "a run clears the transcripts of the one before")
	})
	t.Run("an unknown case", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := Command([]string{"-n", "1", "-case", "no_such_case", "-reports", t.TempDir()}, &stdout, &stderr)
		assert.Equal(t, cmdline.ExitUsage, code)
		assert.Contains(t, stderr.String(), `no case named "no_such_case" (the cases: case1_deposit`)
	})
}

// A replay line names the tree only when make stress would not take it
// anyway: the reference in the TAs' kit, the skeleton in a student's copy.
func TestReplayTree(t *testing.T) {
	kit, release := t.TempDir(), t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(kit, "solution"), 0o755))
	for _, tc := range []struct {
		root, tree, want string
	}{
		{kit, "solution", ""},
		{kit, "skeleton", "skeleton"},
		{release, "skeleton", ""},
		{release, "mytree", "mytree"},
	} {
		assert.Equal(t, tc.want, stressOptions{root: tc.root, tree: tc.tree}.replayTree(), "%s in %s", tc.tree, tc.root)
	}
}
