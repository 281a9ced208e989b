package grader

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSpecOrder(t *testing.T) {
	type spec struct {
		robust bool
		name   string
	}
	specs := []spec{
		{true, "robust10_f_plus_one_crashed"},
		{false, "practice1_withdraw50"},
		{true, "robust2_timer"},
		{false, "case7_checkpoint"},
		{true, "robust1_prepared"},
		{false, "case10_extra"},
		{false, "case1_deposit"},
	}
	slices.SortFunc(specs, func(a, b spec) int { return SpecOrder(a.robust, a.name, b.robust, b.name) })
	var names []string
	for _, s := range specs {
		names = append(names, s.name)
	}
	assert.Equal(t, []string{
		"case1_deposit", "case7_checkpoint", "case10_extra", "practice1_withdraw50",
		"robust1_prepared", "robust2_timer", "robust10_f_plus_one_crashed",
	}, names)
}

func TestNaturalCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"a2", "a10", -1},
		{"a10", "a2", 1},
		{"a", "a1", -1},
		{"x7y", "x7y", 0},
		{"case1_a", "case1_b", -1},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, naturalCompare(tt.a, tt.b), "%s vs %s", tt.a, tt.b)
	}
}

// A grade of the early phases has no lab case in it: its Score line says
// why it reads 0/0.
func TestTableSaysWhyTheScoreIsEmpty(t *testing.T) {
	for _, tt := range []struct {
		name string
		res  Result
		want string
	}{
		{"robustness specs only", Result{RobScore: 1, RobMax: 2}, "Score: 0/0 (none of the lab's cases is among the specs graded: each needs a later phase)\nRobustness: 1/2\n"},
		{"a lab case", Result{Score: 10, Max: 10, RobMax: 2}, "Score: 10/10\nRobustness: 0/2\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.True(t, strings.HasSuffix(tt.res.Table(), tt.want), tt.res.Table())
		})
	}
}
