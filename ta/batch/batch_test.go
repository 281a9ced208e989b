package batch

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader/report"
	"pbftlab/internal/cmdline"
	"pbftlab/internal/submission"
	"pbftlab/ta/gradetest"
)

func TestMain(m *testing.M) { gradetest.Main(m) }

func readGradebook(t *testing.T, path string) (header []string, rows map[string]map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, records)
	header, rows = records[0], map[string]map[string]string{}
	for _, rec := range records[1:] {
		row := map[string]string{}
		for i, h := range header {
			row[h] = rec[i]
		}
		rows[rec[0]] = row
	}
	return header, rows
}

// The solution's files earn every point, the skeleton's none, and a
// submission that does not compile gets an error row that says where.
func TestBatchGradesEverySubmission(t *testing.T) {
	if testing.Short() {
		t.Skip("grades three submissions")
	}
	t.Setenv(gradetest.AsGradeEnv, "1")
	subs := t.TempDir()
	gradetest.HandIn(t, filepath.Join(subs, "ada"), gradetest.TreeFiles(t, "solution"))
	gradetest.HandIn(t, filepath.Join(subs, "bob"), gradetest.TreeFiles(t, submission.Tree))
	broken := gradetest.TreeFiles(t, submission.Tree)
	broken["prepare.go"] = append(broken["prepare.go"], []byte("\nfunc half() int { return \"half\" }\n")...)
	gradetest.HandIn(t, filepath.Join(subs, "cy"), broken)
	require.NoError(t, os.WriteFile(filepath.Join(subs, "notes.txt"), []byte("not a submission"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(subs, ".DS_Store"), []byte("hidden"), 0o644))
	// A zip and a hand-in unpacked one folder too deep each get a row
	// that says what to do.
	require.NoError(t, os.WriteFile(filepath.Join(subs, "fay.zip"), []byte("PK"), 0o644))
	gradetest.HandIn(t, filepath.Join(subs, "gus", "pbft-lab-main", submission.Tree), gradetest.TreeFiles(t, submission.Tree))
	// A folder that is a link to another student's, and one whose skeleton
	// is: neither is graded as the other student's work.
	require.NoError(t, os.Symlink(filepath.Join(subs, "ada"), filepath.Join(subs, "dan")))
	require.NoError(t, os.MkdirAll(filepath.Join(subs, "eve"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join("..", "ada"), filepath.Join(subs, "eve", submission.Tree)))

	reports := filepath.Join(t.TempDir(), "reports")
	var stdout, stderr bytes.Buffer
	code := Command([]string{"-submissions", subs, "-reports", reports, "-j", "2", "-runs", "1"}, &stdout, &stderr)
	out := stdout.String() + stderr.String()
	assert.Equal(t, cmdline.ExitUsage, code, "six submissions could not be graded:\n%s", out)
	for _, want := range []string{"grading 8 submissions", "[1/8] ", "[8/8] ", "graded 2 submissions", "(6 could not be graded)"} {
		assert.Contains(t, out, want)
	}

	header, rows := readGradebook(t, filepath.Join(reports, GradebookFile))
	assert.Equal(t, []string{"submission", "score", "max", "robustness", "robustness_max", "total", "total_max"}, header[:7])
	assert.Equal(t, "state", header[len(header)-1])
	assert.Contains(t, header, "case2_withdraw")
	require.Len(t, rows, 8, "every entry but a hidden one has a row")
	for _, linked := range []string{"dan", "eve"} {
		assert.Equal(t, "", rows[linked]["score"], linked)
		assert.Contains(t, rows[linked]["state"], "a link", linked)
	}
	for name, want := range map[string]string{
		"notes.txt": "error: notes.txt is a file, not a submission folder",
		"fay.zip":   "error: fay.zip is a zip: unpack it first into a folder of its own and remove the zip (unzip -d " + filepath.Join(subs, "fay") + " " + filepath.Join(subs, "fay.zip"),
		"gus":       "its Go files are in " + filepath.Join(subs, "gus", "pbft-lab-main", submission.Tree) + ": point the grade at that folder",
	} {
		assert.Equal(t, "", rows[name]["score"], name)
		assert.Contains(t, rows[name]["state"], want, name)
	}

	ada, bob, cy := rows["ada"], rows["bob"], rows["cy"]
	max, err := strconv.Atoi(ada["max"])
	require.NoError(t, err)
	assert.Positive(t, max)
	assert.Equal(t, ada["max"], ada["score"], "the solution's files earn every point")
	assert.Equal(t, ada["robustness_max"], ada["robustness"])
	assert.Equal(t, "100", ada["max"], "the lab's cases are worth 100 points")
	assert.Equal(t, "graded: all passed", ada["state"])
	assert.Equal(t, "12", ada["case2_withdraw"])

	assert.Equal(t, "0", bob["score"], "the skeleton earns nothing")
	assert.Equal(t, "0", bob["robustness"])
	assert.Equal(t, "0", bob["case2_withdraw"])
	assert.True(t, strings.HasPrefix(bob["state"], "graded: "), bob["state"])

	assert.Equal(t, "", cy["score"], "a submission that could not be graded has no score, not 0")
	assert.Equal(t, "", cy["total"])
	assert.Equal(t, ada["max"], cy["max"], "every row has the same maximum")
	assert.Equal(t, strconv.Itoa(gradetest.KitTotal(t)), ada["total_max"], "the lab's cases and the robustness cases")
	assert.Equal(t, "", cy["case2_withdraw"], "nothing ran")
	assert.True(t, strings.HasPrefix(cy["state"], "error: "), cy["state"])
	assert.Regexp(t, `prepare\.go:\d+:\d+: .*"half"`, cy["state"], "the error row says where the compiler stopped")

	for _, name := range []string{"ada", "bob", "cy"} {
		g := gradetest.Results(t, filepath.Join(reports, name))
		assert.Equal(t, name, g.ExtraData.Tree)
		assert.FileExists(t, filepath.Join(reports, name, report.HTMLFile))
		assert.FileExists(t, filepath.Join(reports, name, "grade.log"))
	}
}

// The case folder and the TA-only list are checked once, before any
// submission is graded: either would otherwise cost every submission its
// grade, or leave a case visible in every results.json.
func TestBatchChecksTheCasesFirst(t *testing.T) {
	subs := t.TempDir()
	gradetest.HandIn(t, filepath.Join(subs, "ada"), gradetest.TreeFiles(t, submission.Tree))
	malformed := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(malformed, "bad.case"), []byte("title: bad\npoints: 1\nP0: fly\n"), 0o644))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{name: "a hidden typo", args: []string{"-hidden", "robust9_f_crash"},
			want: `pbftlab batch: -hidden: "robust9_f_crash" matches no case in ` + filepath.Join(gradetest.Root(t), "cases") + ` (did you mean robust9_f_crashed?)`},
		{name: "a hidden pattern that matches nothing", args: []string{"-hidden", "ta5_*"}, want: `"ta5_*" matches no case`},
		{name: "a malformed case", args: []string{"-cases", malformed}, want: "bad.case:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reports := filepath.Join(t.TempDir(), "reports")
			var stdout, stderr bytes.Buffer
			code := Command(append([]string{"-submissions", subs, "-reports", reports}, tc.args...), &stdout, &stderr)
			assert.Equal(t, cmdline.ExitUsage, code)
			assert.Contains(t, stderr.String(), tc.want)
			assert.NotContains(t, stdout.String(), "grading", "no submission was graded")
			assert.NoFileExists(t, filepath.Join(reports, GradebookFile))
		})
	}
}

// Every entry of the submissions folder but a hidden one gets a row: a
// folder or a link to grade, a zip or a stray file refused with what to
// do. A folder that is one submission is refused whole, with the command
// that grades it.
func TestSubmissionEntries(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string // in the submissions folder; a trailing / makes a folder, @ a link to one
		want  []entry  // refuse holds a part of the reason
		err   string
	}{
		{name: "folders, a link, a zip and a file",
			files: []string{"ada/", "bob@", "cy.ZIP", "notes.txt", ".DS_Store", ".git/"},
			want: []entry{{name: "ada"}, {name: "bob"}, {name: "cy.ZIP", refuse: "cy.ZIP is a zip: unpack it first"},
				{name: "notes.txt", refuse: "notes.txt is a file, not a submission folder"}}},
		{name: "a folder of one submission's files", files: []string{"commit.go", "prepare.go", "notes.txt"},
			err: "is one submission (it holds commit.go, prepare.go), not a folder of submission folders: grade it with make grade SUBMISSION="},
		{name: "a whole tree", files: []string{"skeleton/", "skeleton/commit.go"},
			err: "is one submission (it holds commit.go), not a folder"},
		{name: "nothing", files: nil, err: "holds no submission folders"},
		{name: "hidden entries only", files: []string{".DS_Store"}, err: "holds no submission folders"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tc.files {
				p := filepath.Join(dir, strings.TrimRight(f, "/@"))
				switch {
				case strings.HasSuffix(f, "/"):
					require.NoError(t, os.MkdirAll(p, 0o755))
				case strings.HasSuffix(f, "@"):
					require.NoError(t, os.Symlink(t.TempDir(), p))
				default:
					require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
					require.NoError(t, os.WriteFile(p, []byte("x"), 0o644))
				}
			}
			got, err := submissionEntries(dir)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, len(tc.want))
			for i, want := range tc.want {
				assert.Equal(t, want.name, got[i].name)
				if want.refuse == "" {
					assert.Empty(t, got[i].refuse, want.name)
				} else {
					assert.Contains(t, got[i].refuse, want.refuse, want.name)
				}
			}
		})
	}
}

// A batch exits with the worst of its submissions' codes, on a single
// grade's scale: 2 when one could not be graded, else 1 when one did not
// pass a spec, else 0.
func TestBatchExitCode(t *testing.T) {
	passed := &report.Gradescope{Score: 10, Tests: []report.GradescopeTest{{MaxScore: 10, Score: 10, Status: "passed"}}}
	failed := &report.Gradescope{Score: 0, Tests: []report.GradescopeTest{{MaxScore: 10, Status: "failed"}}}
	ok := submissionGrade{name: "ok", code: cmdline.ExitOK, results: passed}
	failing := submissionGrade{name: "failing", code: cmdline.ExitFailed, results: failed}
	refused := submissionGrade{name: "refused", code: cmdline.ExitUsage, err: "breaks 1 rule(s)"}
	zipped := submissionGrade{name: "a.zip", code: -1, err: "a.zip is a zip: unpack it first"}
	stopped := submissionGrade{name: "slow", code: cmdline.ExitUsage, results: failed, err: "incomplete: some cases did not run"}
	for _, tc := range []struct {
		name   string
		grades []submissionGrade
		want   int
	}{
		{"every submission passed", []submissionGrade{ok, ok}, cmdline.ExitOK},
		{"every submission graded, one failing a spec", []submissionGrade{ok, failing}, cmdline.ExitFailed},
		{"every submission ungradable", []submissionGrade{refused, zipped}, cmdline.ExitUsage},
		{"one ungradable among graded ones", []submissionGrade{ok, failing, refused}, cmdline.ExitUsage},
		{"one stopped by its time limit", []submissionGrade{ok, stopped}, cmdline.ExitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, exitCode(tc.grades))
		})
	}
}

// A batch removes the reports a single grade left at the top of its
// report folder, which beside the new gradebook would read as a current
// grade; folders (an earlier batch's submissions, a stress run) stay.
func TestBatchRemovesAnEarlierGradesReports(t *testing.T) {
	subs := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(subs, "ada.zip"), []byte("PK"), 0o644))
	reports := filepath.Join(t.TempDir(), "reports")
	earlier := []struct {
		rel  string
		kept bool
	}{
		{report.ScoreFile, false}, {report.ResultsFile, false}, {report.JUnitFile, false},
		{report.SummaryFile, false}, {report.HTMLFile, false}, {"suite.log", false},
		{"bob/" + report.ResultsFile, true}, {"stress/case1-1.txt", true}, {"notes.txt", true},
	}
	for _, f := range earlier {
		p := filepath.Join(reports, filepath.FromSlash(f.rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte("earlier"), 0o644))
	}
	var stdout, stderr bytes.Buffer
	code := Command([]string{"-submissions", subs, "-reports", reports}, &stdout, &stderr)
	require.Equal(t, cmdline.ExitUsage, code, "the zip is not graded: %s", stdout.String()+stderr.String())
	assert.FileExists(t, filepath.Join(reports, GradebookFile))
	for _, f := range earlier {
		t.Run(f.rel, func(t *testing.T) {
			if f.kept {
				assert.FileExists(t, filepath.Join(reports, filepath.FromSlash(f.rel)))
			} else {
				assert.NoFileExists(t, filepath.Join(reports, filepath.FromSlash(f.rel)))
			}
		})
	}
}

func TestGradebookFromGrades(t *testing.T) {
	passed := &report.Gradescope{Score: 27, Tests: []report.GradescopeTest{
		{MaxScore: 5, Score: 5, Status: "passed", ExtraData: report.TestData{Case: "0_robust", Kind: "robustness", State: "passed"}},
		{MaxScore: 12, Score: 12, Status: "passed", ExtraData: report.TestData{Case: "b", Kind: "case", State: "passed"}},
		{MaxScore: 10, Score: 10, Status: "passed", ExtraData: report.TestData{Case: "a", Kind: "case", State: "passed"}},
	}}
	partial := &report.Gradescope{Score: 10, ExtraData: report.RunData{Partial: true}, Tests: []report.GradescopeTest{
		{MaxScore: 10, Score: 10, Status: "passed", ExtraData: report.TestData{Case: "a", State: "passed"}},
		{MaxScore: 12, Status: "failed", ExtraData: report.TestData{Case: "b", State: report.NotRun}},
	}}
	rejected := &report.Gradescope{ExtraData: report.RunData{Error: "x"}, Tests: []report.GradescopeTest{
		{MaxScore: 10, Status: "failed", ExtraData: report.TestData{Case: "a", State: report.NotRun}},
	}}
	grades := []submissionGrade{
		{name: "p", results: passed},
		{name: "q", results: partial, err: "incomplete: some cases did not run"},
		{name: "r", results: rejected, err: `skeleton/prepare.go:3: import "os" is not allowed`},
		{name: "s", err: "not graded: the batch was interrupted"},
		{name: "=cmd|' /C calc'!A0", results: passed},
		{name: "@SUM(1+1)", err: "-2+3"},
	}
	path := filepath.Join(t.TempDir(), GradebookFile)
	require.NoError(t, writeGradebook(path, grades))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, `submission,score,max,robustness,robustness_max,total,total_max,a,b,0_robust,state
p,22,22,5,5,27,27,10,12,5,graded: all passed
q,10,22,0,5,10,27,10,,,incomplete: some cases did not run
r,,22,,5,,27,,,,"error: skeleton/prepare.go:3: import ""os"" is not allowed"
s,,22,,5,,27,,,,error: not graded: the batch was interrupted
'=cmd|' /C calc'!A0,22,22,5,5,27,27,10,12,5,graded: all passed
'@SUM(1+1),,22,,5,,27,,,,error: -2+3
`, string(data), "an ungraded row has empty cells, and no cell starts a formula")
}

func TestOneLineFindsWhereToLook(t *testing.T) {
	assert.Equal(t, "the tree skeleton did not build or holds no grade suite: ./prepare.go:87:44: cannot use votes",
		oneLine("pbftlab grade: the tree skeleton did not build or holds no grade suite:\n# pbftlab/skeleton\n./prepare.go:87:44: cannot use votes\nFAIL"))
	assert.Equal(t, "no cases", oneLine("\n  no cases\n"))
}

func TestOneLineKeepsWhatARuleLineAnnounces(t *testing.T) {
	assert.Equal(t, "the submission in subs/dan breaks 1 rule(s); nothing was compiled or run: subs/dan: a link: a submission is read from its own folder, never through a link",
		oneLine("pbftlab grade: the submission in subs/dan breaks 1 rule(s); nothing was compiled or run:\n  subs/dan: a link: a submission is read from its own folder, never through a link\n"))
}
