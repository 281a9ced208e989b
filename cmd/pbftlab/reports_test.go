package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader"
	"pbftlab/grader/report"
	"pbftlab/internal/kit"
)

// spec makes a spec report the way the suite labels one.
func spec(name string, points int, state types.SpecState) types.SpecReport {
	return types.SpecReport{
		LeafNodeType:   types.NodeTypeIt,
		LeafNodeText:   "title of " + name,
		LeafNodeLabels: []string{"points:" + strconv.Itoa(points), "case:" + name, "kind:case", "phase:prepare"},
		State:          state,
		RunTime:        time.Millisecond,
	}
}

// appendLine adds a spec report to a progress file, as the suite does.
func appendLine(t *testing.T, file string, sr types.SpecReport) {
	t.Helper()
	line, err := json.Marshal(sr)
	require.NoError(t, err)
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	require.NoError(t, err)
	_, err = f.Write(append(line, '\n'))
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func readResults(t *testing.T, dir string) report.Gradescope {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, report.ResultsFile))
	require.NoError(t, err)
	assert.Empty(t, report.ValidateGradescope(data))
	var g report.Gradescope
	require.NoError(t, json.Unmarshal(data, &g))
	return g
}

func states(g report.Gradescope) map[string]string {
	out := map[string]string{}
	for _, test := range g.Tests {
		out[test.ExtraData.Case] = test.ExtraData.State
	}
	return out
}

func TestPartialResultsNameWhatDidNotRun(t *testing.T) {
	reports := t.TempDir()
	p, err := startProgress(gradeOptions{reports: reports, tree: "solution"})
	require.NoError(t, err)
	defer p.close()
	specs := []types.SpecReport{
		spec("case1_deposit", 10, types.SpecStateInvalid),
		spec("case2_withdraw", 12, types.SpecStateInvalid),
		spec("case3_withdraw_fails", 12, types.SpecStateInvalid),
	}

	p.start(specs)
	g := readResults(t, reports)
	assert.True(t, g.ExtraData.Partial)
	assert.Equal(t, map[string]string{"case1_deposit": report.NotRun, "case2_withdraw": report.NotRun, "case3_withdraw_fails": report.NotRun}, states(g))

	// The first case passes; the second is being written when the process
	// dies, leaving half a line.
	appendLine(t, p.log.file, spec("case1_deposit", 10, types.SpecStatePassed))
	f, err := os.OpenFile(p.log.file, os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(t, err)
	_, err = f.WriteString(`{"LeafNodeType":"It","State":"fail`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	p.mu.Lock()
	require.NoError(t, p.writePartialLocked(false, ""))
	p.mu.Unlock()
	g = readResults(t, reports)
	assert.Equal(t, map[string]string{"case1_deposit": "passed", "case2_withdraw": report.NotRun, "case3_withdraw_fails": report.NotRun}, states(g))
	assert.Equal(t, 10.0, g.Score)
	assert.Contains(t, g.Tests[1].Output, "did not run")
	assert.Equal(t, "failed", g.Tests[1].Status)
}

func TestProgressKeepsTheLastReportOfEachSpec(t *testing.T) {
	file := filepath.Join(t.TempDir(), "progress.jsonl")
	appendLine(t, file, spec("a", 1, types.SpecStateAborted))
	appendLine(t, file, spec("b", 1, types.SpecStateSkipped))
	appendLine(t, file, spec("a", 1, types.SpecStatePassed))
	got := readProgress(file)
	require.Len(t, got, 1, "a skipped spec has not run")
	assert.Equal(t, types.SpecStatePassed, got["a"].State)
	assert.Empty(t, readProgress(filepath.Join(t.TempDir(), "missing")))
}

// The progress log reads the file as it grows, each line once; whatever
// the moments it looks at, it must see what a reader of the whole file
// sees: whole lines only, the last report of each spec, a line cut short
// by a dead process lost together with the line that follows it, and an
// overlong line skipped.
func TestProgressLogReadsWhatTheWholeFileSays(t *testing.T) {
	line := func(name string, state types.SpecState) string {
		data, err := json.Marshal(spec(name, 1, state))
		require.NoError(t, err)
		return string(data) + "\n"
	}
	passed, failed := line("a", types.SpecStatePassed), line("a", types.SpecStateFailed)
	long := line("long", types.SpecStatePassed)
	// A report entry that holds no JSON: Ginkgo's decoding refuses the line.
	badEntry := strings.Replace(line("b", types.SpecStatePassed), "{", `{"ReportEntries":[{"Name":"pbftlab-trace","Value":{"AsJSON":"{not json"}}],`, 1)
	var asGinkgo types.SpecReport
	require.Error(t, json.Unmarshal([]byte(badEntry), &asGinkgo))
	for _, tt := range []struct {
		name   string
		writes []string // appended one at a time, the log looking after each
		want   map[string]types.SpecState
		lines  int
	}{
		{"whole lines", []string{passed, line("b", types.SpecStatePassed)}, map[string]types.SpecState{"a": types.SpecStatePassed, "b": types.SpecStatePassed}, 2},
		{"the last report counts", []string{failed, passed}, map[string]types.SpecState{"a": types.SpecStatePassed}, 2},
		{"a line written in pieces", []string{passed[:10], passed[10:30], passed[30:]}, map[string]types.SpecState{"a": types.SpecStatePassed}, 1},
		{"a line cut by a dead process takes the next with it", []string{failed[:20], line("b", types.SpecStatePassed), line("c", types.SpecStatePassed)}, map[string]types.SpecState{"c": types.SpecStatePassed}, 2},
		{"skipped and pending specs have not run", []string{line("b", types.SpecStateSkipped), line("c", types.SpecStatePending), passed}, map[string]types.SpecState{"a": types.SpecStatePassed}, 3},
		{"a line whose entry holds no JSON is skipped", []string{badEntry, passed}, map[string]types.SpecState{"a": types.SpecStatePassed}, 2},
		{"an overlong line is skipped", []string{long[:100], long[100:], passed}, map[string]types.SpecState{"a": types.SpecStatePassed}, 2},
		{"nothing yet", nil, map[string]types.SpecState{}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "progress.jsonl")
			l := newProgressLog(file)
			l.max = len(long) - 1
			states := func(m map[string]types.SpecReport) map[string]types.SpecState {
				out := map[string]types.SpecState{}
				for name, sr := range m {
					out[name] = sr.State
				}
				return out
			}
			for _, w := range tt.writes {
				f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
				require.NoError(t, err)
				_, err = f.WriteString(w)
				require.NoError(t, err)
				require.NoError(t, f.Close())
				l.refresh()
			}
			assert.Equal(t, tt.want, states(l.reports()))
			assert.Equal(t, tt.lines, l.count())
			whole := newProgressLog(file)
			whole.max = l.max
			assert.Equal(t, states(whole.reports()), states(l.reports()), "read at once")
		})
	}
}

// A spec's trace travels as a report entry of its line in the progress
// file; the log gives back the last one, and the spec report itself as
// Ginkgo's decoding would.
func TestTraceComesBackFromTheProgressFile(t *testing.T) {
	older := &report.Trace{Seed: 6}
	tr := &report.Trace{Seed: 7, Replay: "make grade CASE=x SEED=7 RUNS=1", Events: []report.Event{{Kind: report.KindStep, Send: -1, Text: "P0: tx"}}}
	sr := spec("x", 1, types.SpecStateFailed)
	sr.Failure = types.Failure{Message: "x failed with seed 7"}
	sr.ReportEntries = types.ReportEntries{
		{Name: report.TraceEntry, Value: types.WrapEntryValue(older)},
		{Name: report.TraceEntry, Value: types.WrapEntryValue(tr)},
		{Name: "something else", Value: types.WrapEntryValue(map[string]int{"n": 1})},
	}
	file := filepath.Join(t.TempDir(), "progress.jsonl")
	appendLine(t, file, sr)
	appendLine(t, file, spec("y", 1, types.SpecStatePassed))
	l := newProgressLog(file)

	got := l.reports()
	var want types.SpecReport
	line, err := json.Marshal(sr)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(line, &want))
	want.ReportEntries = nil
	assert.Equal(t, want, got["x"], "the spec report as Ginkgo reads it, less its entries")

	back := l.trace("x")
	require.NotNil(t, back)
	assert.Equal(t, tr.Seed, back.Seed)
	assert.Equal(t, tr.Events, back.Events)
	assert.Same(t, back, l.trace("x"), "decoded once")
	assert.Nil(t, l.trace("y"), "a spec without a trace")
	assert.Nil(t, l.trace("z"), "a spec that did not report")
}

func TestHiddenCases(t *testing.T) {
	r := reportOptions{hidden: "case7_checkpoint, hidden_*"}
	assert.True(t, r.isHidden("case7_checkpoint"))
	assert.True(t, r.isHidden("hidden_twins"))
	assert.False(t, r.isHidden("case1_deposit"))
	assert.False(t, reportOptions{}.isHidden("case1_deposit"))
}

// gradeTree runs a whole grade of a tree in this process and returns its
// exit code and report folder.
func gradeTree(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	reports := filepath.Join(t.TempDir(), "reports")
	var stdout, stderr bytes.Buffer
	code := dispatch(append([]string{"grade", "-reports", reports, "-runs", "1"}, args...), &stdout, &stderr)
	return code, reports, stdout.String() + stderr.String()
}

// A grade that passes, one that fails by assertion and one whose test
// process dies each leave all four reports, with a results.json that
// follows Gradescope's specification.
func TestGradeWritesEveryReport(t *testing.T) {
	if testing.Short() {
		t.Skip("grades whole trees")
	}
	for _, tc := range []struct {
		name, tree string
		code       int
		want       map[string]string // states of some cases
	}{
		{"passing", "solution", exitOK, map[string]string{"case2_withdraw": "passed", "case7_checkpoint": "passed"}},
		{"failing", "skeleton", exitFailed, map[string]string{"case2_withdraw": "failed", "case1_deposit": "failed"}},
		{"crashed", "cmd/pbftlab/testdata/trees/crash", exitFailed, map[string]string{"case2_withdraw": "crashed", "case1_deposit": "passed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, reports, out := gradeTree(t, "-tree", tc.tree, "-hidden", "case7_*")
			require.Equal(t, tc.code, code, out)
			sc := checkReports(t, reports)
			assert.Equal(t, kitTotal(t), sc.TotalMax)
			assert.Equal(t, tc.code, sc.ExitCode)
			g := readResults(t, reports)
			assert.False(t, g.ExtraData.Partial)
			got := states(g)
			for name, state := range tc.want {
				assert.Equal(t, state, got[name], name)
			}
			for _, test := range g.Tests {
				want := report.VisibilityVisible
				if test.ExtraData.Case == "case7_checkpoint" {
					want = report.VisibilityAfterPublished
				}
				assert.Equal(t, want, test.Visibility, test.Name)
			}

			var junit report.JUnit
			data, err := os.ReadFile(filepath.Join(reports, report.JUnitFile))
			require.NoError(t, err)
			require.NoError(t, xml.Unmarshal(data, &junit))
			for _, c := range junit.Suites[0].Cases {
				switch got[c.Name] {
				case "passed":
					assert.True(t, c.Failure == nil && c.Error == nil, c.Name)
				case "failed":
					assert.NotNil(t, c.Failure, c.Name)
				default:
					assert.NotNil(t, c.Error, c.Name)
				}
			}

			summary, err := os.ReadFile(filepath.Join(reports, report.SummaryFile))
			require.NoError(t, err)
			assert.Contains(t, string(summary), "| **Total** (results.json's score) |")

			page, err := os.ReadFile(filepath.Join(reports, report.HTMLFile))
			require.NoError(t, err)
			html := string(page)
			assert.Contains(t, html, `id="case2_withdraw"`)
			if tc.name != "crashed" {
				// Every case of the case files carries its run; the crashed
				// one has none to show.
				cases, err := grader.LoadCases(filepath.Join(mustRoot(t), "cases"))
				require.NoError(t, err)
				assert.GreaterOrEqual(t, strings.Count(html, "<svg "), len(cases))
			}
		})
	}
}

func mustRoot(t *testing.T) string {
	t.Helper()
	root, err := kit.Root()
	require.NoError(t, err)
	return root
}

// Case 2's diagram shows P3 voting yes to P0 and no to P1 and P2.
func TestReportShowsCase2Equivocation(t *testing.T) {
	if testing.Short() {
		t.Skip("grades a tree")
	}
	code, reports, out := gradeTree(t, "-tree", "solution", "-case", "case2_withdraw")
	require.Equal(t, exitOK, code, out)
	page, err := os.ReadFile(filepath.Join(reports, report.HTMLFile))
	require.NoError(t, err)
	html := string(page)
	assert.Equal(t, 1, strings.Count(html, "<svg "))
	for _, want := range []string{
		"P3 -&gt; P0  PREPARE v0 n1 yes  (Byzantine vote)",
		"P3 -&gt; P1  PREPARE v0 n1 no  (Byzantine vote)",
		"P3 -&gt; P2  PREPARE v0 n1 no  (Byzantine vote)",
		"P3 -&gt; P0  COMMIT v0 n1 commit  (Byzantine vote)",
		"P3 -&gt; P1  COMMIT v0 n1 abort  (Byzantine vote)",
		"P3 (Byzantine)",
	} {
		assert.True(t, strings.Contains(html, want), "report.html lacks %q", want)
	}
}

// A tree that does not build still gets reports that say why, with every
// case listed as not run.
func TestGradeThatCannotRunStillReports(t *testing.T) {
	code, reports, out := gradeTree(t, "-submission", "testdata/submissions/imports_os")
	require.Equal(t, exitUsage, code, out)
	g := readResults(t, reports)
	assert.Zero(t, g.Score)
	assert.Contains(t, g.ExtraData.Error, `import "os" is not allowed`)
	assert.Contains(t, g.Output, "Grading could not run")
	require.NotEmpty(t, g.Tests)
	for _, test := range g.Tests {
		assert.Equal(t, report.NotRun, test.ExtraData.State)
		assert.Contains(t, test.Output, "did not run")
	}
	assert.FileExists(t, filepath.Join(reports, report.HTMLFile))

	// Only the cases the grade was asked for are listed.
	_, reports, _ = gradeTree(t, "-submission", "testdata/submissions/imports_os", "-phase", "commit")
	for _, test := range readResults(t, reports).Tests {
		assert.Contains(t, test.Tags, "commit", test.Name)
	}
	_, reports, _ = gradeTree(t, "-submission", "testdata/submissions/imports_os", "-case", "case3_withdraw_fails")
	g = readResults(t, reports)
	require.Len(t, g.Tests, 1)
	assert.Equal(t, "case3_withdraw_fails", g.Tests[0].ExtraData.Case)
}
