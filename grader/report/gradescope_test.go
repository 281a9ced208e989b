package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResultsFollowGradescopeSpecification(t *testing.T) {
	for _, tc := range []struct {
		name     string
		run      Run
		score    float64
		statuses []string
	}{
		{"passing", passingRun(), 22, []string{"passed", "passed"}},
		{"failing", failingRun(), 10, []string{"passed", "failed"}},
		{"crashed", crashedRun(), 0, []string{"failed", "failed", "failed"}},
		{"could not run", Run{Error: "skeleton/prepare.go:12: imports os, which submissions may not", Cases: []Case{
			{Name: "case1_deposit", Title: "Case 1", Kind: "case", Max: 10, State: NotRun},
		}}, 0, []string{"failed"}},
		{"no cases at all", Run{Error: "no .case files in cases/"}, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := MarshalResults(tc.run)
			require.NoError(t, err)
			assert.Empty(t, ValidateGradescope(data))
			var g Gradescope
			require.NoError(t, json.Unmarshal(data, &g))
			assert.Equal(t, tc.score, g.Score)
			var got []string
			for _, test := range g.Tests {
				got = append(got, test.Status)
			}
			assert.Equal(t, tc.statuses, got)
		})
	}
}

// The checker itself must reject what Gradescope would.
func TestCheckGradescopeCatchesMistakes(t *testing.T) {
	for name, doc := range map[string]string{
		"string score":       `{"score": "10", "execution_time": 1, "tests": []}`,
		"unknown status":     `{"score": 0, "execution_time": 1, "tests": [{"name": "a", "number": "1", "score": 0, "max_score": 1, "status": "error", "tags": [], "output": "", "output_format": "md", "visibility": "visible"}]}`,
		"numeric number":     `{"score": 0, "execution_time": 1, "tests": [{"name": "a", "number": 1, "score": 0, "max_score": 1, "status": "failed", "tags": [], "output": "", "output_format": "md", "visibility": "visible"}]}`,
		"bad visibility":     `{"score": 0, "execution_time": 1, "tests": [{"name": "a", "number": "1", "score": 0, "max_score": 1, "status": "failed", "tags": [], "output": "", "output_format": "md", "visibility": "ta_only"}]}`,
		"missing tags":       `{"score": 0, "execution_time": 1, "tests": [{"name": "a", "number": "1", "score": 0, "max_score": 1, "status": "failed", "output": "", "output_format": "md", "visibility": "visible"}]}`,
		"score not the sum":  `{"score": 5, "execution_time": 1, "tests": []}`,
		"unknown key":        `{"score": 0, "execution_time": 1, "tests": [], "points": 3}`,
		"passed with no pts": `{"score": 0, "execution_time": 1, "tests": [{"name": "a", "number": "1", "score": 0, "max_score": 1, "status": "passed", "tags": [], "output": "", "output_format": "md", "visibility": "visible"}]}`,
	} {
		assert.NotEmpty(t, ValidateGradescope([]byte(doc)), name)
	}
}

func TestResultsSayWhatDifferedAndHowToReplay(t *testing.T) {
	g := ToGradescope(failingRun())
	failed := g.Tests[1]
	assert.Equal(t, "Case 2 - withdraw (case2_withdraw)", failed.Name)
	assert.Equal(t, "2", failed.Number)
	assert.Equal(t, []string{"prepare"}, failed.Tags)
	assert.Equal(t, "md", failed.OutputFormat)
	for _, want := range []string{
		"#### What differed", "want committed, got aborted",
		"#### Replay", "make grade CASE=case2_withdraw SEED=2 RUNS=1",
		"#### Transcript (seed 2)", "P3 (replica, Byzantine): prepare to P1 no",
	} {
		assert.Contains(t, failed.Output, want)
	}
	assert.NotContains(t, g.Tests[0].Output, "What differed", "a passing case has nothing that differed")
}

func TestHiddenCasesWaitForPublishedGrades(t *testing.T) {
	for name, r := range map[string]Run{"passing": passingRun(), "failing": failingRun(), "crashed": crashedRun()} {
		t.Run(name, func(t *testing.T) {
			g := ToGradescope(r)
			assert.Equal(t, VisibilityVisible, g.Tests[0].Visibility)
			assert.Equal(t, VisibilityAfterPublished, g.Tests[1].Visibility)
			assert.Equal(t, VisibilityHidden, g.StdoutVisibility, "the grade's own table lists the TA-only cases")
			assert.NotRegexp(t, `\d+\s*/\s*\d+`, g.Output, "no total above the tests while TA-only ones exist")
			assert.NotContains(t, g.Output, "Score")
			data, err := MarshalResults(r)
			require.NoError(t, err)
			assert.Empty(t, ValidateGradescope(data))
		})
	}
}

func TestResultsNameWhatDidNotRun(t *testing.T) {
	r := crashedRun()
	for i := range r.Cases {
		r.Cases[i].Hidden = false
	}
	g := ToGradescope(r)
	require.Len(t, g.Tests, 3)
	assert.Contains(t, g.Tests[0].Output, "index out of range")
	assert.Contains(t, g.Tests[1].Output, "test process died")
	assert.Contains(t, g.Tests[2].Output, "did not run")
	assert.Contains(t, g.Output, "1 case(s) did not run")
	assert.Contains(t, g.Output, "incomplete")
}

func TestFenceIsNeverClosedByItsContent(t *testing.T) {
	f := fence("a\n```\nb")
	assert.True(t, strings.HasPrefix(f, "````\n"))
	assert.True(t, strings.HasSuffix(f, "\n````\n"))
}

func TestValidateGradescopeHoldsTheHiddenRule(t *testing.T) {
	leaky := `{"score": 10, "execution_time": 1, "output": "Score: 10/22", "stdout_visibility": "visible", "tests": [
		{"name": "a", "number": "1", "score": 10, "max_score": 10, "status": "passed", "tags": [], "output": "", "output_format": "md", "visibility": "visible"},
		{"name": "b", "number": "2", "score": 0, "max_score": 12, "status": "failed", "tags": [], "output": "", "output_format": "md", "visibility": "after_published"}]}`
	problems := strings.Join(ValidateGradescope([]byte(leaky)), "\n")
	assert.Contains(t, problems, "gives a total: 10/22")
	assert.Contains(t, problems, "autograder's output (which lists them) is not hidden")
}
