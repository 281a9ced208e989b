package grader

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// caseText is a well-formed case titled title.
func caseText(title string) string {
	return "title: " + title + "\npoints: 1\nphases: prepare\nexpect P0: executed 0\n"
}

// writeTree writes files, by path relative to dir, into dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for path, text := range files {
		full := filepath.Join(dir, filepath.FromSlash(path))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(text), 0o644))
	}
}

func TestLoadCasesRefusesCasesGradedAsOne(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error; none when the folder loads
	}{
		{
			name:  "distinct names and titles",
			files: map[string]string{"a.case": caseText("A"), "robustness/b.case": caseText("B")},
		},
		{
			name:  "one name in the folder and in robustness",
			files: map[string]string{"dup.case": caseText("A"), "robustness/dup.case": caseText("B")},
			want:  []string{"dup.case and ", filepath.Join("robustness", "dup.case"), `two cases named "dup"`},
		},
		{
			name:  "names that differ only in case",
			files: map[string]string{"dup.case": caseText("A"), "robustness/Dup.case": caseText("B")},
			want:  []string{"dup.case and ", "Dup.case", "two cases named"},
		},
		{
			name:  "one title in two files",
			files: map[string]string{"a.case": caseText("TA5 - base deposit"), "b.case": caseText("TA5 - base deposit")},
			want:  []string{"a.case and ", "b.case", `two cases titled "TA5 - base deposit"`},
		},
		{
			name:  "titles that differ only in case and spaces",
			files: map[string]string{"a.case": caseText("Deposit"), "robustness/b.case": caseText("deposit ")},
			want:  []string{"a.case and ", "b.case", "two cases titled"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tt.files)
			cases, err := LoadCases(dir)
			if len(tt.want) == 0 {
				require.NoError(t, err)
				assert.Len(t, cases, len(tt.files))
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Nil(t, cases)
		})
	}
}
