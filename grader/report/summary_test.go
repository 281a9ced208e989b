package report

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSummaryIsAGitHubTable(t *testing.T) {
	got := Summary(failingRun())
	lines := strings.Split(got, "\n")
	assert.Equal(t, "### pbftlab grade: skeleton", lines[0])
	assert.Contains(t, got, "Score: 10/22")
	assert.Contains(t, got, "| Case | Phases | Points | State | Time |\n|---|---|--:|---|--:|\n")
	assert.Contains(t, got, "| case1_deposit | pre-prepare, prepare, commit | 10/10 | ✅ passed | 1ms |")
	assert.Contains(t, got, "| case2_withdraw (TA only) | prepare | 0/12 | ❌ failed | 2ms |")
	assert.Contains(t, got, "| **Score** (the lab's cases) | | **10/22** | | 2.5s |")
	assert.Contains(t, got, "<details><summary>case2_withdraw: P1 (view 0, seq 1): request 1: want committed, got aborted</summary>",
		"the first thing that differed, not the heading")
	assert.Contains(t, got, "Replay: `make grade CASE=case2_withdraw SEED=2 RUNS=1`")
	assert.NotContains(t, got, "<details><summary>case1_deposit", "passing cases need no details")
}

func TestSummaryKeepsCellsInTheirColumns(t *testing.T) {
	r := passingRun()
	r.Cases[0].Name = "a|b"
	r.Cases[0].Phases = []string{"x\ny"}
	got := Summary(r)
	assert.Contains(t, got, `| a\|b | x y |`)
}

func TestSummaryShowsErrorsAndIncompleteRuns(t *testing.T) {
	got := Summary(crashedRun())
	assert.Contains(t, got, "💥 panicked")
	assert.Contains(t, got, "💥 not run")
	assert.Contains(t, got, "incomplete: 1 of 3 cases did not run")
	got = Summary(Run{Error: "skeleton/x.go:3: go statements are not allowed"})
	assert.Contains(t, got, "Grading could not run")
	assert.Contains(t, got, "skeleton/x.go:3")
}

// A replica's text cannot end the details block and write Markdown of its
// own: a lone carriage return is a line end to Markdown, so control
// characters are escaped, and a replay with backticks stays one code span.
func TestSummaryKeepsAReplicasTextInItsBlock(t *testing.T) {
	r := failingRun()
	r.Cases[1].Message = "case2_withdraw failed with seed 2\n  P1 (view 0, seq 1): expected request 1 committed, found committed (ok\r\r### Score: 100/100\r\r| case1 | 10/10 | passed |\x1b[2J)\n"
	r.Cases[1].Replay = "make grade CASE=case2_withdraw SUBMISSION='a`b'"
	got := Summary(r)
	assert.NotContains(t, got, "\r", "no carriage return reaches the file")
	assert.NotContains(t, got, "\x1b")
	assert.Contains(t, got, `(ok\x0d\x0d### Score: 100/100\x0d\x0d`)
	assert.Contains(t, got, "Replay: ``make grade CASE=case2_withdraw SUBMISSION='a`b'``")
}
