package gradetest

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader"
	"pbftlab/grader/report"
	"pbftlab/internal/cmdline"
)

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
		{"passing", "solution", cmdline.ExitOK, map[string]string{"case2_withdraw": "passed", "case7_checkpoint": "passed"}},
		{"failing", "skeleton", cmdline.ExitFailed, map[string]string{"case2_withdraw": "failed", "case1_deposit": "failed"}},
		{"crashed", "ta/gradetest/testdata/trees/crash", cmdline.ExitFailed, map[string]string{"case2_withdraw": "crashed", "case1_deposit": "passed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, reports, out := Grade(t, "-tree", tc.tree, "-hidden", "case7_*")
			require.Equal(t, tc.code, code, out)
			sc := CheckReports(t, reports)
			assert.Equal(t, KitTotal(t), sc.TotalMax)
			assert.Equal(t, tc.code, sc.ExitCode)
			g := Results(t, reports)
			assert.False(t, g.ExtraData.Partial)
			got := States(g)
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
				cases, err := grader.LoadCases(filepath.Join(Root(t), "cases"))
				require.NoError(t, err)
				assert.GreaterOrEqual(t, strings.Count(html, "<svg "), len(cases))
			}
		})
	}
}

// Case 2's diagram shows P3 voting yes to P0 and no to P1 and P2.
func TestReportShowsCase2Equivocation(t *testing.T) {
	if testing.Short() {
		t.Skip("grades a tree")
	}
	code, reports, out := Grade(t, "-tree", "solution", "-case", "case2_withdraw")
	require.Equal(t, cmdline.ExitOK, code, out)
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
