package driver

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader/report"
	"pbftlab/internal/cmdline"
)

// A grade removes the gradebook an earlier batch left in its report
// folder, which beside the grade's own reports would read as current, and
// says so; the batch's submission folders stay. A grade stopped at its
// flags writes nothing and removes nothing.
func TestGradeRemovesAnEarlierBatchsGradebook(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		removed bool
	}{
		{name: "a grade", args: []string{"-submission", "testdata/submissions/imports_os"}, code: cmdline.ExitUsage, removed: true},
		{name: "a grade stopped at its flags", args: []string{"-submission", "testdata/submissions/imports_os", "-hidden", "no_such_case"}, code: cmdline.ExitUsage, removed: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reports := filepath.Join(t.TempDir(), "reports")
			for _, rel := range []string{report.GradebookFile, "ada/" + report.ResultsFile, "stress/case1-1.txt"} {
				p := filepath.Join(reports, filepath.FromSlash(rel))
				require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				require.NoError(t, os.WriteFile(p, []byte("earlier"), 0o644))
			}
			var stdout, stderr bytes.Buffer
			code := Command(append([]string{"-reports", reports}, tc.args...), &stdout, &stderr)
			assert.Equal(t, tc.code, code, stderr.String())
			gradebook := filepath.Join(reports, report.GradebookFile)
			if tc.removed {
				assert.NoFileExists(t, gradebook)
				assert.Contains(t, stdout.String(), "removed "+gradebook+", an earlier batch's")
				assert.FileExists(t, filepath.Join(reports, report.ResultsFile), "the grade's own reports")
			} else {
				assert.FileExists(t, gradebook)
			}
			assert.FileExists(t, filepath.Join(reports, "ada", report.ResultsFile), "a submission's reports stay")
			assert.FileExists(t, filepath.Join(reports, "stress", "case1-1.txt"))
		})
	}
}
