package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader"
	"pbftlab/internal/kit"
)

// -case takes a robustness case's name as well as a lab case's, so that
// every failure's "reproduce: make grade CASE=... SEED=... RUNS=1" works.
func TestHasCaseKnowsEverySpec(t *testing.T) {
	root, err := kit.Root()
	require.NoError(t, err)
	cases, err := grader.LoadCases(filepath.Join(root, "cases"))
	require.NoError(t, err)
	robust := 0
	for _, c := range cases {
		assert.True(t, hasCase(cases, grader.Name(c)), grader.Name(c))
		assert.Contains(t, grader.Reproduce(c, 7), "make grade CASE="+grader.Name(c)+" SEED=7 RUNS=1")
		if grader.Robust(c) {
			robust++
		}
	}
	assert.NotZero(t, robust, "the robustness cases load with the lab's")
	assert.False(t, hasCase(cases, "case99_nothing"))
}

// kitTotal is what every whole grade is out of: the points of the kit's
// cases, the lab's and the robustness cases together.
func kitTotal(t *testing.T) int {
	t.Helper()
	root, err := kit.Root()
	require.NoError(t, err)
	cases, err := grader.LoadCases(filepath.Join(root, "cases"))
	require.NoError(t, err)
	total := 0
	for _, c := range cases {
		total += c.Points
	}
	return total
}
