package driver

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader"
	"pbftlab/grader/report"
	"pbftlab/internal/cmdline"
	"pbftlab/internal/kit"
	"pbftlab/script"
)

// Every name or pattern of -hidden must hide a case: one that matches
// none is an error naming it, with the nearest name when one is close,
// since it would otherwise leave the case it was meant for visible.
func TestHiddenCasesMustEachMatchACase(t *testing.T) {
	cases := []*script.Case{
		{File: "c/case1_deposit.case"}, {File: "c/case7_checkpoint.case"},
		{File: "c/robustness/robust9_f_crashed.case"}, {File: "c/robustness/robust12_execution_waits_for_gap.case"},
		{File: "c/robustness/robust13_null_request_fills_gap.case"},
		{File: "c/robustness/twin_a.case"}, {File: "c/robustness/twin_b.case"},
	}
	for _, tc := range []struct {
		name, list string
		hides      []string
		err        []string // each must be in the error; none means no error
	}{
		{name: "nothing hidden", list: ""},
		{name: "blank entries", list: " , ,"},
		{name: "a whole name", list: "case7_checkpoint", hides: []string{"case7_checkpoint"}},
		{name: "a pattern", list: "robust1*", hides: []string{"robust12_execution_waits_for_gap", "robust13_null_request_fills_gap"}},
		{name: "names and patterns, in the cases' order", list: "robust9_f_crashed, case*",
			hides: []string{"case1_deposit", "case7_checkpoint", "robust9_f_crashed"}},
		{name: "a typo", list: "robust9_f_crash",
			err: []string{`-hidden: "robust9_f_crash" matches no case in c (did you mean robust9_f_crashed?)`}},
		{name: "a typo beside a good name", list: "case1_deposit,case7_checkpiont",
			err: []string{`"case7_checkpiont" matches no case in c (did you mean case7_checkpoint?)`}},
		{name: "a pattern that matches nothing", list: "ta5_*",
			err: []string{`"ta5_*" matches no case in c (a case is named as its file is, without .case)`}},
		{name: "a misspelt pattern", list: "robsut1*",
			err: []string{`"robsut1*" matches no case in c (did you mean robust1*?)`}},
		{name: "a first word", list: "robust12",
			err: []string{`"robust12" matches no case in c (did you mean robust12_execution_waits_for_gap? a TA-only case is named in full, or by a pattern)`}},
		{name: "first words, one of two cases", list: "case1,twin",
			err: []string{`"case1" matches no case in c (did you mean case1_deposit?`, `"twin" matches no case in c (did you mean twin_*?`}},
		{name: "a bad pattern", list: "case[1",
			err: []string{`"case[1" is not a name or a pattern (syntax error in pattern)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hides, err := HiddenCases(cases, "c", tc.list)
			if len(tc.err) > 0 {
				require.Error(t, err)
				for _, want := range tc.err {
					assert.Contains(t, err.Error(), want)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.hides, hides)
		})
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"robust9_f_crash", "robust9_f_crashed", 2},
		{"case7_checkpiont", "case7_checkpoint", 1}, {"kitten", "sitting", 3}, {"ab", "ba", 1}, {"ca", "abc", 3},
	} {
		assert.Equal(t, tc.want, editDistance(tc.a, tc.b), "%q %q", tc.a, tc.b)
	}
}

// A grade whose -hidden names no case stops before anything runs or is
// reported, saying which entry and what it may have meant.
func TestGradeRefusesAHiddenListThatMatchesNoCase(t *testing.T) {
	root, err := kit.Root()
	require.NoError(t, err)
	cases, err := grader.LoadCases(filepath.Join(root, "cases"))
	require.NoError(t, err)
	_, err = HiddenCases(cases, "cases", "robust9_f_crashed,case7_*")
	require.NoError(t, err, "the kit's cases have the names this test misspells")

	code, reports, out := gradeTree(t, "-submission", "testdata/submissions/imports_os", "-hidden", "robust9_f_crash,case7_*")
	assert.Equal(t, cmdline.ExitUsage, code, out)
	assert.Contains(t, out, `pbftlab grade: -hidden: "robust9_f_crash" matches no case in `+filepath.Join(root, "cases")+` (did you mean robust9_f_crashed?)`)
	assert.NoFileExists(t, filepath.Join(reports, report.ResultsFile), "no report shows the case it meant to hide")
}
