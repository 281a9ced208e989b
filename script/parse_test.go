package script

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// deposit is a case from the lab's transcripts, one line a string.
var deposit = []string{
	"title: TA5 - base deposit",
	"points: 5",
	"phases: pre-prepare, prepare, commit",
	"balances: alice=100",
	"votes: manual",
	"byzantine: P3",
	"",
	"client: send account=alice,amount=10,operation=deposit",
	"P0 (primary): tx",
	"P1, P2, P3: prepare yes",
	"P0, P1, P2, P3: progress",
	"P0 (primary): status",
	"P0, P1, P2, P3: ack commit",
	"P0, P1, P2, P3: progress",
	"",
	"expect P0, P1, P2, P3: request 1 committed",
	"expect P0, P1, P2, P3: balance alice=110",
	"expect client: request 1 committed",
}

// depositWith is deposit with line n (from 1) replaced by edit(line).
func depositWith(n int, edit func(string) string) string {
	lines := slices.Clone(deposit)
	lines[n-1] = edit(lines[n-1])
	return strings.Join(lines, "\n") + "\n"
}

func TestParseTrailingComments(t *testing.T) {
	want, err := Parse("x.case", depositWith(1, func(l string) string { return l }))
	require.NoError(t, err)
	tests := []struct {
		name    string
		line    int
		comment string
	}{
		{"after points", 2, " # five points"},
		{"after votes", 5, " # typed"},
		{"after the Byzantine replicas", 6, " # the liar"},
		{"after the title", 1, " # the first"},
		{"after a send", 8, " # ten"},
		{"after a bare tx, two spaces before", 9, "  # order it"},
		{"after a vote, three spaces before", 10, "   # everyone votes yes"},
		{"after progress, a tab before", 11, "\t# all four"},
		{"after status", 12, " # look"},
		{"after ack commit", 13, " # all four"},
		{"after a balance", 17, "  # was 100"},
		{"after the client's outcome", 18, " # the client too"},
		{"a comment holding a colon and a hash", 13, " # note: P0 # again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("x.case", depositWith(tt.line, func(l string) string { return l + tt.comment }))
			require.NoError(t, err)
			assert.Equal(t, want, got, "the comment changes nothing")
		})
	}
}

func TestParseComments(t *testing.T) {
	tests := []struct {
		name string
		text string
		err  string // "" when the case parses
	}{
		{"a whole-line comment among the headers", depositWith(4, func(l string) string { return l + "\n# a comment among headers" }), ""},
		{"an indented comment", depositWith(11, func(l string) string { return l + "\n   # indented" }), ""},
		{"a tab-indented comment", depositWith(11, func(l string) string { return l + "\n\t# indented" }), ""},
		{"a hash inside a word is kept", depositWith(1, func(string) string { return "title: Case#5 - deposit" }), ""},
		{"a C-style comment", depositWith(11, func(l string) string { return l + "\n// C-style comment" }), `x.case:12: "// C-style comment": a comment starts with "#", not "//"`},
		{"a C-style comment with a colon", depositWith(11, func(l string) string { return l + "\n// note: here" }), `x.case:12: "// note: here": a comment starts with "#", not "//"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.err, parseErr(tt.text), tt.text)
		})
	}
	c, err := Parse("x.case", depositWith(1, func(string) string { return "title: Case#5 - deposit # the fifth" }))
	require.NoError(t, err)
	assert.Equal(t, "Case#5 - deposit", c.Title)
}

func TestParseExplainsMistakes(t *testing.T) {
	const headers = "title, points, phases, balances, votes, replicas, byzantine, checkpoint-interval, window, explore"
	const noOp = `client: want "send account=A,amount=N,operation=deposit|withdraw [times N]": the operation is missing (such as account=alice,amount=10,operation=deposit)`
	line := func(n int, text string) string { return depositWith(n, func(string) string { return text }) }
	tests := []struct {
		name string
		text string
		err  string
	}{
		{"a misspelt header", depositWith(5, func(l string) string { return l + "\nreplica: 4" }),
			`x.case:6: unknown header "replica": did you mean "replicas"? (the headers are ` + headers + ")"},
		{"a header with a letter too many", line(4, "ballances: alice=100"), `x.case:4: unknown header "ballances": did you mean "balances"? (the headers are ` + headers + ")"},
		{"a header with an underscore", line(5, "votes: manual\nCheckpoint_Interval: 5"), `x.case:6: unknown header "Checkpoint_Interval": did you mean "checkpoint-interval"? (the headers are ` + headers + ")"},
		{"a misspelt client", line(8, "clent: send account=alice,amount=10,operation=deposit"), `x.case:8: "clent" is neither a header nor a replica name: did you mean "client"?`},
		{"a word like nothing known", line(6, "liar: P3"), `x.case:6: "liar" is neither a header (` + headers + `) nor a replica name (P0, P1, ...)`},
		{"a letter for a digit in a replica", line(10, "Pl, P2, P3: prepare yes"), `x.case:10: unknown replica "Pl": did you mean P1?`},
		{"a send with no operation", line(8, "client: send"), "x.case:8: " + noOp},
		{"a queue with no operation", line(8, "client: queue"), "x.case:8: " + noOp},
		{"times with no operation", line(8, "client: send times 3"), "x.case:8: " + noOp},
		{"an invalid request with no operation", line(8, "client: send (invalid)"), "x.case:8: " + noOp},
		{"nothing for the client", line(8, "client:"), "x.case:8: " + noOp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.err, parseErr(tt.text))
		})
	}
}

func TestParseIgnoresTabsAndByteOrderMarks(t *testing.T) {
	want, err := Parse("x.case", depositWith(1, func(l string) string { return l }))
	require.NoError(t, err)
	tests := []struct {
		name string
		text string
	}{
		{"a tab after expect", depositWith(17, func(string) string { return "expect\tP0, P1, P2, P3:\tbalance alice=110" })},
		{"tabs in a step", depositWith(10, func(string) string { return "P1,\tP2,\tP3:\tprepare\tyes" })},
		{"a byte-order mark", "\ufeff" + depositWith(1, func(l string) string { return l })},
		{"a byte-order mark and CRLF line ends", "\ufeff" + strings.ReplaceAll(depositWith(1, func(l string) string { return l }), "\n", "\r\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("x.case", tt.text)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
	c, err := Parse("x.case", depositWith(14, func(l string) string { return l + "\ncheck\tP0:\texecuted 1" }))
	require.NoError(t, err, "a tab after check")
	assert.Equal(t, Assert, c.Steps[len(c.Steps)-1].Action)
	assert.Equal(t, "check P0: executed 1", c.Steps[len(c.Steps)-1].Text)
}
