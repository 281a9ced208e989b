package driver

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader"
	"pbftlab/internal/kit"
	"pbftlab/script"
)

// -case takes a robustness case's name as well as a lab case's, so that
// every failure's "reproduce: make grade CASE=... SEED=... RUNS=1" works,
// and the name's first word alone when it names one case.
func TestCaseNamedKnowsEverySpec(t *testing.T) {
	root, err := kit.Root()
	require.NoError(t, err)
	cases, err := grader.LoadCases(filepath.Join(root, "cases"))
	require.NoError(t, err)
	robust := 0
	for _, c := range cases {
		name, err := caseNamed(cases, grader.Name(c))
		assert.NoError(t, err)
		assert.Equal(t, grader.Name(c), name)
		first, _, _ := strings.Cut(grader.Name(c), "_")
		name, err = caseNamed(cases, first)
		assert.NoError(t, err, first)
		assert.Equal(t, grader.Name(c), name, first)
		assert.Contains(t, grader.Reproduce(c, 7), "make grade CASE="+grader.Name(c)+" SEED=7 RUNS=1")
		if grader.Robust(c) {
			robust++
		}
	}
	assert.NotZero(t, robust, "the robustness cases load with the lab's")
	_, err = caseNamed(cases, "case99_nothing")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no case named "case99_nothing" (the cases: case1_deposit, `)
	assert.Contains(t, err.Error(), fmt.Sprintf(", and %d robustness specs, each named as its file is)", robust))
	twins := []*script.Case{{File: "x/a_one.case"}, {File: "x/a_two.case"}}
	_, err = caseNamed(twins, "a")
	assert.EqualError(t, err, `"a" names 2 cases (a_one, a_two): give the whole name`)
}
