package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scoreValidator compiles score.schema.json.
func scoreValidator(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ScoreSchema()))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("score.schema.json", doc))
	s, err := c.Compile("score.schema.json")
	require.NoError(t, err)
	return s
}

// notGradedRun is a grade that could not run: a tree that does not build.
func notGradedRun() Run {
	r := passingRun()
	r.Error = "the tree skeleton does not build:\nskeleton/prepare.go:12:2: undefined: votes"
	for i := range r.Cases {
		r.Cases[i].State, r.Cases[i].Points, r.Cases[i].Trace = NotRun, 0, nil
		r.Cases[i].Message = "did not run: " + r.Error
	}
	return r
}

func TestEveryKindOfGradeKeepsItsSchemas(t *testing.T) {
	schema := scoreValidator(t)
	runs := map[string]struct {
		run   Run
		state string
		code  int
	}{
		"passing":    {passingRun(), GradePassed, 0},
		"failing":    {failingRun(), GradeFailed, 1},
		"crashed":    {crashedRun(), GradeIncomplete, 2},
		"not graded": {notGradedRun(), GradeNotGraded, 2},
	}
	for name, tt := range runs {
		t.Run(name, func(t *testing.T) {
			data, err := MarshalScore(tt.run)
			require.NoError(t, err)
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			require.NoError(t, err)
			assert.NoError(t, schema.Validate(doc))
			var s Score
			require.NoError(t, json.Unmarshal(data, &s))
			assert.Equal(t, tt.state, s.State)
			assert.Equal(t, tt.code, s.ExitCode)
			assert.Equal(t, s.LabScore+s.RobScore, s.Total)

			junit, err := MarshalJUnit(tt.run)
			require.NoError(t, err)
			assert.Empty(t, ValidateJUnit(junit))

			results, err := MarshalResults(tt.run)
			require.NoError(t, err)
			assert.Empty(t, ValidateGradescope(results))
			var g Gradescope
			require.NoError(t, json.Unmarshal(results, &g))
			assert.Equal(t, float64(s.Total), g.Score, "results.json's score is score.json's total")
		})
	}
}

func TestScoreSchemaRefusesWhatIsNotAScore(t *testing.T) {
	schema := scoreValidator(t)
	for name, text := range map[string]string{
		"an unknown state":   `{"tree":"x","seed":"1","runs":"3","duration_ns":1,"state":"aborted","exit_code":2,"score":0,"max":0,"robustness_score":0,"robustness_max":0,"total":0,"total_max":0,"cases":[]}`,
		"a case state":       `{"tree":"x","seed":"1","runs":"3","duration_ns":1,"state":"failed","exit_code":1,"score":0,"max":0,"robustness_score":0,"robustness_max":0,"total":0,"total_max":0,"cases":[{"name":"a","title":"","kind":"case","phases":[],"points":0,"max":1,"state":"exploded","time_ns":0}]}`,
		"a missing total":    `{"tree":"x","seed":"1","runs":"3","duration_ns":1,"state":"failed","exit_code":1,"score":0,"max":0,"robustness_score":0,"robustness_max":0,"cases":[]}`,
		"an unknown field":   `{"tree":"x","seed":"1","runs":"3","duration_ns":1,"state":"failed","exit_code":1,"score":0,"max":0,"robustness_score":0,"robustness_max":0,"total":0,"total_max":0,"cases":[],"grade":"A"}`,
		"an exit code of 99": `{"tree":"x","seed":"1","runs":"3","duration_ns":1,"state":"failed","exit_code":99,"score":0,"max":0,"robustness_score":0,"robustness_max":0,"total":0,"total_max":0,"cases":[]}`,
	} {
		t.Run(name, func(t *testing.T) {
			doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
			require.NoError(t, err)
			assert.Error(t, schema.Validate(doc))
		})
	}
}

func TestValidateJUnitKnowsTheSchema(t *testing.T) {
	tests := []struct {
		name, xml string
		want      string
	}{
		{"valid", `<testsuites><testsuite name="s" tests="1" failures="0" errors="0" time="1.5"><properties><property name="a" value="b"/></properties><testcase name="c"><system-out>x</system-out></testcase></testsuite></testsuites>`, ""},
		{"properties in a testcase", `<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="c"><properties><property name="a" value="b"/></properties></testcase></testsuite></testsuites>`, "<testcase> may not hold <properties>"},
		{"a missing required attribute", `<testsuites><testsuite name="s" tests="1" failures="0"></testsuite></testsuites>`, `lacks the required attribute "errors"`},
		{"an unknown attribute", `<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="c" points="3"/></testsuite></testsuites>`, `attribute "points" is not in the schema`},
		{"a time that is not a time", `<testsuites time="1s"></testsuites>`, "SUREFIRE_TIME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ValidateJUnit([]byte(tt.xml))
			if tt.want == "" {
				assert.Empty(t, got)
				return
			}
			require.NotEmpty(t, got)
			assert.Contains(t, strings.Join(got, "\n"), tt.want)
		})
	}
}
