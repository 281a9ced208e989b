package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

func TestMsgOfLabelsViewSequenceAndVote(t *testing.T) {
	for _, tc := range []struct {
		m     lab.Message
		label string
		vote  string
	}{
		{&lab.PrePrepare{View: 2, Seq: 5}, "v2 n5", ""},
		{&lab.Prepare{View: 0, Seq: 1, Yes: false}, "v0 n1 no", "no"},
		{&lab.Prepare{View: 0, Seq: 1, Yes: true}, "v0 n1 yes", "yes"},
		{&lab.Commit{View: 1, Seq: 3, Yes: false}, "v1 n3 abort", "abort"},
		{&lab.Reply{View: 0, Seq: 1, Committed: true}, "v0 n1 committed", "committed"},
		{&lab.ViewChange{View: 3}, "v3", ""},
		{&lab.NewView{View: 3}, "v3", ""},
		{&lab.Checkpoint{Seq: 100}, "n100", ""},
		{&lab.Request{Client: "c", Timestamp: 4}, "c#4", ""},
	} {
		got := MsgOf(tc.m)
		assert.Equal(t, tc.label, got.Label, got.Text)
		assert.Equal(t, tc.vote, got.Vote, got.Text)
		assert.Equal(t, lab.KindOf(tc.m).String(), got.Kind)
	}
}

func TestBoundLines(t *testing.T) {
	assert.Equal(t, "", BoundLines("", 10, 10))
	assert.Equal(t, "a\nb\n", BoundLines("a\nb", 10, 10))
	got := BoundLines(strings.Repeat("x\n", 100), 8, 10)
	assert.Equal(t, "x\nx\n... 92 lines left out ...\nx\nx\nx\nx\nx\nx\n", got)
	long := BoundLines("ééééé", 10, 3) // a cut never splits a character
	assert.True(t, strings.HasPrefix(long, "é "), long)
}

// A message's strings are the replica's: the text and label of a message
// keep a line's worth, however long the replica made them.
func TestMsgOfBoundsWhatTheReplicaChose(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	got := MsgOf(&lab.Request{Client: long, Timestamp: 1, Op: long})
	assert.LessOrEqual(t, len(got.Text), MaxLineLen+len("…"))
	assert.LessOrEqual(t, len(got.Label), maxLabelName+len("…#1"))
}

func TestFitKeepsATraceWithinItsBound(t *testing.T) {
	big := func() *Trace {
		tr := &Trace{Seed: 1, Failures: []string{strings.Repeat("f", 1<<20)}, Error: "stuck", Transcript: "P0 -> P1 PREPARE"}
		for i := range 20000 {
			tr.Events = append(tr.Events, Event{Kind: KindSend, Index: i, Msg: &Msg{Kind: "REQUEST", Text: strings.Repeat("y", MaxLineLen)}})
		}
		tr.Steps = &Steps{}
		return tr
	}
	for _, max := range []int{64 << 10, 1 << 20} {
		tr := big()
		tr.Fit(max)
		data, err := json.Marshal(tr)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(data), max)
		assert.Contains(t, tr.Cut, "left out")
		assert.Equal(t, "stuck", tr.Error, "what stopped the run stays")
	}
	small := &Trace{Seed: 1, Transcript: "x", Steps: &Steps{}}
	small.Fit(MaxTraceBytes)
	assert.NotNil(t, small.Steps, "a trace within its bound is left whole")
	assert.Empty(t, small.Cut)
}
