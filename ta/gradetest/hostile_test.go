package gradetest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader/driver"
	"pbftlab/grader/report"
	"pbftlab/internal/cmdline"
	"pbftlab/internal/submission"
	"pbftlab/ta/rewrite"
)

// hostileBound is how long any hostile grade may take. The slowest, the
// endless loop, waits out its case's limit (12s with one seed) once.
const hostileBound = 2 * time.Minute

// hostile is a submission or a tree that attacks the grade, and what must
// come of it: either the checker refuses it before anything runs, with
// the rule it breaks, or it is graded and exactly the specs named in lost
// lose their points, in the state given. Either way the grade finishes
// within hostileBound and writes every report, each valid.
type hostile struct {
	name    string
	tree    string // a tree under testdata/trees, which bypasses the checker; else testdata/hostile/NAME.rewrite is the submission
	sub     string // the rewrite, when it is not NAME
	stopped string // the grade is stopped before its end: why, as score.json's error says
	args    []string
	refused string
	broken  string            // the tree does not build: what every test's output must quote
	lost    map[string]string // spec -> state
	stdout  []string          // what the grade's own output must not contain
	check   func(t *testing.T, reports, stdout string)
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
	{name: "init_loop", refused: "func init: code that runs before any spec is not allowed"},
	{name: "huge_array", refused: "an array of 1073741824 elements"},
	{name: "global_map", refused: "package-level variable peers"},
	{name: "hidden_leak", refused: "package-level variable seen"},
	{name: "compile_error", broken: "undefined: countVotesTwice"},
	{name: "generic_blowup", broken: "the compiler ran out of its 2048 MB"},
	{name: "vet_complaint"},
	{name: "env_fmt", check: func(t *testing.T, reports, _ string) {
		log, err := os.ReadFile(filepath.Join(reports, "suite.log"))
		require.NoError(t, err)
		assert.NotContains(t, string(log), "the simulator, printed", "printing the Env shows a name and nothing else")
	}},
	// A replica that allocates without end is stopped either by the memory
	// limit (the process dies: crashed) or, when it allocates slowly, by
	// the watchdog on its call (failed); either way only its own spec.
	// Out of memory (crashed), unwound at its Logf (failed), or seen
	// spinning in its allocations and given up (aborted): whichever comes
	// first, Practice 1 alone loses its points.
	{name: "memory_hog", lost: map[string]string{"practice1_withdraw50": "crashed|failed|aborted"}, check: func(t *testing.T, reports, _ string) {
		for _, c := range Score(t, reports).Cases {
			if c.Name == "practice1_withdraw50" {
				assert.Regexp(t, "ran out of memory|did not return within", c.Message)
			}
		}
	}},
	{name: "logging_loop", lost: map[string]string{"practice1_withdraw50": "failed"}, check: func(t *testing.T, reports, stdout string) {
		assert.Contains(t, stdout, "did not return within")
		assert.NotContains(t, stdout, "not deterministic", "a stuck call is not replayed")
	}},
	{name: "a grade past its time limit", sub: "infinite_loop", args: []string{"-timeout", "4s"}, stopped: "longer than its limit of 4s"},
	{name: "flood", check: func(t *testing.T, reports, _ string) {
		fi, err := os.Stat(filepath.Join(reports, "suite.log"))
		require.NoError(t, err)
		assert.Less(t, fi.Size(), driver.DefaultLimits().Log+4096, "suite.log is capped")
		log, err := os.ReadFile(filepath.Join(reports, "suite.log"))
		require.NoError(t, err)
		assert.Contains(t, string(log), "more bytes of output were left out", "and says what it cut")
	}},
	// The checker refuses what these do; the trees do it anyway.
	{name: "os.Exit in the test process", tree: "crash", args: []string{"-phase", "pre-prepare"}, lost: map[string]string{"case2_withdraw": "crashed"}},
	{name: "a panic on a goroutine", tree: "gopanic", args: []string{"-phase", "pre-prepare"}, lost: map[string]string{"case2_withdraw": "crashed"}},
	{name: "faked reports and progress", tree: "scribble", args: []string{"-phase", "pre-prepare"}, lost: map[string]string{"case3_withdraw_fails": "failed", "case4_commit_conflict": "failed"},
		stdout: []string{"Score: 100/100", "Robustness: 99/99"}},
	{name: "crashes late, twice", tree: "latecrash", lost: map[string]string{"case2_withdraw": "crashed", "practice2_withdraw20": "crashed"},
		check: func(t *testing.T, _, stdout string) {
			// One process for the suite, then per crash: the crashed spec
			// alone and the rest resumed after it. Restarting from the
			// first spec each time would cost a process per spec.
			// The first restarts are told a line each; past those, the
			// grade gives their count at the end.
			processes := 1 + strings.Count(stdout, " on its own\n") + strings.Count(stdout, " in a fresh process\n")
			if m := regexp.MustCompile(`the suite ran in (\d+) fresh processes`).FindStringSubmatch(stdout); m != nil {
				n, err := strconv.Atoi(m[1])
				require.NoError(t, err)
				processes = 1 + n
			}
			assert.LessOrEqual(t, processes, 5, stdout)
		}},
	{name: "globals carry a TA-only case", tree: "leak", args: []string{"-hidden", "practice1_withdraw50"},
		check: func(t *testing.T, reports, _ string) {
			g := Results(t, reports)
			for _, test := range g.Tests {
				if test.Visibility == report.VisibilityVisible {
					assert.NotContains(t, test.Output, "account=alice,amount=50,operation=withdraw", "%s shows the TA-only case's request", test.ExtraData.Case)
				}
			}
			assert.NotContains(t, g.Output, "/")
		}},
}

func TestHostileSubmissionsAreContained(t *testing.T) {
	if testing.Short() {
		t.Skip("grades whole trees")
	}
	root := Root(t)
	for _, h := range hostiles {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			// The cases and the reports side by side, as in the kit: the
			// scribbling tree writes into the reports folder it finds there.
			work := t.TempDir()
			cases := filepath.Join(work, "cases")
			require.NoError(t, os.CopyFS(cases, os.DirFS(filepath.Join(root, "cases"))))
			reports := filepath.Join(work, "reports")
			args := append([]string{"-reports", reports, "-cases", cases, "-runs", "1"}, h.args...)
			if h.tree != "" {
				args = append(args, "-tree", filepath.Join("ta", "gradetest", "testdata", "trees", h.tree))
			} else {
				sub := h.sub
				if sub == "" {
					sub = h.name
				}
				args = append(args, "-submission", hostileSubmission(t, root, sub))
			}
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := driver.Command(args, &stdout, &stderr)
			took := time.Since(start)
			t.Logf("%s: the grade took %s", h.name, took.Round(time.Millisecond))
			out := stdout.String() + stderr.String()
			assert.Less(t, took, hostileBound, out)
			sc := CheckReports(t, reports)
			if len(h.args) == 0 || h.stopped != "" {
				assert.Equal(t, KitTotal(t), sc.TotalMax, "every whole grade is out of the same maximum, whatever became of it")
			}
			for _, s := range h.stdout {
				assert.NotContains(t, stdout.String(), s)
			}
			if h.check != nil {
				h.check(t, reports, stdout.String())
			}
			switch {
			case h.stopped != "":
				assert.Equal(t, cmdline.ExitUsage, code, out)
				assert.Equal(t, report.GradeIncomplete, sc.State)
				assert.Contains(t, sc.Error, h.stopped)
				assert.Contains(t, stderr.String(), h.stopped)
				return
			case h.refused != "":
				assert.Equal(t, cmdline.ExitUsage, code, out)
				assert.Contains(t, stderr.String(), h.refused)
				assert.Contains(t, stderr.String(), "nothing was compiled or run")
				assert.Contains(t, Results(t, reports).ExtraData.Error, h.refused)
				assert.Equal(t, report.GradeNotGraded, sc.State)
				return
			case h.broken != "":
				assert.Equal(t, cmdline.ExitUsage, code, out)
				assert.Equal(t, report.GradeNotGraded, sc.State)
				for _, test := range Results(t, reports).Tests {
					assert.Contains(t, test.Output, h.broken, "%s says why it did not run", test.ExtraData.Case)
				}
				return
			}
			wantCode := cmdline.ExitOK
			if len(h.lost) > 0 {
				wantCode = cmdline.ExitFailed
			}
			require.Equal(t, wantCode, code, out)
			lostPoints := 0
			seen := map[string]bool{}
			for _, row := range sc.Cases {
				seen[row.Name] = true
				want, ok := h.lost[row.Name]
				if !ok {
					assert.Equal(t, "passed", row.State, "%s lost points to %s:\n%s", row.Name, h.name, row.Message)
					continue
				}
				assert.Contains(t, strings.Split(want, "|"), row.State, row.Name)
				assert.Zero(t, row.Points, row.Name)
				lostPoints += row.Max
			}
			for name := range h.lost {
				assert.True(t, seen[name], "%s was graded", name)
			}
			assert.Equal(t, sc.TotalMax-lostPoints, sc.Total, "only the broken specs' points are lost")
			assert.Contains(t, stdout.String(), fmt.Sprintf("\nScore: %d/%d\n", sc.LabScore, sc.LabMax), "the one Score line is the real one")
			assert.Equal(t, 1, strings.Count(stdout.String(), "Score: "))
		})
	}
}

// hostileSubmission builds a submission of every file a student edits:
// the skeleton's with every region filled from the reference, with the
// hostile rewrite testdata/hostile/NAME.rewrite applied. Everything but the
// hostile part is correct, so it shows exactly what the hostile part costs.
func hostileSubmission(t *testing.T, root, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "hostile", name+".rewrite"))
	require.NoError(t, err)
	rw, err := rewrite.Parse(name, data)
	require.NoError(t, err)
	// The rewrite names the reference's files; its lines are those of the
	// regions, which the solved skeleton holds as they are.
	solved := Solved(t)
	changed, err := rw.ApplyTo(func(file string) ([]byte, error) {
		if src, ok := solved[strings.TrimPrefix(file, "solution/")]; ok {
			return src, nil
		}
		return rewrite.ReadUnder(root)(file)
	})
	require.NoError(t, err, "the fixture no longer fits the reference")
	editable, err := submission.Editable(filepath.Join(root, submission.Tree))
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "handin", submission.Tree)
	for name, src := range changed {
		solved[strings.TrimPrefix(name, "solution/")] = src
	}
	HandIn(t, dir, solved)
	for file := range changed {
		require.Contains(t, editable, strings.TrimPrefix(file, "solution/"), "the fixture changes a file a student edits")
	}
	return filepath.Dir(dir)
}

// An interrupt (Ctrl-C) stops the grade, but not past its clean-up: the
// processes it started are stopped, its work folders removed, and the
// reports written, saying what did not run.
func TestAnInterruptCleansUpAndReports(t *testing.T) {
	if testing.Short() {
		t.Skip("grades a submission")
	}
	root := Root(t)
	self, err := os.Executable()
	require.NoError(t, err)
	tmp := t.TempDir()
	reports := filepath.Join(t.TempDir(), "reports")
	// The endless loop holds the grade in Practice 1 for seconds, so the
	// interrupt finds processes running.
	cmd := exec.Command(self, "grade", "-submission", hostileSubmission(t, root, "infinite_loop"), "-reports", reports, "-runs", "1")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), AsGradeEnv+"=1", "TMPDIR="+tmp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), "grading ") {
			break // the specs are listed and running
		}
	}
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	_, _ = io.Copy(io.Discard, out)
	err = cmd.Wait()
	exit, ok := errors.AsType[*exec.ExitError](err)
	require.True(t, ok, "the grade ends with a code: %v\n%s", err, stderr.String())
	assert.Equal(t, cmdline.ExitUsage, exit.ExitCode(), stderr.String())
	assert.Contains(t, stderr.String(), "the grade was interrupted")

	sc := CheckReports(t, reports)
	assert.Equal(t, report.GradeIncomplete, sc.State)
	assert.Equal(t, 2, sc.ExitCode)
	assert.Contains(t, sc.Error, "interrupted")
	notRun := 0
	for _, c := range sc.Cases {
		if c.State == report.NotRun {
			notRun++
		}
	}
	assert.Positive(t, notRun, "the cases that did not run are named")

	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	for _, e := range left {
		assert.False(t, strings.HasPrefix(e.Name(), "pbftlab-"), "%s was left behind", e.Name())
	}
}

// A replica whose run depends on map order fails differently when its
// seed is played again, and the failure says so instead of offering a
// replay command that may not reproduce it.
func TestNondeterministicReplicaIsToldSo(t *testing.T) {
	if testing.Short() {
		t.Skip("grades a submission")
	}
	root := Root(t)
	reports := filepath.Join(t.TempDir(), "reports")
	var stdout, stderr bytes.Buffer
	code := driver.Command([]string{"-reports", reports, "-case", "case7_checkpoint", "-runs", "1",
		"-submission", hostileSubmission(t, root, "map_order")}, &stdout, &stderr)
	require.Equal(t, cmdline.ExitFailed, code, stdout.String()+stderr.String())
	sc := Score(t, reports)
	require.Len(t, sc.Cases, 1)
	assert.Equal(t, "failed", sc.Cases[0].State)
	assert.Contains(t, sc.Cases[0].Message, "the replica is not deterministic: seed 1, played twice, gave two different runs")
	assert.Contains(t, sc.Cases[0].Message, "ranging over a map")
}
