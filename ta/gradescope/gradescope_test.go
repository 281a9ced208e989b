package gradescope

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader/report"
	"pbftlab/internal/cmdline"
	"pbftlab/internal/submission"
	"pbftlab/ta/gradetest"
)

// buildBundle writes the autograder zip for the kit into a temporary
// folder and returns its path.
func buildBundle(t *testing.T, hidden string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "autograder.zip")
	var stdout, stderr bytes.Buffer
	code := Command([]string{"-out", out, "-hidden", hidden, "-go", "go1.26.8"}, &stdout, &stderr)
	require.Equal(t, cmdline.ExitOK, code, stderr.String())
	return out
}

func TestBundleHoldsScriptsAndKitWithoutSolution(t *testing.T) {
	zr, err := zip.OpenReader(buildBundle(t, "case7_*"))
	require.NoError(t, err)
	defer zr.Close()
	byName := map[string]*zip.File{}
	for _, f := range zr.File {
		byName[f.Name] = f
		assert.False(t, strings.HasPrefix(f.Name, "solution/"), "the bundle holds %s", f.Name)
		assert.False(t, strings.HasPrefix(f.Name, "reports/"), "the bundle holds %s", f.Name)
	}
	// Gradescope wants both scripts at the root, executable.
	for _, name := range []string{setupScript, autograderEntry} {
		f := byName[name]
		require.NotNil(t, f, name)
		assert.Equal(t, os.FileMode(0o755), f.Mode().Perm(), name)
	}
	for _, name := range []string{"go.mod", "go.sum", "Makefile", "skeleton/grade_test.go", "cmd/pbftlab/main.go", "grader/grader.go", "cases/case2_withdraw.case"} {
		assert.Contains(t, byName, name)
	}
	for name, f := range byName {
		if !strings.HasSuffix(name, ".go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), name, readZipped(t, f), parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range parsed.Imports {
			assert.NotEqual(t, strconv.Quote("pbftlab/solution"), imp.Path.Value, "%s needs the reference", name)
		}
	}
	script := readZipped(t, byName[autograderEntry])
	assert.Contains(t, script, `hidden="${PBFTLAB_HIDDEN-case7_*}"`)
	assert.NotContains(t, script, "__PBFTLAB_")
	setup := readZipped(t, byName[setupScript])
	assert.Contains(t, setup, `go_version="go1.26.8"`)
}

// The bundle takes the kit's files by the student release's rule, the
// files git tracks, so that nothing a TA keeps in the kit without
// committing it (a scratch folder, a student's hand-in, a copy of the
// reference under another name) reaches Gradescope's image.
func TestBundleTakesOnlyTrackedFiles(t *testing.T) {
	root := t.TempDir()
	for _, tc := range []struct {
		rel    string
		state  string // tracked (in git's index), untracked or ignored
		zipped bool
	}{
		{rel: "go.mod", state: "tracked", zipped: true},
		{rel: ".gitignore", state: "tracked", zipped: true},
		{rel: gradescopeDir + "/" + setupScript, state: "tracked", zipped: true},
		{rel: gradescopeDir + "/" + autograderEntry, state: "tracked", zipped: true},
		{rel: "lab/replica.go", state: "tracked", zipped: true},
		{rel: "solution/commit.go", state: "tracked", zipped: false},
		{rel: "scratch/notes.txt", state: "untracked", zipped: false},
		{rel: "solution_copy/commit.go", state: "untracked", zipped: false},
		{rel: "cases/ta_secret.case", state: "untracked", zipped: false},
		{rel: "reports/score.json", state: "ignored", zipped: false},
	} {
		t.Run(tc.rel, func(t *testing.T) {
			path := filepath.Join(root, filepath.FromSlash(tc.rel))
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			text := "x\n"
			switch tc.rel {
			case "go.mod":
				text = "module pbftlab\n"
			case ".gitignore":
				text = "/reports/\n"
			}
			require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
		})
	}
	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	git("init", "-q")
	git("add", "go.mod", ".gitignore", gradescopeDir, "lab", "solution")

	out := filepath.Join(root, "dist", "autograder.zip")
	_, err := writeBundle(root, out, bundleSettings{goVersion: "go1.26.8"})
	require.NoError(t, err)
	zr, err := zip.OpenReader(out)
	require.NoError(t, err)
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	assert.ElementsMatch(t, []string{setupScript, autograderEntry, "go.mod", ".gitignore",
		gradescopeDir + "/" + setupScript, gradescopeDir + "/" + autograderEntry, "lab/replica.go"}, names,
		"the tracked files but the reference: no untracked or ignored file")
}

// A case folder is noted as one students have when the release carries
// it: tracked in the kit, outside its TA-only folders.
func TestInRelease(t *testing.T) {
	root := t.TempDir()
	for _, rel := range []string{"go.mod", "cases/a.case", "secret/b.case", "ta/cases/c.case"} {
		p := filepath.Join(root, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte("x\n"), 0o644))
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "go.mod", "cases", "ta"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	for _, tc := range []struct {
		dir  string
		want bool
	}{
		{filepath.Join(root, "cases"), true},
		{filepath.Join(root, "secret"), false},
		{filepath.Join(root, "ta", "cases"), false},
		{t.TempDir(), false},
	} {
		assert.Equal(t, tc.want, inRelease(root, tc.dir), tc.dir)
	}
}

func TestBundleIsReproducible(t *testing.T) {
	a, err := os.ReadFile(buildBundle(t, ""))
	require.NoError(t, err)
	b, err := os.ReadFile(buildBundle(t, ""))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(a, b), "the same kit gives the same zip")
}

func TestBundleRefusesWhatTheShellWouldRun(t *testing.T) {
	got := string(fillTemplate([]byte(`h="__PBFTLAB_HIDDEN__"`), bundleSettings{hidden: `case7_*,x"; rm -rf /; "`}))
	assert.Equal(t, `h="case7_*,xrm-rf"`, got)
	var stderr bytes.Buffer
	code := Command([]string{"-out", filepath.Join(t.TempDir(), "a.zip"), "-go", "devel +abc"}, io.Discard, &stderr)
	assert.Equal(t, cmdline.ExitUsage, code)
	assert.Contains(t, stderr.String(), "not a Go release")
}

// The TA-only list must hide cases of the bundle: an entry that matches
// none is refused, and no zip is written, rather than a zip that shows
// students the case it was meant to keep from them.
func TestBundleChecksTheHiddenList(t *testing.T) {
	for _, tc := range []struct {
		name, hidden string
		code         int
		want         string
	}{
		{name: "a pattern", hidden: "case7_*", code: cmdline.ExitOK, want: "TA-only cases: case7_checkpoint)"},
		{name: "names", hidden: "robust9_f_crashed,case2_withdraw", code: cmdline.ExitOK, want: "TA-only cases: case2_withdraw, robust9_f_crashed)"},
		{name: "a pattern that matches nothing", hidden: "ta5_*", code: cmdline.ExitUsage, want: `-hidden: "ta5_*" matches no case in `},
		{name: "a typo", hidden: "case7_*,robust9_f_crash", code: cmdline.ExitUsage, want: `"robust9_f_crash" matches no case in ` + filepath.Join(gradetest.Root(t), "cases") + ` (did you mean robust9_f_crashed?)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "autograder.zip")
			var stdout, stderr bytes.Buffer
			code := Command([]string{"-out", out, "-hidden", tc.hidden, "-go", "go1.26.8"}, &stdout, &stderr)
			assert.Equal(t, tc.code, code, stderr.String())
			assert.Contains(t, stdout.String()+stderr.String(), tc.want)
			if tc.code != cmdline.ExitOK {
				assert.NoFileExists(t, out)
			}
		})
	}
}

// taCases writes a TA's case folder: two of the kit's cases, a secret
// one and a robustness one, beside files that are not cases (notes, a
// hidden folder), and returns it.
func taCases(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ta-cases")
	kitCases := filepath.Join(gradetest.Root(t), "cases")
	for rel, from := range map[string]string{
		"case1_deposit.case":                 "case1_deposit.case",
		"ta_withdraw.case":                   "case2_withdraw.case",
		"robustness/ta_twin_primary.case":    "robustness/robust3_twin_primary.case",
		".git/objects/case7_checkpoint.case": "case7_checkpoint.case",
		"notes/how_i_wrote_them.txt":         "case7_checkpoint.case",
	} {
		data, err := os.ReadFile(filepath.Join(kitCases, filepath.FromSlash(from)))
		require.NoError(t, err)
		path := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, data, 0o644))
	}
	return dir
}

// make gradescope CASES=dir puts the TA's case files in the bundle, and
// its scripts grade them in place of the kit's cases/, as make grade
// CASES=dir does; the TA-only list is checked against that folder.
func TestBundleCarriesTheTAsCases(t *testing.T) {
	dir := taCases(t)
	for _, tc := range []struct {
		name  string
		args  []string
		code  int
		want  string   // in the output
		cases []string // the bundle's case folder, and the files in it
	}{
		{name: "the kit's cases", args: nil, code: cmdline.ExitOK,
			want: "kit files (Go go1.26.8)", cases: []string{"cases"}},
		{name: "TA-only cases of the kit's", args: []string{"-hidden", "case7_*"}, code: cmdline.ExitOK,
			want: "note: the TA-only cases are in " + filepath.Join(gradetest.Root(t), "cases") + ", which the student release (make handout) carries too", cases: []string{"cases"}},
		{name: "the kit's cases named", args: []string{"-cases", filepath.Join(gradetest.Root(t), "cases")}, code: cmdline.ExitOK,
			want: "kit files (Go go1.26.8)", cases: []string{"cases"}},
		{name: "the TA's cases", args: []string{"-cases", dir, "-hidden", "ta_*"}, code: cmdline.ExitOK,
			want:  "and 3 case files from " + dir + " in autograder-cases/, graded in place of the kit's cases/ (Go go1.26.8; TA-only cases: ta_withdraw, ta_twin_primary)",
			cases: []string{"autograder-cases", "autograder-cases/case1_deposit.case", "autograder-cases/robustness/ta_twin_primary.case", "autograder-cases/ta_withdraw.case"}},
		{name: "hidden names a kit case the folder lacks", args: []string{"-cases", dir, "-hidden", "case7_*"}, code: cmdline.ExitUsage,
			want: `-hidden: "case7_*" matches no case in ` + dir},
		{name: "no such folder", args: []string{"-cases", filepath.Join(dir, "missing")}, code: cmdline.ExitUsage,
			want: "reading cases"},
		{name: "a folder with no cases", args: []string{"-cases", filepath.Join(dir, "notes")}, code: cmdline.ExitUsage,
			want: "no .case files in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "autograder.zip")
			var stdout, stderr bytes.Buffer
			code := Command(append([]string{"-out", out, "-go", "go1.26.8"}, tc.args...), &stdout, &stderr)
			require.Equal(t, tc.code, code, stderr.String())
			assert.Contains(t, stdout.String()+stderr.String(), tc.want)
			if tc.code != cmdline.ExitOK {
				assert.NoFileExists(t, out)
				return
			}
			if !strings.Contains(tc.want, "note:") {
				assert.NotContains(t, stdout.String(), "note:", "only cases students have are noted")
			}
			zr, err := zip.OpenReader(out)
			require.NoError(t, err)
			defer zr.Close()
			var bundledCases []string
			for _, f := range zr.File {
				switch {
				case strings.HasPrefix(f.Name, "autograder-cases/"):
					bundledCases = append(bundledCases, f.Name)
				case f.Name == autograderEntry:
					assert.Contains(t, readZipped(t, f), `cases="${PBFTLAB_CASES:-`+tc.cases[0]+`}"`)
				case f.Name == setupScript:
					assert.Contains(t, readZipped(t, f), `pbftlab grade -cases "`+tc.cases[0]+`"`)
				}
			}
			assert.ElementsMatch(t, tc.cases[1:], bundledCases, "the TA's case files and nothing else of the folder")
		})
	}
}

func readZipped(t *testing.T, f *zip.File) string {
	t.Helper()
	r, err := f.Open()
	require.NoError(t, err)
	defer r.Close()
	data, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(data)
}

// unzip extracts the bundle as Gradescope does into /autograder/source.
func unzip(t *testing.T, zipPath, dest string) {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	require.NoError(t, err)
	defer zr.Close()
	for _, f := range zr.File {
		path := filepath.Join(dest, filepath.FromSlash(f.Name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(readZipped(t, f)), f.Mode().Perm()))
	}
}

// runAutograder runs the bundle's script with every path moved, as it
// runs on Gradescope, and returns the results.json it left. The case
// folder and the TA-only cases are the bundle's own.
func runAutograder(t *testing.T, kit, sub string) (report.Gradescope, []byte, string) {
	t.Helper()
	results := filepath.Join(t.TempDir(), "results")
	cmd := exec.Command("bash", filepath.Join(kit, autograderEntry))
	if _, err := os.Stat(kit); err != nil {
		cmd = exec.Command("bash", filepath.Join(gradetest.Root(t), gradescopeDir, autograderEntry))
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "PBFTLAB_HIDDEN=") || strings.HasPrefix(kv, "PBFTLAB_CASES=")
	})
	cmd.Env = append(env,
		"PBFTLAB_KIT="+kit, "PBFTLAB_SUBMISSION="+sub, "PBFTLAB_RESULTS="+results,
		"PBFTLAB_BIN="+filepath.Join(t.TempDir(), "no-such-binary"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "run_autograder always exits 0:\n%s", out)
	data, err := os.ReadFile(filepath.Join(results, report.ResultsFile))
	require.NoError(t, err, "run_autograder always writes results.json:\n%s", out)
	assert.Empty(t, report.ValidateGradescope(data), string(data))
	var g report.Gradescope
	require.NoError(t, json.Unmarshal(data, &g), string(data))
	return g, data, string(out)
}

// The bundle, unpacked as Gradescope unpacks it, grades a fake submission
// folder with the kit's own script: the solution's files earn every point,
// a submission that breaks a rule earns none and says why, and when the
// kit is missing the script still writes a results.json.
func TestRunAutograderOnFakeSubmissions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and grades the bundled kit")
	}
	kit := filepath.Join(t.TempDir(), "source")
	unzip(t, buildBundle(t, ""), kit)
	_, err := os.Stat(filepath.Join(kit, "solution"))
	require.True(t, os.IsNotExist(err), "the unpacked kit has no solution/")

	t.Run("full marks", func(t *testing.T) {
		sub := filepath.Join(t.TempDir(), "submission")
		gradetest.HandIn(t, sub, gradetest.TreeFiles(t, "solution"))
		g, _, out := runAutograder(t, kit, sub)
		require.NotEmpty(t, g.Tests, out)
		max := 0.0
		for _, test := range g.Tests {
			max += test.MaxScore
			assert.Equal(t, "passed", test.Status, test.Name)
		}
		assert.Equal(t, max, g.Score)
		assert.Equal(t, "submission", g.ExtraData.Tree)
	})
	t.Run("a failing case replays in the student's own kit", func(t *testing.T) {
		sub := filepath.Join(t.TempDir(), "submission")
		gradetest.HandIn(t, sub, gradetest.TreeFiles(t, submission.Tree))
		g, _, out := runAutograder(t, kit, sub)
		replays := 0
		for _, test := range g.Tests {
			if strings.Contains(test.Output, "make grade CASE=") {
				replays++
				assert.NotContains(t, test.Output, "SUBMISSION=", "the server's folders mean nothing in the student's kit")
				assert.NotContains(t, test.Output, "CASES=")
			}
		}
		assert.NotZero(t, replays, out)
	})
	t.Run("rejected", func(t *testing.T) {
		sub := filepath.Join(t.TempDir(), "submission")
		files := gradetest.TreeFiles(t, submission.Tree)
		files["prepare.go"] = bytes.Replace(files["prepare.go"], []byte("import (\n"), []byte("import (\n\t\"os\"\n"), 1)
		gradetest.HandIn(t, sub, files)
		g, _, out := runAutograder(t, kit, sub)
		assert.Zero(t, g.Score)
		assert.Contains(t, g.Output, `import "os" is not allowed`, out)
		assert.NotEmpty(t, g.Tests, "every case is listed, as not run")
	})
	t.Run("a grade that dies leaves UTF-8", func(t *testing.T) {
		// A grade that printed a line of two-byte characters and some
		// binary, and died without results: the fallback keeps the end of
		// its output, cut at a byte count, and must still be UTF-8.
		fake := filepath.Join(t.TempDir(), "pbftlab")
		require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\nprintf 'x'; i=0; while [ $i -lt 4001 ]; do printf '\\303\\251'; i=$((i+1)); done; printf '\\377\\376 garbage\\n'; exit 3\n"), 0o755))
		results := filepath.Join(t.TempDir(), "results")
		cmd := exec.Command("bash", filepath.Join(gradetest.Root(t), gradescopeDir, autograderEntry))
		cmd.Env = append(os.Environ(), "PBFTLAB_KIT="+t.TempDir(), "PBFTLAB_SUBMISSION="+t.TempDir(),
			"PBFTLAB_RESULTS="+results, "PBFTLAB_BIN="+fake, "PBFTLAB_HIDDEN=")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		data, err := os.ReadFile(filepath.Join(results, report.ResultsFile))
		require.NoError(t, err)
		assert.True(t, utf8.Valid(data), "results.json is UTF-8")
		assert.Empty(t, report.ValidateGradescope(data), string(data))
		assert.Contains(t, string(data), "exit code 3")
		assert.Contains(t, string(data), "é garbage")
	})
	t.Run("no kit", func(t *testing.T) {
		g, data, _ := runAutograder(t, filepath.Join(t.TempDir(), "missing"), t.TempDir())
		assert.Zero(t, g.Score)
		assert.Contains(t, g.Output, "could not grade this submission")
		assert.Contains(t, string(data), `"tests": []`)
	})
	// Last, as it unpacks a bundle with the TA's cases over the same kit
	// (whose compiled packages the build cache then keeps): the grade
	// takes the TA's cases alone, the secret ones TA-only.
	t.Run("the TA's cases", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "autograder.zip")
		var stdout, stderr bytes.Buffer
		code := Command([]string{"-out", out, "-cases", taCases(t), "-hidden", "ta_*", "-go", "go1.26.8"}, &stdout, &stderr)
		require.Equal(t, cmdline.ExitOK, code, stderr.String())
		unzip(t, out, kit)
		sub := filepath.Join(t.TempDir(), "submission")
		gradetest.HandIn(t, sub, gradetest.TreeFiles(t, "solution"))
		g, _, log := runAutograder(t, kit, sub)
		visibility := map[string]string{}
		for _, test := range g.Tests {
			visibility[test.ExtraData.Case] = test.Visibility
			assert.Equal(t, "passed", test.Status, test.Name)
		}
		assert.Equal(t, map[string]string{"case1_deposit": report.VisibilityVisible, "ta_withdraw": report.VisibilityAfterPublished, "ta_twin_primary": report.VisibilityAfterPublished}, visibility, log)
		assert.Equal(t, report.VisibilityHidden, g.StdoutVisibility)
	})
}
