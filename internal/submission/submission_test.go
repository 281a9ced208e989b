package submission

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func violations(t *testing.T, path string) []string {
	t.Helper()
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []string
	for _, v := range Rules(path, src, "skeleton", "pbftlab") {
		out = append(out, v.String())
	}
	return out
}

func TestRules(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{{
		file: "testdata/clean/skeleton/prepare.go",
	}, {
		file: "testdata/imports/prepare.go",
		want: []string{
			`testdata/imports/prepare.go:5: import "os" is not allowed: a replica does no I/O of its own: it talks through lab.Env`,
			`testdata/imports/prepare.go:6: import "time" is not allowed: it is not on the allowlist`,
			`testdata/imports/prepare.go:8: import "net/http" is not allowed: a replica does no I/O of its own`,
			`testdata/imports/prepare.go:10: import "pbftlab/sim" is not allowed: of the kit, only pbftlab/lab may be imported`,
			`testdata/imports/prepare.go:11: import "reflect" is not allowed`,
			`testdata/imports/prepare.go:12: import "runtime/debug" is not allowed: a replica may not reach into the Go runtime`,
		},
	}, {
		file: "testdata/gostmt/commit.go",
		want: []string{
			"testdata/gostmt/commit.go:4: go statement: a replica may not start goroutines",
			"testdata/gostmt/commit.go:6: go statement",
		},
	}, {
		file: "testdata/package/prepare.go",
		want: []string{"testdata/package/prepare.go:1: package solution: every file must be in package skeleton"},
	}, {
		file: "testdata/cgo/prepare.go",
		want: []string{
			`testdata/cgo/prepare.go:3: import "C" is not allowed: cgo is not allowed`,
			`testdata/cgo/prepare.go:5: import "unsafe" is not allowed: a replica may not step around the type system`,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := violations(t, tt.file)
			startsWith(t, got, tt.want)
		})
	}
}

func TestRulesOnAFileThatDoesNotParse(t *testing.T) {
	p := filepath.Join(t.TempDir(), "prepare.go")
	vs := Rules(p, []byte("package skeleton\n\nfunc broken( {\n"), "skeleton", "pbftlab")
	require.Len(t, vs, 1)
	assert.Equal(t, 3, vs[0].Line)
	assert.Contains(t, vs[0].String(), "prepare.go:3: the file does not parse")
}

func TestRead(t *testing.T) {
	editable := []string{"commit.go", "prepare.go", "replica.go"}
	for _, dir := range []string{"testdata/clean", "testdata/clean/skeleton"} {
		t.Run(dir, func(t *testing.T) {
			found, vs, err := Read(dir, editable, "pbftlab")
			require.NoError(t, err)
			assert.Empty(t, vs)
			assert.Equal(t, filepath.Join("testdata", "clean", "skeleton"), found.Dir, "a skeleton/ folder inside is where the files are")
			assert.ElementsMatch(t, []string{"commit.go", "prepare.go"}, keys(found.Files))
			assert.Equal(t, []string{"replica.go"}, found.Missing)
			assert.Equal(t, []string{"notes.go"}, found.Ignored)
		})
	}
	_, vs, err := Read("testdata/gostmt", editable, "pbftlab")
	require.NoError(t, err)
	require.Len(t, vs, 2)
	assert.Equal(t, 4, vs[0].Line)

	_, _, err = Read("testdata/kit/cases", editable, "pbftlab")
	assert.ErrorContains(t, err, "holds none of the files")
}

func TestReadRefusesLinks(t *testing.T) {
	dir := t.TempDir()
	target, err := filepath.Abs("testdata/clean/skeleton/prepare.go")
	require.NoError(t, err)
	require.NoError(t, os.Symlink(target, filepath.Join(dir, "prepare.go")))
	_, vs, err := Read(dir, []string{"prepare.go"}, "pbftlab")
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Contains(t, vs[0].Rule, "not a regular file")
}

func TestPrepare(t *testing.T) {
	w, vs, err := Prepare("testdata/kit", "testdata/clean")
	require.NoError(t, err)
	require.Empty(t, vs)
	t.Cleanup(func() { assert.NoError(t, w.Close()) })

	kit, err := filepath.Abs("testdata/kit")
	require.NoError(t, err)
	assert.Equal(t, kit, w.Root, "the build runs in the kit itself")
	files, err := w.Files()
	require.NoError(t, err)
	clean, err := os.ReadFile("testdata/clean/skeleton/commit.go")
	require.NoError(t, err)
	assert.Equal(t, string(clean), string(files[filepath.Join(kit, "skeleton", "commit.go")]), "the submitted file replaces the kit's")
	assert.Contains(t, string(files[filepath.Join(kit, "skeleton", "prepare.go")]), "package skeleton")
	assert.Len(t, files, 2, "only files the kit's tree has are replaced: not notes.go, not the grade test")
	kitCommit, err := os.ReadFile("testdata/kit/skeleton/commit.go")
	require.NoError(t, err)
	assert.NotEqual(t, string(clean), string(kitCommit), "the kit is not written to")

	// A compiler error names the build's copy; Unmap names the student's file.
	var copied string
	for kitPath, sub := range overlayOf(t, w) {
		if strings.HasSuffix(kitPath, "commit.go") {
			copied = sub
		}
	}
	require.NotEmpty(t, copied)
	assert.Equal(t, filepath.Join(w.Found.Dir, "commit.go")+":25:2: declared and not used: x",
		w.Unmap(copied+":25:2: declared and not used: x"))

	require.NoError(t, w.Close())
	assert.NoFileExists(t, w.Overlay, "closing removes the overlay")
}

func TestPrepareCopiesNothingOnAViolation(t *testing.T) {
	w, vs, err := Prepare("testdata/kit", "testdata/gostmt")
	require.NoError(t, err)
	assert.Nil(t, w)
	require.Len(t, vs, 2)
	assert.Contains(t, vs[0].String(), filepath.Join("testdata", "gostmt", "commit.go")+":4: go statement")
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestKitFilesInAGitWorkTree(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	git("init", "-q")
	write(".gitignore", "/reports/\n*.test\n")
	write("go.mod", "module pbftlab\n")
	write("lab/lab.go", "package lab\n")
	git("add", ".gitignore", "go.mod", "lab/lab.go")
	write("scratch/try.go", "package scratch\n")
	write("reports/score.json", "{}\n")
	write("lab/lab.test", "binary\n")

	all, err := KitFiles(root)
	require.NoError(t, err)
	assert.Equal(t, []string{".gitignore", "go.mod", "lab/lab.go", "scratch/try.go"}, all)
	tracked, err := TrackedFiles(root)
	require.NoError(t, err)
	assert.Equal(t, []string{".gitignore", "go.mod", "lab/lab.go"}, tracked)
}

func TestKitFilesOutsideGit(t *testing.T) {
	files, err := KitFiles("testdata/kit")
	require.NoError(t, err)
	assert.Equal(t, []string{"cases/x.case", "go.mod", "skeleton/commit.go", "skeleton/grade_test.go", "skeleton/prepare.go"}, files,
		"a kit that is not a git work tree of its own is walked, reports left out")
}

func TestRulesRefuseSharedState(t *testing.T) {
	got := violations(t, "testdata/shared/recovery.go")
	want := []string{
		"testdata/shared/recovery.go:12: package-level variable peers",
		"testdata/shared/recovery.go:15: package-level variable _",
		"testdata/shared/recovery.go:16: package-level variable counter",
		"testdata/shared/recovery.go:19: func init: code that runs before any spec is not allowed",
		"testdata/shared/recovery.go:33: errors.ErrUnsupported is a variable that every replica in the process shares",
		"testdata/shared/recovery.go:34: unicode.Upper is a variable",
		"testdata/shared/recovery.go:35: strconv.ErrRange is a variable",
	}
	startsWith(t, got, want)
}

func TestSizesRefuseHugeArrays(t *testing.T) {
	src, err := os.ReadFile("testdata/big/log.go")
	require.NoError(t, err)
	var got []string
	for _, v := range Sizes(map[string][]byte{"testdata/big/log.go": src}) {
		got = append(got, v.String())
	}
	want := []string{
		"testdata/big/log.go:7: an array of 1048576 elements",
		"testdata/big/log.go:8: an array of 1048576 elements",
		"testdata/big/log.go:12: a literal with an element at index 1073741824",
	}
	startsWith(t, got, want)
}

func TestReadRefusesALinkedFolder(t *testing.T) {
	other, err := filepath.Abs("testdata/clean/skeleton")
	require.NoError(t, err)
	tests := []struct{ name, link string }{
		{"skeleton inside the submission is a link", "skeleton"},
		{"the submission itself is a link", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "alice")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			link := filepath.Join(dir, tt.link)
			if tt.link == "" {
				link = filepath.Join(t.TempDir(), "bob")
			}
			require.NoError(t, os.Symlink(other, link))
			found, vs, err := Read(link[:len(link)-len(tt.link)], []string{"commit.go", "prepare.go"}, "pbftlab")
			require.NoError(t, err)
			assert.Nil(t, found)
			require.Len(t, vs, 1)
			assert.Equal(t, link, vs[0].File)
			assert.Contains(t, vs[0].Rule, "a link")
		})
	}
}

func TestRulesRefuseFmtsOwnPrinterAndScanner(t *testing.T) {
	got := violations(t, "testdata/fmtstate/recovery.go")
	want := []string{
		"recovery.go:10: method Format", "recovery.go:10: fmt.State is fmt's own printer",
		"recovery.go:14: method Scan", "recovery.go:14: fmt.ScanState is fmt's own scanner",
		"recovery.go:24: fmt.Fprint hands the writer fmt's own buffer",
		"recovery.go:28: method Format", // a generic type's: S is fmt.State by inference
		"recovery.go:30: fmt.Formatter",
	}
	require.Len(t, got, len(want), "%q", got)
	for _, w := range want {
		assert.True(t, slices.ContainsFunc(got, func(g string) bool { return strings.Contains(g, w) }), "%s in %q", w, got)
	}
}

func TestRulesRefuseDotImportsAndCoroutines(t *testing.T) {
	got := violations(t, "testdata/dot/recovery.go")
	require.Len(t, got, 2, "%q", got)
	assert.Contains(t, got[0], `import . "strconv": a dot import is not allowed`)
	assert.Contains(t, got[1], "iter.Pull starts a coroutine")
}

func sizes(t *testing.T, path string) []string {
	t.Helper()
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	var got []string
	for _, v := range Sizes(map[string][]byte{path: src}) {
		got = append(got, v.String())
	}
	return got
}

func TestSizesRefuseHugeStringConstants(t *testing.T) {
	got := sizes(t, "testdata/bomb/log.go")
	want := []string{
		"testdata/bomb/log.go:16: constant s12 may hold a string of more than 65536 bytes",
		"testdata/bomb/log.go:17: constant s40 may hold a string",
		"testdata/bomb/log.go:20: constant bombLen may hold a string",
	}
	startsWith(t, got, want)
}

func TestSizesEvaluateLabConstants(t *testing.T) {
	got := sizes(t, "testdata/kitlen/log.go")
	want := []string{
		"testdata/kitlen/log.go:7: an array of 209715200 elements",
		"testdata/kitlen/log.go:8: an array whose length the checker cannot evaluate",
		"testdata/kitlen/log.go:12: a literal with an element at index 13107200",
		"testdata/kitlen/log.go:16: a literal key computed from another package's constant",
	}
	startsWith(t, got, want)
}

// startsWith checks that got holds one line per line of want, each
// starting with it.
func startsWith(t *testing.T, got, want []string) {
	t.Helper()
	require.Len(t, got, len(want), "%q", got)
	for i, w := range want {
		assert.True(t, strings.HasPrefix(got[i], w), "got %q, want it to start with %q", got[i], w)
	}
}

// overlayOf reads the workspace's overlay: each kit path and its copy.
func overlayOf(t *testing.T, w *Workspace) map[string]string {
	t.Helper()
	data, err := os.ReadFile(w.Overlay)
	require.NoError(t, err)
	var o struct{ Replace map[string]string }
	require.NoError(t, json.Unmarshal(data, &o))
	return o.Replace
}

// The files a hand-in may replace are the kit's tree as it ships: the
// skeleton's Go files, tests aside, neither more nor fewer.
func TestFilesAreTheSkeletons(t *testing.T) {
	added, err := Added(filepath.Join("..", "..", Tree))
	require.NoError(t, err)
	assert.Empty(t, added, "a Go file of skeleton/ missing from Files")
	editable, err := Editable(filepath.Join("..", "..", Tree))
	require.NoError(t, err)
	assert.Equal(t, Files, editable, "a file of Files missing from skeleton/")
}

// A file a student added to their own copy of the kit is left out of the
// build of a hand-in, as a TA's clean kit has no such file.
func TestPrepareLeavesOutAFileAddedToTheKitsTree(t *testing.T) {
	kit := t.TempDir()
	require.NoError(t, os.CopyFS(kit, os.DirFS("testdata/kit")))
	added := filepath.Join(kit, Tree, "util.go")
	require.NoError(t, os.WriteFile(added, []byte("package skeleton\n\nfunc helper() {}\n"), 0o644))
	w, vs, err := Prepare(kit, "testdata/clean")
	require.NoError(t, err)
	require.Empty(t, vs)
	t.Cleanup(func() { assert.NoError(t, w.Close()) })
	overlay := overlayOf(t, w)
	require.Contains(t, overlay, added)
	assert.Empty(t, overlay[added], "an empty backing path: the build sees no such file")
	files, err := w.Files()
	require.NoError(t, err)
	assert.NotContains(t, files, added)

	// The go command itself does not see it.
	list := exec.Command("go", "list", "-e", "-overlay", w.Overlay, "-f", "{{.GoFiles}}", "./"+Tree)
	list.Dir = kit
	out, err := list.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "[commit.go prepare.go]", strings.TrimSpace(string(out)))
}
