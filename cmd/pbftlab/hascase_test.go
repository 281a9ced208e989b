package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader"
)

// -case takes a robustness spec's name as well as a case file's, so that
// every failure's "reproduce: make grade CASE=... SEED=... RUNS=1" works.
func TestHasCaseKnowsEverySpec(t *testing.T) {
	root, err := grader.ModuleRoot()
	require.NoError(t, err)
	cases, err := grader.LoadCases(filepath.Join(root, "cases"))
	require.NoError(t, err)
	require.NotEmpty(t, grader.Scenarios)
	assert.True(t, hasCase(cases, grader.Name(cases[0])))
	for _, sc := range grader.Scenarios {
		assert.True(t, hasCase(cases, sc.Name), sc.Name)
		assert.Contains(t, grader.ReproduceScenario(sc, 7), "make grade CASE="+sc.Name+" SEED=7 RUNS=1")
	}
	assert.False(t, hasCase(cases, "case99_nothing"))
}
