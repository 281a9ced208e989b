package report

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The terminal leads with FirstProblem, so it must never be the heading
// when the message says more: a panic, a safety violation or a case
// error is the first fact, whatever form the heading takes.
func TestFirstProblem(t *testing.T) {
	for _, tc := range []struct {
		name, msg, want string
	}{
		{"an expectation", Heading("case1_deposit", 1, "") + "\n  line 9: expected P0 balance 100, found 0\nreproduce: make grade CASE=case1_deposit", "line 9: expected P0 balance 100, found 0"},
		{"a panic under a schedule", Heading("case1_deposit", 1, "fifo") + "\n  P0 panicked in Do(progress): TODO\n\ngoroutine 1", "P0 panicked in Do(progress): TODO"},
		{"after the note of a shrunk order", Heading("robust80_x", 1, "fifo") + "\n  (seed 1's order of deliveries, shrunk: every delivery takes the oldest message in flight)\n  line 28 (send PREPARE v0 n1 no to P0, P1): P3 (Byzantine) was to vote", "line 28 (send PREPARE v0 n1 no to P0, P1): P3 (Byzantine) was to vote"},
		{"a shrunk schedule", Heading("robust3_x", 7, "12:1,14:0") + "\n  safety violated at seq 1", "safety violated at seq 1"},
		{"an expectation after another line", Heading("c", 2, "") + "\n  P1 said something\n  expected a, found b", "expected a, found b"},
		{"the heading alone", Heading("c", 2, "fifo"), "c failed with seed 2 on schedule fifo"},
		{"no heading", "the tree does not build", "the tree does not build"},
	} {
		assert.Equal(t, tc.want, FirstProblem(tc.msg), tc.name)
	}
}
