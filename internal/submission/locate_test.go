package submission

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A folder that holds none of a submission's files says where its Go
// files are, or which zip to unpack, so that a hand-in unpacked one
// folder too deep, or not unpacked at all, can be pointed at or fixed.
func TestReadSaysWhereTheFilesAre(t *testing.T) {
	editable := []string{"commit.go", "prepare.go", "replica.go"}
	for _, tc := range []struct {
		name  string
		files []string // slash paths in the submission folder; a trailing "@" makes a link to ../elsewhere
		want  string   // after "holds none of the files a submission may contain (...)", {dir} the folder
	}{
		{name: "a whole repository", files: []string{"pbft-lab-main/README.md", "pbft-lab-main/skeleton/commit.go", "pbft-lab-main/skeleton/prepare.go", "pbft-lab-main/skeleton/grade_test.go"},
			want: "; its Go files are in {dir}/pbft-lab-main/skeleton: point the grade at that folder (make grade SUBMISSION={dir}/pbft-lab-main/skeleton), or move them into {dir}"},
		{name: "a folder of files", files: []string{"handin/commit.go", "handin/prepare.go", "handin/replica.go"},
			want: "; its Go files are in {dir}/handin: "},
		{name: "the folder with the submission's files wins", files: []string{"a/main.go", "a/util.go", "b/commit.go"},
			want: "; its Go files are in {dir}/b: "},
		{name: "else the one with more Go files", files: []string{"a/main.go", "b/main.go", "b/util.go"},
			want: "; its Go files are in {dir}/b: "},
		{name: "else the shallower", files: []string{"a/b/commit.go", "c/commit.go"},
			want: "; its Go files are in {dir}/c: "},
		{name: "a zip", files: []string{"submission.zip"},
			want: "; it holds {dir}/submission.zip: unpack it first (unzip -d {dir} {dir}/submission.zip), then grade again"},
		{name: "Go files before a zip", files: []string{"submission.zip", "x/commit.go"},
			want: "; its Go files are in {dir}/x: "},
		{name: "nothing", files: []string{"README.md"}, want: ""},
		{name: "too deep to look", files: []string{"a/b/c/d/e/f/commit.go"}, want: ""},
		{name: "hidden folders", files: []string{".git/commit.go", "__MACOSX/skeleton/commit.go"}, want: ""},
		{name: "no link followed", files: []string{"other@"}, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "sub")
			require.NoError(t, os.MkdirAll(filepath.Join(root, "elsewhere"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(root, "elsewhere", "commit.go"), []byte("package skeleton\n"), 0o644))
			require.NoError(t, os.MkdirAll(dir, 0o755))
			for _, f := range tc.files {
				p := filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(f, "@")))
				require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				if strings.HasSuffix(f, "@") {
					require.NoError(t, os.Symlink(filepath.Join(root, "elsewhere"), p))
					continue
				}
				require.NoError(t, os.WriteFile(p, []byte("package skeleton\n"), 0o644))
			}
			_, _, err := Read(dir, editable, "pbftlab")
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), dir+" holds none of the files a submission may contain (commit.go, prepare.go, replica.go)"), err.Error())
			rest := strings.TrimPrefix(err.Error(), dir+" holds none of the files a submission may contain (commit.go, prepare.go, replica.go)")
			want := strings.ReplaceAll(tc.want, "{dir}", dir)
			if want == "" {
				assert.Empty(t, rest)
				return
			}
			assert.True(t, strings.HasPrefix(rest, want), "got %q\nwant %q", rest, want)
		})
	}
}
