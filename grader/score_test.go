package grader

import (
	"slices"
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
