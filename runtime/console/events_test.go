package console

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"pbftlab/lab"
)

func TestDescribeDelivery(t *testing.T) {
	req := &lab.Request{Client: "c", Timestamp: 7, Op: "account=a,amount=1,operation=deposit"}
	for _, tc := range []struct {
		from lab.ID
		m    lab.Message
		want string
	}{
		{lab.Client, req, "request from the client: account=a,amount=1,operation=deposit (client c, timestamp 7)"},
		{2, req, "request passed on by P2: account=a,amount=1,operation=deposit (client c, timestamp 7)"},
		{0, &lab.PrePrepare{View: 0, Seq: 1, Request: req}, "pre-prepare received from P0: n1 v0 account=a,amount=1,operation=deposit"},
		{1, &lab.PrePrepare{View: 1, Seq: 3}, "pre-prepare received from P1: n3 v1 null request"},
		{2, &lab.Prepare{Seq: 1, Replica: 2, Yes: true}, "prepare yes from P2 on n1 v0"},
		{3, &lab.Prepare{Seq: 1, Replica: 3}, "prepare no from P3 on n1 v0"},
		{2, &lab.Commit{Seq: 1, Replica: 2, Yes: true}, "ack commit from P2 on n1 v0"},
		{2, &lab.Commit{Seq: 1, Replica: 2}, "ack abort from P2 on n1 v0"},
		{1, &lab.Checkpoint{Seq: 100, Digest: "ab", Replica: 1}, "checkpoint from P1: n100 digest ab"},
		{2, &lab.ViewChange{View: 1, Replica: 2}, "view change from P2: asks for view 1 (stable n0, 0 prepared)"},
		{1, &lab.NewView{View: 1}, "new view from P1: view 1, on 0 view changes, re-issuing 0 pre-prepares"},
		{3, &lab.StateRequest{Replica: 3}, "state request from P3"},
		{1, &lab.StateReply{Replica: 1, View: 2}, "state from P1: view 2, checkpoint n0, 0 committed above it"},
	} {
		assert.Equal(t, tc.want, describeDelivery(tc.from, tc.m))
	}
}

func TestStatusChanges(t *testing.T) {
	req := &lab.Request{Client: "c", Timestamp: 1, Op: "account=a,amount=1,operation=deposit"}
	entry := func(phase lab.Phase) lab.Entry {
		return lab.Entry{Seq: 1, Request: req, Phase: phase, PrepareYes: []lab.ID{2, 0, 1}, CommitYes: []lab.ID{0, 1, 2}}
	}
	base := lab.Status{ID: 1, Primary: 0}
	with := func(f func(*lab.Status)) lab.Status {
		s := base
		f(&s)
		return s
	}
	for _, tc := range []struct {
		name      string
		prev, now lab.Status
		want      []string
	}{
		{"nothing", base, base, nil},
		{"a backup accepts a pre-prepare (shown as it is received)", base, with(func(s *lab.Status) { s.Log = []lab.Entry{entry(lab.PhasePrePrepared)} }), nil},
		{"the primary orders a request", lab.Status{ID: 0}, lab.Status{ID: 0, Log: []lab.Entry{entry(lab.PhasePrePrepared)}},
			[]string{"n1 pre-prepared: account=a,amount=1,operation=deposit (client c, timestamp 1)"}},
		{"prepared", with(func(s *lab.Status) { s.Log = []lab.Entry{entry(lab.PhasePrePrepared)} }), with(func(s *lab.Status) { s.Log = []lab.Entry{entry(lab.PhasePrepared)} }),
			[]string{"n1 prepared: prepare yes from P0 P1 P2, no from none"}},
		{"committed and executed", with(func(s *lab.Status) { s.Log = []lab.Entry{entry(lab.PhasePrepared)} }), with(func(s *lab.Status) {
			s.Log = []lab.Entry{entry(lab.PhaseCommitted)}
			s.History = []lab.Outcome{{Seq: 1, Request: *req, Committed: true, Result: "a=1"}}
		}), []string{"n1 committed: commit from P0 P1 P2, abort from none", "executed n1: c#1 account=a,amount=1,operation=deposit committed (a=1)"}},
		{"aborted", with(func(s *lab.Status) { s.Log = []lab.Entry{entry(lab.PhasePrePrepared)} }), with(func(s *lab.Status) { s.Log = []lab.Entry{entry(lab.PhaseAborted)} }),
			[]string{"n1 aborted: prepare yes P0 P1 P2, no none; commit P0 P1 P2, abort none"}},
		{"a view change asked for by itself", base, with(func(s *lab.Status) { s.View, s.Primary, s.ViewChanging = 1, 1, true }),
			[]string{"asked for view 1, which this replica is to lead: it starts once 2f+1 replicas ask for it (its view-change timer expired)"}},
		{"a new view led by this replica", with(func(s *lab.Status) { s.View, s.Primary, s.ViewChanging = 1, 1, true }), with(func(s *lab.Status) { s.View, s.Primary = 1, 1 }),
			[]string{"entered view 1, led by P1 (this replica leads it: it sent NEW-VIEW)"}},
		{"a new view led by another, learnt by state transfer", base, with(func(s *lab.Status) { s.View, s.Primary = 2, 2 }), []string{"entered view 2, led by P2"}},
		{"a view it leads, learnt by state transfer after a restart", base, with(func(s *lab.Status) { s.View, s.Primary = 1, 1 }), []string{"entered view 1, led by P1 (this replica leads it)"}},
		{"a re-issued entry executed already is left to Events, which sums up its votes", with(func(s *lab.Status) {
			s.LastExecuted = 1
			s.Log = []lab.Entry{entry(lab.PhaseCommitted)}
		}), with(func(s *lab.Status) {
			s.View, s.Primary, s.LastExecuted = 1, 2, 1
			e := entry(lab.PhasePrePrepared)
			e.View = 1
			s.Log = []lab.Entry{entry(lab.PhaseCommitted), e}
		}), []string{"entered view 1, led by P2"}},
		{"a stable checkpoint", base, with(func(s *lab.Status) { s.StableSeq, s.Low, s.High = 100, 100, 300 }), []string{"stable checkpoint now n100: watermarks (100, 300]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, statusChanges(tc.prev, tc.now, stepCause{}))
		})
	}
	transferred := statusChanges(with(func(s *lab.Status) { s.Log = []lab.Entry{entry(lab.PhasePrePrepared)} }),
		with(func(s *lab.Status) { s.Log = []lab.Entry{entry(lab.PhaseCommitted)} }), stepCause{msg: &lab.StateReply{Replica: 2}, from: 2})
	assert.Equal(t, []string{"n1 committed by state transfer: f+1 replicas report it"}, transferred)
	restarted := statusChanges(base, with(func(s *lab.Status) { s.View, s.Primary = 1, 1 }), stepCause{msg: &lab.StateReply{Replica: 2}, from: 2})
	assert.Equal(t, []string{"entered view 1, led by P1 (state transfer: f+1 replicas report it; this replica leads it, but it sent no NEW-VIEW in this run)"}, restarted)
}

func TestEventsPrintsAsThingsHappen(t *testing.T) {
	var out bytes.Buffer
	e := NewEvents(NewOut(&out), "P1: ", 1, 4)
	e.Delivered(2, &lab.Prepare{Seq: 1, Replica: 2, Yes: true})
	e.Stepped(lab.Status{ID: 1})
	e.Delivered(2, &lab.Prepare{Seq: 1, Replica: 2, Yes: true})
	e.Stepped(lab.Status{ID: 1})
	e.Delivered(2, &lab.ViewChange{View: 1, Replica: 2})
	e.Stepped(lab.Status{ID: 1, View: 1, Primary: 1, ViewChanging: true})
	e.Delivered(2, &lab.NewView{View: 2})
	e.Stepped(lab.Status{ID: 1, View: 2, Primary: 2})
	e.Stepped(lab.Status{ID: 1, View: 2, Primary: 2, Low: 0, High: 4})
	e.Delivered(2, &lab.PrePrepare{View: 2, Seq: 5, Digest: lab.NullDigest})
	e.Delivered(0, &lab.PrePrepare{View: 0, Seq: 1, Digest: lab.NullDigest})
	e.Logged("my own line")
	e.Checkpointed(lab.Snapshot{Seq: 100, Digest: "d"}, true)
	e.Noted("lost the connection to P2")
	e.Logs = false
	e.Logged("hidden")
	assert.Equal(t, `P1: prepare yes from P2 on n1 v0
P1: prepare yes from P2 on n1 v0 (the same message again: it counts once)
P1: view change from P2: asks for view 1 (stable n0, 0 prepared)
P1: asked for view 1, which this replica is to lead: it starts once 2f+1 replicas ask for it (joined the replicas that asked for it)
P1: new view from P2: view 2, on 0 view changes, re-issuing 0 pre-prepares
P1: entered view 2, led by P2 (NEW-VIEW from P2)
P1: pre-prepare received from P2: n5 v2 null request (outside the watermarks (0, 4]: dropped)
P1: pre-prepare received from P0: n1 v0 null request (of view 0, before this replica's view 2: dropped)
P1: log: my own line
P1: checkpoint n100 is stable (digest d)
P1: -- lost the connection to P2
`, out.String())
}

// After a view change, the entries the new view re-issues for sequence
// numbers executed here already are told in one line, and their votes are
// summed up, a line per kind, at the first step that is not one of them:
// a tick, a command, another message. Votes on other entries are printed
// as they come.
func TestEventsSumUpTheReissuedEntriesVotes(t *testing.T) {
	req := &lab.Request{Client: "c", Timestamp: 1, Op: "account=a,amount=1,operation=deposit"}
	executed := func(view, seqs int) lab.Status {
		st := lab.Status{ID: 2, View: view, Primary: lab.ID(view), LastExecuted: 5}
		for seq := 1; seq <= seqs; seq++ {
			st.Log = append(st.Log, lab.Entry{View: view, Seq: seq, Request: req, Phase: lab.PhasePrePrepared})
		}
		return st
	}
	var out bytes.Buffer
	e := NewEvents(NewOut(&out), "P2: ", 2, 4)
	e.Stepped(lab.Status{ID: 2, LastExecuted: 5})
	e.Delivered(1, &lab.NewView{View: 1})
	e.Stepped(executed(1, 3))
	for seq := 1; seq <= 3; seq++ {
		for _, from := range []lab.ID{1, 3} {
			e.Delivered(from, &lab.Prepare{View: 1, Seq: seq, Replica: from, Yes: true})
			e.Stepped(executed(1, 3))
		}
	}
	e.Stepped(executed(1, 3)) // a tick
	e.Stepped(executed(1, 3)) // another: nothing new to tell
	e.Delivered(1, &lab.Commit{View: 1, Seq: 2, Replica: 1, Yes: true})
	e.Stepped(executed(1, 5)) // n4 and n5 re-issued later
	e.Delivered(3, &lab.Commit{View: 1, Seq: 5, Replica: 3})
	e.Stepped(executed(1, 5))
	e.Delivered(1, &lab.Prepare{View: 1, Seq: 6, Replica: 1, Yes: true})
	assert.Equal(t, `P2: new view from P1: view 1, on 0 view changes, re-issuing 0 pre-prepares
P2: entered view 1, led by P1 (NEW-VIEW from P1)
P2: view 1 re-issues n1-n3, executed here already: their votes are summed up, a line per kind, not shown one by one
P2: re-issued n1-n3 of view 1: 6 prepare yes, from P1 P3
P2: view 1 also re-issues n4-n5, executed here already: their votes are summed up too
P2: re-issued n2 of view 1: 1 ack commit, from P1
P2: re-issued n5 of view 1: 1 ack abort, from P3
P2: prepare yes from P1 on n6 v1
`, out.String())
}

// A command the node hands the replica of its own accord prints its
// reason, and the view it asks for is told without a reason of the
// replica's own (no timer expired here); a view change typed afterwards
// asks for the next view, as after a typed one.
func TestEventsTellsWhatTheNodeDid(t *testing.T) {
	var out bytes.Buffer
	e := NewEvents(NewOut(&out), "P0: ", 0, 4)
	e.Acted(lab.Command{Op: lab.OpViewChange}, "this replica restarted as the primary of view 0")
	e.Stepped(lab.Status{ID: 0, View: 1, Primary: 1, ViewChanging: true})
	e.Stepped(lab.Status{ID: 0, View: 2, Primary: 2, ViewChanging: true})
	assert.Equal(t, `P0: -- this replica restarted as the primary of view 0
P0: asked for view 1 (to be led by P1); it starts when P1 sends NEW-VIEW
P0: asked for view 2 (to be led by P2); it starts when P2 sends NEW-VIEW (its view-change timer expired)
`, out.String(), "only the step that follows is the node's")
	assert.True(t, e.AskedByItself(2))
	e.Acted(lab.Command{Op: lab.OpViewChange}, "again")
	e.Stepped(lab.Status{ID: 0, View: 3, Primary: 3, ViewChanging: true})
	assert.False(t, e.AskedByItself(3), "the node's command is not the replica's own move")
}
