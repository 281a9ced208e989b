package script

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/ckptfile"
	"pbftlab/lab"
)

const header = "title: t\npoints: 1\nphases: view-change\n"

func TestParseCheckLines(t *testing.T) {
	tests := []struct {
		name string
		body string
		err  string // "" when the case parses
	}{
		{"a check between steps", "P1: view change\ncheck P1, P2: view 1 primary P1\nP2: status\nexpect P1: view 1 primary P1\n", ""},
		{"a check of a request already sent", "client: send account=a,amount=1,operation=deposit\ncheck client: request 1 committed\nexpect P0: executed 1\n", ""},
		{"a check after the expect lines", "P1: view change\nexpect P1: view 1 primary P1\ncheck P1: view 1 primary P1\n", "expect lines come last"},
		{"a check of a request not sent yet", "check P0: request 1 committed\nclient: send account=a,amount=1,operation=deposit\nexpect P0: executed 1\n", "request 1 is never sent before this line"},
		{"a check of a replica that does not exist", "check P4: executed 0\nexpect P0: executed 0\n", "P4 is not a replica"},
		{"a check with a wrong primary", "check P1: view 1 primary P2\nexpect P0: executed 0\n", "view 1 is led by P1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.case", header+tt.body)
			if tt.err == "" {
				assert.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
			}
		})
	}
}

func TestParseFinalCheckpointExpectation(t *testing.T) {
	c, err := Parse("x.case", header+"P0: checkpoint\nexpect P0, P3: snapshot in final checkpoint file\n")
	require.NoError(t, err)
	require.Len(t, c.Expects, 1)
	assert.Equal(t, ExpectInFinalCheckpoint, c.Expects[0].Kind)
	assert.Equal(t, []lab.ID{0, 3}, c.Expects[0].Targets)

	_, err = Parse("x.case", header+"expect P0: snapshot in the final file\n")
	assert.ErrorContains(t, err, "snapshot in final checkpoint file", "the usage names the expectation")
}

// stub is a cluster whose replicas only change view, and which may keep a
// final checkpoint file.
type stub struct {
	view  int
	final *ckptfile.Final
}

func (s *stub) N() int                                    { return 4 }
func (s *stub) Send(string) int                           { return 1 }
func (s *stub) Request(int) lab.Request                   { return lab.Request{} }
func (s *stub) Outcome(int) (bool, bool)                  { return false, false }
func (s *stub) VoteTo(lab.ID, lab.ID, lab.Op, bool) error { return nil }
func (s *stub) Crash(lab.ID)                              {}
func (s *stub) Recover(lab.ID) error                      { return nil }
func (s *stub) Tick()                                     {}
func (s *stub) Balances(lab.ID) map[string]int            { return nil }
func (s *stub) StableCheckpoints(lab.ID) []int            { return nil }
func (s *stub) Err() error                                { return nil }
func (s *stub) Status(id lab.ID) (lab.Status, error) {
	return lab.Status{ID: id, View: s.view, Primary: lab.Primary(s.view, 4), StableSeq: 100}, nil
}
func (s *stub) Do(_ lab.ID, c lab.Command) error {
	if c.Op == lab.OpViewChange {
		s.view++
	}
	return nil
}

// withFiles is the stub with the lab's checkpoint files.
type withFiles struct{ stub }

func (s *withFiles) FinalCheckpoint() (string, ckptfile.Final, error) {
	return "final_checkpoint_x.log", *s.final, nil
}

func TestRunEvaluatesChecksWhereTheyStand(t *testing.T) {
	// The tick could bring a view change (a backup's timer), so the
	// check after it is one that can hold; the stub's clock moves nothing.
	c, err := Parse("x.case", header+`check P1: view 0 primary P0
tick: 1
check P1: view 1 primary P1
P1: view change
check P1: view 1 primary P1
expect P1: view 1 primary P1
`)
	require.NoError(t, err)
	var lines []string
	failures, err := Run(c, &stub{}, func(l string) { lines = append(lines, l) })
	require.NoError(t, err)
	require.Len(t, failures, 1, "only the check before the view change fails")
	assert.Equal(t, 6, failures[0].Line)
	assert.Contains(t, failures[0].Error(), "P1 (view 0): expected view 1 led by P1, found view 0 led by P0")
	assert.Contains(t, strings.Join(lines, "\n"), "! check failed: line 6")
}

func TestFinalCheckpointExpectation(t *testing.T) {
	c, err := Parse("x.case", header+"P0: checkpoint\nexpect P0, P1, P2, P3: snapshot in final checkpoint file\n")
	require.NoError(t, err)
	final := &ckptfile.Final{Seq: 100, Digest: "d", Replicas: []ckptfile.Snapshot{
		{Replica: 0, Digest: "d", Match: true},
		{Replica: 1, Digest: "d", Match: true},
		{Replica: 2, Digest: "e"},
		{Replica: 3, Missing: true},
	}}
	failures, err := Run(c, &withFiles{stub{final: final}}, func(string) {})
	require.NoError(t, err)
	require.Len(t, failures, 2)
	assert.Equal(t, "line 5, P2 (view 0, seq 100): expected a snapshot of P2 matching the stable digest in the final checkpoint file, found final_checkpoint_x.log (n100) holds digest e for P2, the stable one is d", failures[0].Error())
	assert.Contains(t, failures[1].Error(), "lists P3 as missing")

	failures, err = Run(c, &stub{}, func(string) {})
	require.NoError(t, err)
	require.Len(t, failures, 4)
	assert.Contains(t, failures[0].Error(), "keeps no checkpoint files")
}

func TestParseExploreHeader(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   Explore
		runs   int
		err    string
	}{
		{header: "1 delay in the first 40 deliveries", want: Explore{1, 40}, runs: 41},
		{header: "2 delays in the first 10 deliveries", want: Explore{2, 10}, runs: 1 + 10 + 10 + 45},
		{header: "2 Delays in the first 1 delivery", want: Explore{2, 1}, runs: 3},
		{header: "one delay in the first 40 deliveries", err: "want"},
		{header: "0 delays in the first 40 deliveries", err: "at least 1"},
		{header: "3 delays in the first 1000 deliveries", err: "more than 2000 orders"},
		{header: "5 delays in the first 1999 deliveries", err: "more than 2000 orders"},
		{header: "1 delay in the first 99999999999 deliveries", err: "more than 2000 orders"},
	} {
		t.Run(tc.header, func(t *testing.T) {
			c, err := Parse("x.case", "title: t\npoints: 1\nphases: prepare\nexplore: "+tc.header+"\nclient: send account=a,amount=1,operation=deposit\nexpect P0: executed 1\n")
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.Contains(t, err.Error(), "x.case:4")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.Explore)
			assert.Equal(t, tc.runs, c.Explore.Runs())
		})
	}
}

func TestRepliesText(t *testing.T) {
	tests := []struct {
		replies []lab.Reply
		want    string
	}{
		{nil, "no replica replied"},
		{[]lab.Reply{{Replica: 1, Committed: true, Result: "alice=100"}}, "only P1 replied committed (alice=100)"},
		{[]lab.Reply{{Replica: 0, Committed: true, Result: "alice=100"}, {Replica: 2, Result: "aborted"}},
			"only P0 replied committed (alice=100), P2 replied aborted"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, repliesText(tt.replies))
	}
}

// An outcome's result follows its word unless it only repeats it: a
// transcript says "aborted", not "aborted (aborted)", and keeps a reason.
func TestResultNote(t *testing.T) {
	for _, tc := range []struct {
		committed bool
		result    string
		want      string
	}{
		{true, "alice=100", " (alice=100)"},
		{true, "rejected: insufficient funds", " (rejected: insufficient funds)"},
		{false, "aborted", ""},
		{false, "", ""},
		{false, "aborted: the view changed", " (aborted: the view changed)"},
	} {
		assert.Equal(t, tc.want, resultNote(tc.committed, tc.result), "%v %q", tc.committed, tc.result)
	}
}
