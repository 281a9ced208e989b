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

func TestCaseList(t *testing.T) {
	cases := []*script.Case{{File: "x/case1_deposit.case"}, {File: "x/case2_withdraw.case"}, {File: "x/robust3_twin.case"}}
	for _, tc := range []struct {
		list, want, err string
	}{
		{"case1", "case1_deposit", ""},
		{"case1,robust3", "case1_deposit,robust3_twin", ""},
		{" case2_withdraw , case1 ,case2", "case2_withdraw,case1_deposit", ""},
		{"case1,case9", "", `no case named "case9"`},
		{",", "", `"," names no case`},
	} {
		got, err := CaseList(cases, tc.list)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.list)
			continue
		}
		assert.NoError(t, err, tc.list)
		assert.Equal(t, tc.want, got, tc.list)
	}
}
