package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
	"pbftlab/lab/sim"
)

func TestFromSimPairsDeliveriesWithSends(t *testing.T) {
	s := runEcho(1, sim.Options{Seed: 3, Duplicate: 0.5})
	tr := FromSim(s)
	assert.Equal(t, 4, tr.Replicas)
	assert.Zero(t, tr.Omitted)
	byIndex := map[int]Event{}
	kinds := map[string]int{}
	dups := 0
	for _, e := range tr.Events {
		byIndex[e.Index] = e
		kinds[e.Kind]++
		if e.Dup {
			dups++
		}
	}
	// One request, the primary's three pre-prepares, three backups' three
	// prepares each (the primary's pre-prepare is its vote), and a reply.
	assert.Equal(t, 1+3+9+1, kinds[KindSend])
	assert.GreaterOrEqual(t, kinds[KindDeliver], kinds[KindSend])
	assert.Equal(t, kinds[KindDeliver]-kinds[KindSend], dups, "every delivery past the first of a send is a duplicate")
	for _, e := range tr.Events {
		if e.Kind != KindDeliver {
			continue
		}
		send, ok := byIndex[e.Send]
		require.True(t, ok, "delivery %d has its send in the trace", e.Index)
		assert.Equal(t, KindSend, send.Kind)
		assert.Equal(t, send.From, e.From)
		assert.Equal(t, send.To, e.To)
		assert.Equal(t, send.Msg.Text, e.Msg.Text)
		assert.Less(t, e.Send, e.Index)
	}
	assert.Contains(t, tr.Transcript, "P0 -> P1  PRE-PREPARE v0 n1")
}

func TestFromSimIsDeterministic(t *testing.T) {
	a, err := json.Marshal(FromSim(runEcho(2, sim.Options{Seed: 9, Duplicate: 0.3})))
	require.NoError(t, err)
	b, err := json.Marshal(FromSim(runEcho(2, sim.Options{Seed: 9, Duplicate: 0.3})))
	require.NoError(t, err)
	assert.Equal(t, string(a), string(b))
}

func TestFromSimMarksCrashesAndLostMessages(t *testing.T) {
	s := sim.New(newEcho, sim.Options{Seed: 1})
	s.Crash(2)
	s.Send("account=alice,amount=1,operation=deposit")
	require.NoError(t, s.Recover(2))
	tr := FromSim(s)
	var kinds []string
	for _, e := range tr.Events {
		if e.Kind == KindCrash || e.Kind == KindRecover || (e.Kind == KindLost && e.To == "P2") {
			kinds = append(kinds, e.Kind)
		}
	}
	require.NotEmpty(t, kinds)
	assert.Equal(t, KindCrash, kinds[0])
	assert.Equal(t, KindRecover, kinds[len(kinds)-1])
	assert.Contains(t, kinds, KindLost)
}

func TestFromSimMarksByzantineVotes(t *testing.T) {
	s := runEcho(1, sim.Options{Seed: 1})
	require.NoError(t, s.VoteTo(3, 1, lab.OpPrepare, false))
	tr := FromSim(s)
	var forged []Event
	for _, e := range tr.Events {
		if e.Forged {
			forged = append(forged, e)
		}
	}
	// Sent twice, delivered twice: the send events and their deliveries.
	require.Len(t, forged, 4)
	for _, e := range forged {
		assert.Equal(t, "P3", e.From)
		assert.Equal(t, "P1", e.To)
		assert.Equal(t, "no", e.Msg.Vote)
	}
}

func TestFromSimIsBounded(t *testing.T) {
	// Enough requests for thousands of messages.
	s := runEcho(150, sim.Options{Seed: 1})
	tr := FromSim(s)
	assert.Len(t, tr.Events, MaxEvents)
	assert.Positive(t, tr.Omitted)
	assert.Equal(t, MaxEvents-MaxEvents/3, tr.Gap)
	all := s.Trace().Events()
	assert.Equal(t, all[len(all)-1].Index, tr.Events[len(tr.Events)-1].Index, "the end of the run is kept")
	lines := strings.Split(strings.TrimRight(tr.Transcript, "\n"), "\n")
	assert.LessOrEqual(t, len(lines), MaxTranscriptLines+1)
	assert.Contains(t, tr.Transcript, "lines left out")
	data, err := json.Marshal(tr)
	require.NoError(t, err)
	assert.Less(t, len(data), 1<<20, "a trace stays under a megabyte")
}

func TestMsgOfLabelsViewSequenceAndVote(t *testing.T) {
	for _, tc := range []struct {
		m     lab.Message
		label string
		vote  string
	}{
		{&lab.PrePrepare{View: 2, Seq: 5}, "v2 n5", ""},
		{&lab.Prepare{View: 0, Seq: 1, Yes: false}, "v0 n1 no", "no"},
		{&lab.Prepare{View: 0, Seq: 1, Yes: true}, "v0 n1 yes", "yes"},
		{&lab.Commit{View: 1, Seq: 3, Commit: false}, "v1 n3 abort", "abort"},
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
	assert.Equal(t, "", boundLines("", 10, 10))
	assert.Equal(t, "a\nb\n", boundLines("a\nb", 10, 10))
	got := boundLines(strings.Repeat("x\n", 100), 8, 10)
	assert.Equal(t, "x\nx\n... 92 lines left out ...\nx\nx\nx\nx\nx\nx\n", got)
	long := boundLines("ééééé", 10, 3) // a cut never splits a character
	assert.True(t, strings.HasPrefix(long, "é "), long)
}
