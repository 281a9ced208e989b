package release

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader"
	"pbftlab/internal/cmdline"
	"pbftlab/internal/kit"
	"pbftlab/internal/submission"
	"pbftlab/script"
	"pbftlab/ta/gradetest"
)

// run runs a command in dir and returns its exit code and output.
func run(t *testing.T, dir string, name string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if exit, ok := errors.AsType[*exec.ExitError](err); ok {
		return exit.ExitCode(), out.String()
	}
	require.NoError(t, err)
	return 0, out.String()
}

// The student release, on its own in a folder of its own, builds, and
// grading it scores the skeleton at zero with every case failing on an
// expectation: no panic, no timeout, no crash, and a message for each.
func TestHandoutBuildsAndGradesTheSkeletonAtZero(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and grades a copy of the kit")
	}
	root, err := kit.Root()
	require.NoError(t, err)
	dest := filepath.Join(t.TempDir(), "handout")
	_, err = writeHandout(root, dest)
	require.NoError(t, err)

	for _, gone := range []string{"solution", "ta", "README.md", ".ci"} {
		assert.NoFileExists(t, filepath.Join(dest, gone))
		assert.NoDirExists(t, filepath.Join(dest, gone))
	}
	for _, kept := range []string{"HANDOUT.md", "Makefile", "go.mod", "go.sum", "skeleton/grade_test.go", "cases"} {
		_, err := os.Stat(filepath.Join(dest, kept))
		assert.NoError(t, err, kept)
	}

	code, out := run(t, dest, "go", "build", "./...")
	require.Equal(t, 0, code, out)
	code, out = run(t, dest, "go", "vet", "./...")
	require.Equal(t, 0, code, out)
	// The kit's tests that need the reference stay out of the release; the
	// packages that hold such tests must pass without it.
	code, out = run(t, dest, "go", "test", "-count=1", "./cmd/...", "./internal/...", "./grader/...")
	require.Equal(t, 0, code, out)
	code, out = run(t, dest, "make", "-n", "grade", "test")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "grade -tree skeleton", "the release grades the skeleton by default")
	assert.NotContains(t, out, "solution", "make test needs no solution/")

	// What a student reads and runs speaks to students: make help lists
	// their commands only, and no document, script or workflow names the
	// reference, the TAs' tools or grading many submissions.
	code, out = run(t, dest, "make", "help")
	require.Equal(t, 0, code, out)
	for _, ta := range []string{"make skeleton", "mutants", "gradescope", "SUBMISSIONS", "HIDDEN", "make handout", "make bench", "solution", "TREE="} {
		assert.NotContains(t, out, ta, "make help in the release")
	}
	for _, student := range []string{"make phase PHASE=prepare", "make stress N=200", "make grade SUBMISSION=dir"} {
		assert.Contains(t, out, student, "make help in the release")
	}
	// Every make target the handout names is one the release has.
	handout, err := os.ReadFile(filepath.Join(dest, "HANDOUT.md"))
	require.NoError(t, err)
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)(?:^|`)make ([a-z][a-z-]*)").FindAllStringSubmatch(string(handout), -1) {
		targets[m[1]] = true
	}
	require.NotEmpty(t, targets)
	for target := range targets {
		code, out := run(t, dest, "make", "-n", target, "PHASE=prepare")
		assert.Equal(t, 0, code, "HANDOUT.md names make %s, which the release lacks:\n%s", target, out)
	}
	for _, doc := range studentDocs(t, dest) {
		data, err := os.ReadFile(filepath.Join(dest, doc))
		require.NoError(t, err)
		for _, ta := range []string{"solution/", "e2e", "mutant", "gradescope", "SUBMISSIONS", "batch grading", "gradebook"} {
			assert.NotContains(t, strings.ToLower(string(data)), strings.ToLower(ta), "%s names %s", doc, ta)
		}
	}
	code, out = run(t, dest, "go", "run", "./cmd/pbftlab", "help")
	require.Equal(t, 0, code, out)
	for _, ta := range []string{"batch", "gradescope", "skeleton", "handout", "mutants", "bench"} {
		assert.NotContains(t, out, "  "+ta+" ", "pbftlab help in the release")
	}
	for _, student := range []string{"grade", "stress"} {
		assert.Contains(t, out, "  "+student+" ", "pbftlab help in the release")
	}

	// The GitHub Classroom workflow grades every spec for its points.
	workflow, err := os.ReadFile(filepath.Join(dest, filepath.FromSlash(ClassroomWorkflow)))
	require.NoError(t, err)
	specs, err := classroomSpecs(root)
	require.NoError(t, err)
	total := 0
	for _, sp := range specs {
		total += sp.points
		assert.Contains(t, string(workflow), fmt.Sprintf("test-name: %s\n", sp.name))
	}
	assert.Equal(t, gradetest.KitTotal(t), total, "the lab's cases and the robustness cases, as results.json counts them")
	assert.Equal(t, len(specs), strings.Count(string(workflow), "uses: classroom-resources/autograding-command-grader@v1"))
	assert.Contains(t, string(workflow), "uses: classroom-resources/autograding-grading-reporter@v1")

	reports := filepath.Join(t.TempDir(), "reports")
	code, out = run(t, dest, "go", "run", "./cmd/pbftlab", "grade", "-reports", reports)
	require.Equal(t, cmdline.ExitFailed, code, out)
	// A few lines per failing spec, then where the rest is.
	lines := strings.Count(out, "\n")
	t.Logf("grading the untouched skeleton printed %d lines", lines)
	// A row per spec in the table, then four lines per failing spec:
	// its name, the first expectation that broke, the replay command and
	// a blank line.
	cases, err := grader.LoadCases(filepath.Join(dest, "cases"))
	require.NoError(t, err)
	assert.LessOrEqual(t, lines, 10+5*len(cases))
	assert.Contains(t, out, "report.html")
	assert.NotContains(t, out, "TREE=", "in a student's copy the skeleton is the tree a replay grades anyway")
	gradetest.CheckReports(t, reports)
	var sc struct {
		Tree        string
		Score, Max  int
		RobustScore int          `json:"robustness_score"`
		Rows        []grader.Row `json:"cases"`
	}
	data, err := os.ReadFile(filepath.Join(reports, "score.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &sc))
	assert.Equal(t, "skeleton", sc.Tree)
	assert.Zero(t, sc.Score)
	assert.Zero(t, sc.RobustScore)
	assert.Positive(t, sc.Max)
	require.NotEmpty(t, sc.Rows)
	for _, row := range sc.Rows {
		assert.Equal(t, "failed", row.State, "%s failed by an expectation, not by a panic, a timeout or a crash:\n%s", row.Name, row.Message)
		assert.NotEmpty(t, row.Message, row.Name)
		assert.NotContains(t, row.Message, "panic", row.Name)
	}
}

// studentDocs lists the release's documents, scripts and workflows: what a
// student reads, as against the kit's Go code.
func studentDocs(t *testing.T, dest string) []string {
	t.Helper()
	var docs []string
	err := filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dest, p)
		switch {
		case rel == "Makefile", strings.HasSuffix(rel, ".md"), strings.HasSuffix(rel, ".yml"), strings.HasSuffix(rel, ".sh"):
			docs = append(docs, rel)
		}
		return nil
	})
	require.NoError(t, err)
	require.Contains(t, docs, "HANDOUT.md")
	return docs
}

func TestHandoutRefusesAFolderThatIsNotARelease(t *testing.T) {
	dest := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dest, "notes.txt"), []byte("mine\n"), 0o644))
	assert.ErrorContains(t, clearDest(dest), "does not hold an earlier release")
	assert.FileExists(t, filepath.Join(dest, "notes.txt"))
}

func TestHandoutReplacesAnEarlierRelease(t *testing.T) {
	dest := t.TempDir()
	for _, name := range []string{"HANDOUT.md", "go.mod", "stale.txt"} {
		require.NoError(t, os.WriteFile(filepath.Join(dest, name), nil, 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dest, "skeleton"), 0o755))
	require.NoError(t, clearDest(dest))
	entries, err := os.ReadDir(dest)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

// HANDOUT.md states the points, the files taken and the imports allowed;
// they must be what the kit does.
func TestHandoutMatchesTheKit(t *testing.T) {
	root, err := kit.Root()
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(root, "HANDOUT.md"))
	require.NoError(t, err)
	doc := string(data)

	t.Run("points table", func(t *testing.T) {
		cases, err := grader.LoadCases(filepath.Join(root, "cases"))
		require.NoError(t, err)
		var want []string
		total, robust := 0, 0
		for _, c := range cases {
			if grader.Robust(c) {
				assert.Contains(t, doc, fmt.Sprintf("`%s`", grader.Name(c)))
				robust += c.Points
				continue
			}
			want = append(want, fmt.Sprintf("| `%s` | %s | %d |", grader.Name(c), strings.Join(c.Phases, ", "), c.Points))
			total += c.Points
		}
		var got []string
		for line := range strings.Lines(doc) {
			if strings.HasPrefix(line, "| `") {
				got = append(got, strings.TrimSpace(line))
			}
		}
		assert.Equal(t, want, got)
		assert.Contains(t, doc, fmt.Sprintf("| **total** | | **%d** |", total))
		assert.Contains(t, doc, fmt.Sprintf("`Robustness: X/%d`", robust))
	})

	t.Run("TODOs by phase", func(t *testing.T) {
		todos := skeletonTODOs(t, filepath.Join(root, submission.Tree))
		require.NotEmpty(t, todos)
		for phase, funcs := range todos {
			section := phaseSection(doc, phase)
			require.NotEmpty(t, section, "HANDOUT.md has no section for the phase %s", phase)
			for _, fn := range funcs {
				assert.Contains(t, section, "`"+fn+"`", "the %s section names the function holding a TODO(%s)", phase, phase)
			}
		}
	})

	t.Run("cases by phase", func(t *testing.T) {
		// Each phase's section names what starts passing once it is done:
		// the cases whose last phase, in the handout's order, it is.
		cases, err := grader.LoadCases(filepath.Join(root, "cases"))
		require.NoError(t, err)
		for _, phase := range script.Phases() {
			section := phaseSection(doc, phase)
			require.NotEmpty(t, section, "HANDOUT.md has no section for the phase %s", phase)
			// A section names the specs that start passing once its
			// phase is done: those whose last phase, in the handout's
			// order, it is.
			for _, c := range cases {
				if !slices.Contains(c.Phases, phase) || len(script.PhasesAfter(phase)) > 0 && slices.ContainsFunc(c.Phases, func(p string) bool { return slices.Contains(script.PhasesAfter(phase), p) }) {
					continue
				}
				assert.Contains(t, section, "`"+grader.Name(c)+"`", "the %s section names a spec that passes once it is done", phase)
			}
		}
	})

	t.Run("files taken", func(t *testing.T) {
		editable, err := submission.Editable(filepath.Join(root, submission.Tree))
		require.NoError(t, err)
		assert.Equal(t, editable, backticked(t, doc, "`skeleton/`, except tests:", "They are copied"))
	})

	t.Run("imports allowed", func(t *testing.T) {
		got := backticked(t, doc, "it imports only", ";")
		assert.Equal(t, append([]string{"pbftlab/lab"}, submission.Standard()...), got)
	})
}

// backticked returns the `quoted` words of doc between the first from and
// the next to after it.
func backticked(t *testing.T, doc, from, to string) []string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, from)
	require.True(t, ok, "HANDOUT.md has no %q", from)
	text, _, ok := strings.Cut(rest, to)
	require.True(t, ok, "HANDOUT.md has no %q after %q", to, from)
	var words []string
	for i, part := range strings.Split(text, "`") {
		if i%2 == 1 {
			words = append(words, part)
		}
	}
	return words
}

// skeletonTODOs maps each phase onto the functions of the tree that hold
// one of its TODOs.
func skeletonTODOs(t *testing.T, dir string) map[string][]string {
	t.Helper()
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	todos := map[string][]string{}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		require.NoError(t, err)
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			for _, cg := range f.Comments {
				if cg.Pos() < fn.Body.Pos() || cg.End() > fn.Body.End() {
					continue
				}
				for _, c := range cg.List {
					if rest, ok := strings.CutPrefix(c.Text, "// TODO("); ok {
						phase, _, _ := strings.Cut(rest, ")")
						if !slices.Contains(todos[phase], fn.Name.Name) {
							todos[phase] = append(todos[phase], fn.Name.Name)
						}
					}
				}
			}
		}
	}
	return todos
}

// phaseSection is the text of the handout's section "### N. phase".
func phaseSection(doc, phase string) string {
	for line := range strings.Lines(doc) {
		if strings.HasPrefix(line, "### ") && strings.HasSuffix(strings.TrimSpace(line), ". "+phase) {
			_, rest, _ := strings.Cut(doc, line)
			end := len(rest)
			if i := strings.Index(rest, "\n## "); i >= 0 {
				end = i
			}
			if i := strings.Index(rest, "\n### "); i >= 0 && i < end {
				end = i
			}
			return rest[:end]
		}
	}
	return ""
}

// A file that repeats the answers, even as a diff, keeps the release from
// being written; code the kit has anyway does not.
func TestHandoutRefusesTheSolutionsCode(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"go.mod": "module pbftlab\n\ngo 1.26\n",
		"solution/x.go": `package solution

func f(xs map[int]int) int {
	// BEGIN TODO(prepare): count the distinct keys
	seen := make(map[int]bool, len(xs))
	for key := range xs {
		seen[key] = true
	}
	return len(seen) + distinctKeysAlreadySeen
	// END TODO
}
`,
		"lab/y.go":       "package lab\n\nfunc g(xs []int) {\n\tseen := make(map[int]bool, len(xs))\n\t_ = seen\n}\n",
		"notes/bug.diff": "@@ solution/x.go\n-\tseen := make(map[int]bool, len(xs))\n-\treturn len(seen) + distinctKeysAlreadySeen\n+\treturn 0\n",
	}
	keep := map[string]bool{}
	for rel, text := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		if !strings.HasPrefix(rel, "solution/") {
			keep[rel] = true
		}
	}
	err := noSecrets(root, keep)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "notes/bug.diff:3 repeats "+filepath.Join(root, "solution", "x.go")+":9")
	assert.NotContains(t, err.Error(), "bug.diff:2", "a line the kit's own code has is common code")
	assert.NotContains(t, err.Error(), "lab/y.go")
	assert.NotContains(t, err.Error(), "seen[key] = true", "a short line says nothing")

	delete(keep, "lab/y.go")
	err = noSecrets(root, keep)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bug.diff:2", "without the kit's code, that line is the solution's alone")

	delete(keep, "notes/bug.diff")
	assert.NoError(t, noSecrets(root, keep))
}
