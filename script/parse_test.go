package script

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// parseErr parses text as x.case and returns its error's text, "" when it
// parses.
func parseErr(text string) string {
	if _, err := Parse("x.case", text); err != nil {
		return err.Error()
	}
	return ""
}

func TestParseBoundsTicks(t *testing.T) {
	const send = "client: send account=a,amount=1,operation=deposit\n"
	const expect = "expect P0: executed 1\n"
	tests := []struct {
		name  string
		steps string
		err   string // "" when the case parses
	}{
		{"the largest tick a shipped case has", "tick: 290\n", ""},
		{"ticks up to the bound", "tick: 5000\ntick: until P1: view 0 primary P0, at most 5000\n", ""},
		{"a billion ticks", "tick: 1000000000\n", "x.case:5: tick: 1000000000: a case ticks at most 10000 times in all"},
		{"a billion ticks at most", "tick: until P1: view 9 primary P1, at most 1000000000\n", "x.case:5: tick: at most 1000000000: a case ticks at most 10000 times in all"},
		{"lines that go over the bound together", "tick: 6000\ntick: until P1: view 1 primary P1, at most 4001\n", "x.case:6: tick: at most 4001: with the 6000 ticks of the lines before, more than the 10000"},
		{"a tick count too large for a number", "tick: 99999999999999999999999\n", "x.case:5: tick: \"99999999999999999999999\" is not a positive whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErr("title: t\npoints: 1\nphases: prepare\n" + send + tt.steps + expect)
			if tt.err == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, tt.err)
		})
	}
}
