package report

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostile is text a replica may put in its log lines or its Status, meant
// to break out of the page's markup or script.
const hostile = `</script><script>alert(1)</script><img src=x onerror=alert(2)> "quoted" & ` + "\u2028 ends a line in old JavaScript"

var stepsDataRE = regexp.MustCompile(`(?s)<script type="application/json" class="steps-data">(.*?)</script>`)

// stepsData finds the step-throughs' JSON in a page and decodes it.
func stepsData(t *testing.T, page string) []Steps {
	t.Helper()
	var out []Steps
	for _, m := range stepsDataRE.FindAllStringSubmatch(page, -1) {
		var st Steps
		require.NoError(t, json.Unmarshal([]byte(m[1]), &st), m[1])
		out = append(out, st)
	}
	return out
}

func TestHTMLStepThrough(t *testing.T) {
	failing := func(steps *Steps) *Trace {
		tr := equivocation(false)
		tr.Seed, tr.Failures, tr.Steps = 4, []string{"P1: expected committed"}, steps
		return tr
	}
	tests := []struct {
		name  string
		trace func() *Trace
		steps int // step-throughs on the page
		check func(t *testing.T, page string, tr *Trace)
	}{
		{name: "a failing run has one", steps: 1, trace: func() *Trace { return failing(stepThrough(3, 3, "says")) },
			check: func(t *testing.T, page string, tr *Trace) {
				assert.Contains(t, page, `<h3>Step through the run, seed 4</h3>`)
				assert.Contains(t, page, `max="`+fmt.Sprint(len(tr.Steps.Steps))+`"`)
				assert.NotContains(t, page, "deliveries are shown")
				assert.Equal(t, 2, strings.Count(page, "<script"), "the data and the page's one script")
				assert.Equal(t, []Steps{*tr.Steps}, stepsData(t, page))
			}},
		{name: "a passed run has none", steps: 0, trace: func() *Trace {
			tr := failing(stepThrough(3, 3, "says"))
			tr.Passed, tr.Failures = true, nil
			return tr
		}, check: func(t *testing.T, page string, _ *Trace) {
			assert.NotContains(t, page, "<script")
			assert.NotContains(t, page, "Step through")
		}},
		{name: "a cut run says so", steps: 1, trace: func() *Trace { return failing(stepThrough(3, 10, "says")) },
			check: func(t *testing.T, page string, tr *Trace) {
				assert.Contains(t, page, fmt.Sprintf("The first %d of %d deliveries are shown.", 3, 10))
			}},
		{name: "what the replica wrote stays text", steps: 1, trace: func() *Trace {
			return failing(stepThrough(3, 3, hostile))
		}, check: func(t *testing.T, page string, tr *Trace) {
			assert.Equal(t, 2, strings.Count(page, "<script"), "no script but the page's own")
			assert.Equal(t, 2, strings.Count(page, "</script"))
			assert.NotContains(t, page, "<img")
			for _, m := range stepsDataRE.FindAllStringSubmatch(page, -1) {
				assert.NotContains(t, m[1], "<")
				assert.NotContains(t, m[1], "\u2028")
			}
			got := stepsData(t, page)
			require.Len(t, got, 1)
			assert.Equal(t, *tr.Steps, got[0], "the text arrives whole, as text")
			assert.Contains(t, got[0].Steps[0].Then[0], hostile)
			assert.Contains(t, got[0].Entries[0].Request, hostile)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := tt.trace()
			r := failingRun()
			r.Cases[1].Trace = tr
			page, err := HTML(r)
			require.NoError(t, err)
			assert.Equal(t, tt.steps, strings.Count(string(page), `<div class="steps" tabindex="0">`))
			rest := stripSteps(string(page))
			assert.NotRegexp(t, `<[^>]*\ssrc=`, rest, "nothing fetched")
			for _, fetch := range []string{"<link", "<img", "<iframe", "@import", "url("} {
				assert.NotContains(t, rest, fetch, "nothing fetched")
			}
			tt.check(t, string(page), tr)
		})
	}
}

// stripSteps leaves the step-throughs' data out of a page, since the data
// quotes what replicas wrote.
func stripSteps(page string) string {
	return stepsDataRE.ReplaceAllString(page, "")
}

func TestTraceJSONLeavesPassedStepsOut(t *testing.T) {
	for _, passed := range []bool{false, true} {
		t.Run(fmt.Sprint("passed=", passed), func(t *testing.T) {
			tr := equivocation(passed)
			tr.Steps = stepThrough(2, 2, "says")
			require.NotNil(t, tr.Steps)
			data, err := json.Marshal(tr)
			require.NoError(t, err)
			var back Trace
			require.NoError(t, json.Unmarshal(data, &back))
			assert.Equal(t, !passed, back.Steps != nil)
			assert.NotNil(t, tr.Steps, "marshalling leaves the trace itself alone")
			back.Steps, tr.Steps = nil, nil
			assert.Equal(t, tr, &back, "everything else survives")
		})
	}
}

// stepThrough is a hand-made step-through of n deliveries out of total, in
// a run whose replica put text in its log lines, in a request, in its
// failure and in a script line.
func stepThrough(n, total int, text string) *Steps {
	st := &Steps{Replicas: 2, Total: total, Scripts: []string{text},
		States: []StepState{
			{View: 0, Primary: "P0", Log: []int{0}, Balances: "alice=80", High: 200},
			{View: 0, Primary: "P0", Failure: text, Log: []int{}, High: 200},
		},
		Entries: []StepEntry{{Seq: 1, Phase: "pre-prepared", Request: text, PrepareYes: []string{"P0", "P1"}}},
	}
	for i := range n {
		st.Steps = append(st.Steps, Step{Event: 2 * i, Time: i, From: "P0", To: "P1",
			Msg:    Msg{Kind: "PREPARE", Seq: 1, Vote: "yes", Label: "v0 n1 yes", Text: "PREPARE v0 n1 yes"},
			Script: 0, Then: []string{"P1: " + text}, States: []int{0, 1}})
	}
	return st
}
