package script

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPhasesAfter(t *testing.T) {
	for _, tc := range []struct {
		phase string
		want  []string
	}{
		{"pre-prepare", []string{"prepare", "commit", "checkpoint", "view-change", "recovery"}},
		{"view-change", []string{"recovery"}},
		{"recovery", []string{}},
		{"", nil},
		{"nonsense", nil},
	} {
		assert.Equal(t, tc.want, PhasesAfter(tc.phase), tc.phase)
	}
	after := PhasesAfter("checkpoint")
	after[0] = "changed"
	assert.Equal(t, "view-change", PhasesAfter("checkpoint")[0], "a copy, not the list itself")
}
