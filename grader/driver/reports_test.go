package driver

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader/report"
	"pbftlab/internal/cmdline"
	"pbftlab/script"
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
	g, err := report.ReadResults(dir)
	require.NoError(t, err)
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
	p, err := startProgress(Options{Reports: reports, Tree: "solution"})
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
	r := ReportOptions{hidden: "case7_checkpoint, hidden_*"}
	assert.True(t, r.isHidden("case7_checkpoint"))
	assert.True(t, r.isHidden("hidden_twins"))
	assert.False(t, r.isHidden("case1_deposit"))
	assert.False(t, ReportOptions{}.isHidden("case1_deposit"))
}

// gradeTree runs a whole grade of a tree in this process and returns its
// exit code and report folder.
func gradeTree(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	reports := filepath.Join(t.TempDir(), "reports")
	var stdout, stderr bytes.Buffer
	code := Command(append([]string{"-reports", reports, "-runs", "1"}, args...), &stdout, &stderr)
	return code, reports, stdout.String() + stderr.String()
}

// A tree that does not build still gets reports that say why, with every
// case listed as not run.
func TestGradeThatCannotRunStillReports(t *testing.T) {
	code, reports, out := gradeTree(t, "-submission", "testdata/submissions/imports_os")
	require.Equal(t, cmdline.ExitUsage, code, out)
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
	for _, name := range []string{"case3_withdraw_fails", "case3"} {
		_, reports, _ = gradeTree(t, "-submission", "testdata/submissions/imports_os", "-case", name)
		g = readResults(t, reports)
		require.Len(t, g.Tests, 1, name)
		assert.Equal(t, "case3_withdraw_fails", g.Tests[0].ExtraData.Case, name)
		sc, err := report.ReadScore(reports)
		require.NoError(t, err)
		require.Len(t, sc.Cases, 1, name)
		assert.Equal(t, "make grade CASE=case3_withdraw_fails SUBMISSION=testdata/submissions/imports_os", sc.Cases[0].Replay, "a replay grades the hand-in again")
	}
	_, reports, _ = gradeTree(t, "-submission", "testdata/submissions/imports_os", "-upto", "commit")
	g = readResults(t, reports)
	require.NotEmpty(t, g.Tests)
	for _, test := range g.Tests {
		for _, later := range script.PhasesAfter("commit") {
			assert.NotContains(t, test.Tags, later, "%s needs a phase after commit", test.Name)
		}
	}
}
