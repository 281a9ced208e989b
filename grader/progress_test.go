package grader

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The report the suite leaves for the driver holds every spec's state and
// labels, which the score is made of, but not the traces, which reach the
// driver through the progress file; and the suite's own report keeps them.
func TestTheReportLeavesTheTracesToTheProgressFile(t *testing.T) {
	entry := types.ReportEntry{Name: "pbftlab-trace", Value: types.WrapEntryValue(map[string]int{"events": 3})}
	r := ginkgo.Report{SuiteDescription: "pbftlab grade", SpecReports: types.SpecReports{
		{LeafNodeType: types.NodeTypeIt, LeafNodeText: "Case 1", LeafNodeLabels: []string{"points:10", "case:case1_deposit"},
			State: types.SpecStatePassed, ReportEntries: types.ReportEntries{entry}},
		{LeafNodeType: types.NodeTypeIt, LeafNodeText: "Case 2", LeafNodeLabels: []string{"points:12", "case:case2_withdraw"},
			State: types.SpecStateFailed, Failure: types.Failure{Message: "case2_withdraw failed with seed 2"}},
	}}
	for _, tt := range []struct {
		name  string
		file  string // Settings.Report; empty: the driver asked for none
		wrote bool
	}{
		{"asked for", "report.json", true},
		{"not asked for", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			st := Settings{}
			if tt.file != "" {
				st.Report = filepath.Join(dir, tt.file)
			}
			t.Setenv(SettingsEnv, st.Encode())
			writeReport(r)
			assert.Len(t, r.SpecReports[0].ReportEntries, 1, "the suite's own report keeps its entries")
			if !tt.wrote {
				entries, err := os.ReadDir(dir)
				require.NoError(t, err)
				assert.Empty(t, entries)
				return
			}
			data, err := os.ReadFile(st.Report)
			require.NoError(t, err)
			var got []types.Report
			require.NoError(t, json.Unmarshal(data, &got))
			require.Len(t, got, 1)
			require.Len(t, got[0].SpecReports, 2)
			for i, sr := range got[0].SpecReports {
				want := r.SpecReports[i]
				assert.Empty(t, sr.ReportEntries)
				assert.Equal(t, want.Labels(), sr.Labels())
				assert.Equal(t, want.State, sr.State)
				assert.Equal(t, want.Failure.Message, sr.Failure.Message)
			}
		})
	}
}
