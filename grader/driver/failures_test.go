package driver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader"
)

func TestFailureText(t *testing.T) {
	var long strings.Builder
	for i := range 100 {
		fmt.Fprintf(&long, "step %d\n", i)
	}
	head := "case7 failed with seed 1\n  line 30, P0 (view 0): expected stable checkpoint at n1000, found stable checkpoint at n0\n  line 31, P1 (view 0): expected executed 5, found executed 0\n\nreproduce: make grade CASE=case7 SEED=1 RUNS=1\n"
	tests := []struct {
		name, msg, want string
	}{{
		name: "the first expectation that broke and the replay command",
		msg:  head + "\ntranscript (seed 1):\n" + long.String(),
		want: "  line 30, P0 (view 0): expected stable checkpoint at n1000, found stable checkpoint at n0\n  replay: make grade CASE=case7 SEED=1 RUNS=1\n",
	}, {
		name: "a crash names the process's death, and the case replays by name, from the folder graded",
		msg:  "the test process died while running this spec (an os.Exit, or a panic on a goroutine of its own?); its last output:\n" + long.String(),
		want: "  the test process died while running this spec (an os.Exit, or a panic on a goroutine of its own?); its last output:\n  replay: make grade CASE=case7 CASES=mycases\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := failureText(tt.msg, "make grade CASE=case7 CASES=mycases")
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, strings.Count(got, "\n"), 2, "a few lines per spec")
		})
	}
}

// A spec whose process died replays from what was graded: its tree, its
// hand-in folder, its case folder and the seed asked for.
func TestReplayByName(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(root, "solution"), 0o755))
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"the reference, every seed", Options{Root: root, Tree: "solution"}, "make grade CASE=c"},
		{"a seed asked for", Options{Root: root, Tree: "solution", Seed: "7"}, "make grade CASE=c SEED=7 RUNS=1"},
		{"a folder of the TA's cases", Options{Root: root, Tree: "solution", Cases: "mycases"}, "make grade CASE=c CASES=mycases"},
		{"a hand-in folder", Options{Root: root, Tree: "solution", Report: ReportOptions{from: "hand/in"}}, "make grade CASE=c SUBMISSION=hand/in"},
		{"for the student's own kit", Options{Root: root, Tree: "solution", Cases: "/autograder/cases", Seed: "2", Report: ReportOptions{from: "/autograder/submission", student: true}}, "make grade CASE=c SEED=2 RUNS=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.o.replayByName("c"))
		})
	}
}

// Every report carries every case's message: each keeps its start.
func TestCaseMessagesAreBoundedInTheReports(t *testing.T) {
	msg := "case1 failed with seed 1\n" + strings.Repeat("x", 1<<20)
	c := Options{}.caseOf(grader.Row{Name: "case1", State: "failed", Message: msg}, nil)
	assert.True(t, strings.HasPrefix(c.Message, "case1 failed with seed 1\n"))
	assert.Less(t, len(c.Message), maxCaseMessage+100)
}
