// Package gradetest grades whole trees end to end, as a TA would: the
// reference at full marks and every prefix of the phases cleanly, hostile
// submissions contained, and the reports each grade leaves valid and in
// agreement. Its helpers serve the other TA commands' tests, which grade
// submissions too.
package gradetest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader"
	"pbftlab/grader/driver"
	"pbftlab/grader/report"
	"pbftlab/internal/cmdline"
	"pbftlab/internal/kit"
	"pbftlab/internal/submission"
	"pbftlab/ta/skelgen"
)

// Root is the kit's root folder.
func Root(t testing.TB) string {
	t.Helper()
	root, err := kit.Root()
	require.NoError(t, err)
	return root
}

// Grade runs a whole grade in this process, with one seed a case and the
// reports in a fresh folder, and returns its exit code, that folder and
// what it printed.
func Grade(t testing.TB, args ...string) (code int, reports, out string) {
	t.Helper()
	reports = filepath.Join(t.TempDir(), "reports")
	var stdout, stderr bytes.Buffer
	code = driver.Command(append([]string{"-reports", reports, "-runs", "1"}, args...), &stdout, &stderr)
	return code, reports, stdout.String() + stderr.String()
}

// KitTotal is what every whole grade is out of: the points of the kit's
// cases, the lab's and the robustness cases together.
func KitTotal(t testing.TB) int {
	t.Helper()
	cases, err := grader.LoadCases(filepath.Join(Root(t), "cases"))
	require.NoError(t, err)
	total := 0
	for _, c := range cases {
		total += c.Points
	}
	return total
}

// HandIn writes a submission folder holding the given files.
func HandIn(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, data := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
}

// Solved returns the files a student hands in who has done every phase as
// the reference does (see skelgen.Solved).
func Solved(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := skelgen.Solved(Root(t))
	require.NoError(t, err)
	return files
}

// TreeFiles reads the editable files of a tree of the kit, moved into the
// skeleton's package; for the reference, Solved.
func TreeFiles(t testing.TB, tree string) map[string][]byte {
	t.Helper()
	if tree == kit.Reference {
		return Solved(t)
	}
	root := Root(t)
	editable, err := submission.Editable(filepath.Join(root, submission.Tree))
	require.NoError(t, err)
	clause := regexp.MustCompile(`(?m)^package ` + tree + `$`)
	files := map[string][]byte{}
	for _, name := range editable {
		src, err := os.ReadFile(filepath.Join(root, tree, name))
		require.NoError(t, err)
		files[name] = clause.ReplaceAll(src, []byte("package "+submission.Tree))
	}
	return files
}

// Results reads the results.json a grade left in dir, which must follow
// Gradescope's specification.
func Results(t testing.TB, dir string) report.Gradescope {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, report.ResultsFile))
	require.NoError(t, err)
	assert.Empty(t, report.ValidateGradescope(data))
	g, err := report.ReadResults(dir)
	require.NoError(t, err)
	return g
}

// Score reads the score.json a grade left in dir.
func Score(t testing.TB, dir string) report.Score {
	t.Helper()
	sc, err := report.ReadScore(dir)
	require.NoError(t, err)
	return sc
}

// States maps each case of a results.json to its state.
func States(g report.Gradescope) map[string]string {
	out := map[string]string{}
	for _, test := range g.Tests {
		out[test.ExtraData.Case] = test.ExtraData.State
	}
	return out
}

// CheckReports checks every report a grade left in dir: results.json
// against Gradescope's specification and the hidden rule, junit.xml
// against junit-10.xsd, score.json against its schema, and the three tell
// one story: the same total, the same number of specs.
func CheckReports(t testing.TB, dir string) report.Score {
	t.Helper()
	for _, f := range []string{report.ResultsFile, report.JUnitFile, report.SummaryFile, report.HTMLFile, report.ScoreFile} {
		require.FileExists(t, filepath.Join(dir, f))
	}
	junit, err := os.ReadFile(filepath.Join(dir, report.JUnitFile))
	require.NoError(t, err)
	assert.Empty(t, report.ValidateJUnit(junit), "junit.xml")
	data, err := os.ReadFile(filepath.Join(dir, report.ScoreFile))
	require.NoError(t, err)
	assert.Empty(t, validateScore(t, data), "score.json")
	sc := Score(t, dir)
	g := Results(t, dir)
	assert.Equal(t, float64(sc.Total), g.Score, "results.json's score is score.json's total")
	assert.Len(t, g.Tests, len(sc.Cases), "one test per spec in both")
	assert.Equal(t, sc.LabMax+sc.RobMax, sc.TotalMax)
	return sc
}

// validateScore returns how score.json's text breaks score.schema.json.
func validateScore(t testing.TB, data []byte) []string {
	t.Helper()
	schemaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(report.ScoreSchema()))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("score.schema.json", schemaDoc))
	schema, err := c.Compile("score.schema.json")
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	if err := schema.Validate(doc); err != nil {
		return []string{err.Error()}
	}
	return nil
}

// AsGradeEnv, set to 1 in a test binary's environment, makes Main act as
// "pbftlab grade" instead of running tests: batch grading starts grade
// processes of its own executable, which under test is the test binary,
// and a test that interrupts a grade needs one in a process of its own.
const AsGradeEnv = "PBFTLAB_TEST_AS_GRADE"

// Main is a TestMain for a package whose tests start grade processes of
// their own executable (see AsGradeEnv).
func Main(m *testing.M) {
	if os.Getenv(AsGradeEnv) == "1" {
		if len(os.Args) < 2 || os.Args[1] != "grade" {
			fmt.Fprintln(os.Stderr, "under", AsGradeEnv, "the only command is grade")
			os.Exit(cmdline.ExitUsage)
		}
		os.Exit(driver.Command(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
