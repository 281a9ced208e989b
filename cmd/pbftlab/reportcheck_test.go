package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader/report"
)

// validateScore returns how score.json's text breaks score.schema.json.
func validateScore(t *testing.T, data []byte) []string {
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

// checkReports checks every report a grade left in dir: results.json
// against Gradescope's specification and the hidden rule, junit.xml
// against junit-10.xsd, score.json against its schema, and the three tell
// one story: the same total, the same number of specs.
func checkReports(t *testing.T, dir string) report.Score {
	t.Helper()
	for _, f := range []string{report.ResultsFile, report.JUnitFile, report.SummaryFile, report.HTMLFile, report.ScoreFile} {
		require.FileExists(t, filepath.Join(dir, f))
	}
	results, err := os.ReadFile(filepath.Join(dir, report.ResultsFile))
	require.NoError(t, err)
	assert.Empty(t, report.ValidateGradescope(results), "results.json")
	junit, err := os.ReadFile(filepath.Join(dir, report.JUnitFile))
	require.NoError(t, err)
	assert.Empty(t, report.ValidateJUnit(junit), "junit.xml")
	data, err := os.ReadFile(filepath.Join(dir, report.ScoreFile))
	require.NoError(t, err)
	assert.Empty(t, validateScore(t, data), "score.json")
	sc := readScoreFile(t, dir)
	g := readResults(t, dir)
	assert.Equal(t, float64(sc.Total), g.Score, "results.json's score is score.json's total")
	assert.Len(t, g.Tests, len(sc.Cases), "one test per spec in both")
	assert.Equal(t, sc.LabMax+sc.RobMax, sc.TotalMax)
	return sc
}
