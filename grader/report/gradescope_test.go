package report

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Gradescope's autograder specification (gradescope-autograders.readthedocs.io,
// "Autograder Specifications", section "Output format") lists these keys,
// their types and their allowed values.
var (
	gsTopKeys = map[string]string{
		"score": "number", "execution_time": "number", "output": "string",
		"output_format": "format", "test_output_format": "format", "test_name_format": "format",
		"visibility": "visibility", "stdout_visibility": "visibility",
		"extra_data": "object", "tests": "array", "leaderboard": "array",
	}
	gsTestKeys = map[string]string{
		"score": "number", "max_score": "number", "status": "status", "name": "string",
		"name_format": "format", "number": "string", "output": "string", "output_format": "format",
		"tags": "strings", "visibility": "visibility", "extra_data": "object",
	}
	gsFormats      = []string{"text", "html", "simple_format", "md", "ansi"}
	gsVisibilities = []string{"hidden", "after_due_date", "after_published", "visible"}
	gsStatuses     = []string{"passed", "failed"}
	// What the kit promises on top: every test carries all of these.
	kitTestKeys = []string{"name", "number", "score", "max_score", "status", "tags", "output", "output_format", "visibility"}
)

// checkGradescope returns every way data breaks the specification or the
// kit's promise about it.
func checkGradescope(data []byte) []string {
	var problems []string
	var top map[string]any
	if err := json.Unmarshal(data, &top); err != nil {
		return []string{"not a JSON object: " + err.Error()}
	}
	problems = append(problems, checkKeys("results", top, gsTopKeys)...)
	tests, _ := top["tests"].([]any)
	if _, ok := top["score"]; !ok {
		problems = append(problems, "no top-level score")
	}
	if _, ok := top["execution_time"]; !ok {
		problems = append(problems, "no execution_time")
	}
	if _, ok := top["tests"].([]any); !ok {
		problems = append(problems, "tests is not an array")
	}
	sum := 0.0
	for i, raw := range tests {
		test, ok := raw.(map[string]any)
		if !ok {
			problems = append(problems, fmt.Sprintf("tests[%d] is not an object", i))
			continue
		}
		where := fmt.Sprintf("tests[%d]", i)
		problems = append(problems, checkKeys(where, test, gsTestKeys)...)
		for _, k := range kitTestKeys {
			if _, ok := test[k]; !ok {
				problems = append(problems, where+" lacks "+k)
			}
		}
		score, _ := test["score"].(float64)
		max, _ := test["max_score"].(float64)
		if score < 0 || score > max {
			problems = append(problems, fmt.Sprintf("%s: score %v outside [0, %v]", where, score, max))
		}
		if (test["status"] == "passed") != (score == max && max > 0) {
			problems = append(problems, fmt.Sprintf("%s: status %v with %v/%v", where, test["status"], score, max))
		}
		sum += score
	}
	if s, ok := top["score"].(float64); ok && s != sum {
		problems = append(problems, fmt.Sprintf("top-level score %v is not the tests' sum %v", s, sum))
	}
	return problems
}

func checkKeys(where string, obj map[string]any, allowed map[string]string) []string {
	var problems []string
	for k, v := range obj {
		kind, ok := allowed[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: key %q is not in the specification", where, k))
			continue
		}
		bad := false
		switch kind {
		case "number":
			_, isNum := v.(float64)
			bad = !isNum
		case "string":
			_, isStr := v.(string)
			bad = !isStr
		case "object":
			_, isObj := v.(map[string]any)
			bad = !isObj
		case "array":
			_, isArr := v.([]any)
			bad = !isArr
		case "strings":
			arr, isArr := v.([]any)
			bad = !isArr
			for _, e := range arr {
				if _, isStr := e.(string); !isStr {
					bad = true
				}
			}
		case "format":
			s, _ := v.(string)
			bad = !slices.Contains(gsFormats, s)
		case "visibility":
			s, _ := v.(string)
			bad = !slices.Contains(gsVisibilities, s)
		case "status":
			s, _ := v.(string)
			bad = !slices.Contains(gsStatuses, s)
		}
		if bad {
			problems = append(problems, fmt.Sprintf("%s: %s = %v is not a valid %s", where, k, v, kind))
		}
	}
	return problems
}

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
			assert.Empty(t, checkGradescope(data))
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
		assert.NotEmpty(t, checkGradescope([]byte(doc)), name)
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
	g := ToGradescope(passingRun())
	assert.Equal(t, VisibilityVisible, g.Tests[0].Visibility)
	assert.Equal(t, VisibilityAfterPublished, g.Tests[1].Visibility)
}

func TestResultsNameWhatDidNotRun(t *testing.T) {
	g := ToGradescope(crashedRun())
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
