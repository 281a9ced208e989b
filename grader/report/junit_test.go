package report

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJUnitTellsFailuresFromErrors(t *testing.T) {
	data, err := MarshalJUnit(crashedRun())
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(data), "<?xml"))
	var got JUnit
	require.NoError(t, xml.Unmarshal(data, &got))
	require.Len(t, got.Suites, 1)
	s := got.Suites[0]
	assert.Equal(t, 3, s.Tests)
	assert.Equal(t, 0, s.Failures)
	assert.Equal(t, 3, s.Errors, "panicked, crashed and not run are errors")
	require.Len(t, s.Cases, 3)
	for i, want := range []string{"panicked", "crashed", "not-run"} {
		require.NotNil(t, s.Cases[i].Error, s.Cases[i].Name)
		assert.Nil(t, s.Cases[i].Failure)
		assert.Equal(t, want, s.Cases[i].Error.Type)
	}
	assert.Equal(t, "panic: runtime error: index out of range [4] with length 4", s.Cases[0].Error.Message)
}

func TestJUnitMarksWrongAnswersAsFailures(t *testing.T) {
	var got JUnit
	data, err := MarshalJUnit(failingRun())
	require.NoError(t, err)
	require.NoError(t, xml.Unmarshal(data, &got))
	s := got.Suites[0]
	assert.Equal(t, 1, s.Failures)
	assert.Equal(t, 0, s.Errors)
	assert.Nil(t, s.Cases[0].Failure, "a passing case has no failure")
	require.NotNil(t, s.Cases[1].Failure)
	assert.Equal(t, "failed", s.Cases[1].Failure.Type)
	assert.Contains(t, s.Cases[1].Failure.Text, "want committed, got aborted")
	assert.Contains(t, s.Cases[1].SystemOut, "prepare to P1 no", "the transcript goes to system-out")
	assert.Equal(t, "case2_withdraw", s.Cases[1].Name)
	assert.Equal(t, "0.002", s.Cases[1].Time)
}

func TestJUnitSurvivesControlCharacters(t *testing.T) {
	r := failingRun()
	r.Cases[1].Message = "a replica logged \x00\x1b[31m and <tags> & more"
	data, err := MarshalJUnit(r)
	require.NoError(t, err)
	var got JUnit
	require.NoError(t, xml.Unmarshal(data, &got), "the file must stay well-formed XML")
	assert.Contains(t, got.Suites[0].Cases[1].Failure.Text, "<tags> & more")
}
