package gradetest

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader/stress"
	"pbftlab/internal/cmdline"
)

// The reference holds under stress: no seed of these fails, and the
// table and stress.json say so.
func TestStressHoldsTheReference(t *testing.T) {
	if testing.Short() {
		t.Skip("stresses the reference")
	}
	reports := filepath.Join(t.TempDir(), "stress")
	var stdout, stderr bytes.Buffer
	code := stress.Command([]string{"-n", "12", "-case", "case2_withdraw,robust3_twin_primary", "-reports", reports}, &stdout, &stderr)
	require.Equal(t, cmdline.ExitOK, code, stdout.String()+stderr.String())
	out := stdout.String()
	assert.Contains(t, out, "stressing solution: 12 seeds per case")
	assert.Regexp(t, `case2_withdraw +fifo/reordered, dup +12 +0 `, out)
	assert.Regexp(t, `robust3_twin_primary +fifo/reordered, dup, drop +12 +0 `, out)
	assert.Contains(t, out, "Runs: 24, failures: 0")
	assert.FileExists(t, filepath.Join(reports, "stress.json"))
}
