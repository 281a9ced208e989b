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
		t.Run(tt.name, func(t *testing.T) { expectLoad(t, tt.files, len(tt.files), tt.want) })
	}
}

func TestLoadCasesRefusesCasesItWouldNotRead(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error; none when the folder loads
		cases int
	}{
		{
			name:  "cases, a README and an editor's files",
			files: map[string]string{"a.case": caseText("A"), "robustness/b.case": caseText("B"), "README": "notes", ".a.case.swp": "x", "a.case~": "x", ".git/c.case": caseText("C")},
			cases: 2,
		},
		{
			name:  "a case with a .txt after its extension",
			files: map[string]string{"a.case": caseText("A"), "ta5_crash_recovery.case.txt": caseText("B")},
			want:  []string{"ta5_crash_recovery.case.txt: not read as a case", "only the *.case files of", "rename it ta5_crash_recovery.case"},
		},
		{
			name:  "a case with its extension in capitals",
			files: map[string]string{"a.case": caseText("A"), "robustness/ta5_vc.CASE": caseText("B")},
			want:  []string{filepath.Join("robustness", "ta5_vc.CASE") + ": not read as a case", "rename it ta5_vc.case"},
		},
		{
			name:  "a case in a folder of its own",
			files: map[string]string{"a.case": caseText("A"), "hidden/ta5_crash_recovery.case": caseText("B")},
			want:  []string{filepath.Join("hidden", "ta5_crash_recovery.case") + ": a case in a folder the grader does not read", filepath.Join("", "robustness") + " are read"},
		},
		{
			name:  "a case in a folder inside robustness",
			files: map[string]string{"a.case": caseText("A"), "robustness/more/b.case": caseText("B")},
			want:  []string{filepath.Join("robustness", "more", "b.case") + ": a case in a folder the grader does not read"},
		},
		{
			name:  "only misnamed cases",
			files: map[string]string{"a.Case": caseText("A")},
			want:  []string{"a.Case: not read as a case", "rename it a.case"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { expectLoad(t, tt.files, tt.cases, tt.want) })
	}
}

// expectLoad writes files into a case folder and loads it: with want
// empty, n cases come back; otherwise none, and an error saying each of
// want.
func expectLoad(t *testing.T, files map[string]string, n int, want []string) {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, files)
	cases, err := LoadCases(dir)
	if len(want) == 0 {
		require.NoError(t, err)
		assert.Len(t, cases, n)
		return
	}
	require.Error(t, err)
	for _, w := range want {
		assert.Contains(t, err.Error(), w)
	}
	assert.Nil(t, cases)
}
