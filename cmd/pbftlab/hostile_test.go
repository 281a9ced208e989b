package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader"
	"pbftlab/grader/report"
	"pbftlab/internal/submission"
)

// hostileBound is how long any hostile grade may take. The slowest, the
// endless loop, waits out its case's limit (12s with one seed) once.
const hostileBound = 2 * time.Minute

// hostile is a submission or a tree that attacks the grade, and what must
// come of it: either the checker refuses it before anything runs, with
// the rule it breaks, or it is graded and exactly the specs named in lost
// lose their points, in the state given. Either way the grade finishes
// within hostileBound and writes every report.
type hostile struct {
	name    string
	tree    string // a tree under testdata/trees, which bypasses the checker; else testdata/hostile/NAME.rewrite is the submission
	refused string
	lost    map[string]string // spec -> state
	stdout  []string          // what the grade's own output must not contain
}

var hostiles = []hostile{
	{name: "panic_handler", lost: map[string]string{"case2_withdraw": "failed", "practice2_withdraw20": "failed"}},
	{name: "goroutine_panic", refused: "go statement: a replica may not start goroutines"},
	{name: "infinite_loop", lost: map[string]string{"practice1_withdraw50": "aborted",
		"robust25_overdraft_with_automatic_votes": "aborted", "robust30_replayed_request_after_abort": "aborted"}},
	{name: "os_exit", refused: `import "os" is not allowed`},
	{name: "fake_score", lost: map[string]string{"case3_withdraw_fails": "failed", "case4_commit_conflict": "failed"},
		stdout: []string{"Score: 100/100", "Robustness: 99/99", "--- PASS"}},
	{name: "write_reports", refused: `import "os" is not allowed`},
	{name: "read_cases", refused: `import "os" is not allowed`},
	// The checker refuses what these do; the trees do it anyway.
	{name: "os.Exit in the test process", tree: "crash", lost: map[string]string{"case2_withdraw": "crashed"}},
	{name: "a panic on a goroutine", tree: "gopanic", lost: map[string]string{"case2_withdraw": "crashed"}},
	{name: "faked reports and progress", tree: "scribble", lost: map[string]string{"case3_withdraw_fails": "failed", "case4_commit_conflict": "failed"},
		stdout: []string{"Score: 100/100", "Robustness: 99/99"}},
}

func TestHostileSubmissionsAreContained(t *testing.T) {
	if testing.Short() {
		t.Skip("grades whole trees")
	}
	root := mustRoot(t)
	for _, h := range hostiles {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			// The cases and the reports side by side, as in the kit: the
			// scribbling tree writes into the reports folder it finds there.
			work := t.TempDir()
			cases := filepath.Join(work, "cases")
			require.NoError(t, os.CopyFS(cases, os.DirFS(filepath.Join(root, "cases"))))
			reports := filepath.Join(work, "reports")
			args := []string{"grade", "-reports", reports, "-cases", cases, "-runs", "1"}
			if h.tree != "" {
				// Each death of the test process costs a fresh one, so these
				// grade the pre-prepare specs only: the cases, and three
				// robustness specs.
				args = append(args, "-tree", filepath.Join("cmd", "pbftlab", "testdata", "trees", h.tree), "-phase", "pre-prepare")
			} else {
				args = append(args, "-submission", hostileSubmission(t, root, h.name))
			}
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := dispatch(args, &stdout, &stderr)
			took := time.Since(start)
			t.Logf("%s: the grade took %s", h.name, took.Round(time.Millisecond))
			out := stdout.String() + stderr.String()
			assert.Less(t, took, hostileBound, out)
			for _, f := range []string{report.ResultsFile, report.JUnitFile, report.SummaryFile, report.HTMLFile} {
				assert.FileExists(t, filepath.Join(reports, f))
			}
			for _, s := range h.stdout {
				assert.NotContains(t, stdout.String(), s)
			}
			if h.refused != "" {
				assert.Equal(t, exitUsage, code, out)
				assert.Contains(t, stderr.String(), h.refused)
				assert.Contains(t, stderr.String(), "nothing was compiled or run")
				assert.Contains(t, readResults(t, reports).ExtraData.Error, h.refused)
				return
			}
			require.Equal(t, exitFailed, code, out)
			sc := readScore(t, reports)
			lostPoints := 0
			seen := map[string]bool{}
			for _, row := range sc.Rows {
				seen[row.Name] = true
				want, ok := h.lost[row.Name]
				if !ok {
					assert.Equal(t, "passed", row.State, "%s lost points to %s:\n%s", row.Name, h.name, row.Message)
					continue
				}
				assert.Equal(t, want, row.State, row.Name)
				assert.Zero(t, row.Points, row.Name)
				lostPoints += row.Max
			}
			for name := range h.lost {
				assert.True(t, seen[name], "%s was graded", name)
			}
			assert.Equal(t, sc.Max+sc.RobMax-lostPoints, sc.Score+sc.RobScore, "only the broken specs' points are lost")
			assert.Contains(t, stdout.String(), fmt.Sprintf("\nScore: %d/%d\n", sc.Score, sc.Max), "the one Score line is the real one")
			assert.Equal(t, 1, strings.Count(stdout.String(), "Score: "))
			g := readResults(t, reports)
			assert.Equal(t, float64(sc.Score+sc.RobScore), g.Score, "results.json has the real score")
		})
	}
}

type scoreJSON struct {
	Score    int          `json:"score"`
	Max      int          `json:"max"`
	RobScore int          `json:"robustness_score"`
	RobMax   int          `json:"robustness_max"`
	Rows     []grader.Row `json:"cases"`
}

func readScore(t *testing.T, reports string) scoreJSON {
	t.Helper()
	var sc scoreJSON
	data, err := os.ReadFile(filepath.Join(reports, "score.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &sc))
	return sc
}

// hostileSubmission builds a submission of every file a student edits:
// the skeleton's with every region filled from the reference, with the
// hostile rewrite testdata/hostile/NAME.rewrite applied. Everything but the
// hostile part is correct, so it shows exactly what the hostile part costs.
func hostileSubmission(t *testing.T, root, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "hostile", name+".rewrite"))
	require.NoError(t, err)
	rw, err := parseRewrite(name, data)
	require.NoError(t, err)
	// The rewrite names the reference's files; its lines are those of the
	// regions, which the solved skeleton holds as they are.
	solved := solvedFiles(t)
	changed, err := rw.applyTo(func(file string) ([]byte, error) {
		if src, ok := solved[strings.TrimPrefix(file, "solution/")]; ok {
			return src, nil
		}
		return readUnder(root)(file)
	})
	require.NoError(t, err, "the fixture no longer fits the reference")
	editable, err := submission.Editable(filepath.Join(root, submission.Tree))
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "handin", submission.Tree)
	for name, src := range changed {
		solved[strings.TrimPrefix(name, "solution/")] = src
	}
	handIn(t, dir, solved)
	for file := range changed {
		require.Contains(t, editable, strings.TrimPrefix(file, "solution/"), "the fixture changes a file a student edits")
	}
	return filepath.Dir(dir)
}
