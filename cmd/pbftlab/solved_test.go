package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pbftlab/internal/skelgen"
	"pbftlab/internal/submission"
	"pbftlab/script"
)

// solvedFiles are the files a student hands in who has done every phase
// as the reference does: the skeleton's editable files with every region
// filled from the reference. The reference's own files would not do, since
// they call into its fast mode, which a submission does not get.
func solvedFiles(t *testing.T) map[string][]byte {
	t.Helper()
	root := mustRoot(t)
	files, err := skelgen.Generate(skelgen.Options{Root: root, From: "solution", To: submission.Tree, Fill: script.Phases()})
	require.NoError(t, err)
	editable, err := submission.Editable(root + "/" + submission.Tree)
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, name := range editable {
		src, ok := files[name]
		require.True(t, ok, "the skeleton generates %s", name)
		out[name] = src
	}
	return out
}
