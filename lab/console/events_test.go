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
		{2, &lab.Commit{Seq: 1, Replica: 2, Commit: true}, "ack commit from P2 on n1 v0"},
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
		{"a view change starts", base, with(func(s *lab.Status) { s.ViewChanging = true }), []string{"view change under way: leaving view 0"}},
		{"a new view led by this replica", base, with(func(s *lab.Status) { s.View, s.Primary = 1, 1 }), []string{"view changed: view 1, primary P1 (this replica leads it)"}},
		{"a new view led by another", base, with(func(s *lab.Status) { s.View, s.Primary = 2, 2 }), []string{"view changed: view 2, primary P2"}},
		{"a stable checkpoint", base, with(func(s *lab.Status) { s.StableSeq, s.Low, s.High = 100, 100, 300 }), []string{"stable checkpoint now n100: watermarks (100, 300]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, statusChanges(tc.prev, tc.now))
		})
	}
}

func TestEventsPrintsAsThingsHappen(t *testing.T) {
	var out bytes.Buffer
	e := NewEvents(NewOut(&out), "P1: ", 1, 4)
	e.Delivered(2, &lab.Prepare{Seq: 1, Replica: 2, Yes: true})
	e.Stepped(lab.Status{ID: 1, View: 1, Primary: 1})
	e.Stepped(lab.Status{ID: 1, View: 1, Primary: 1})
	e.Logged("my own line")
	e.Checkpointed(lab.Snapshot{Seq: 100, Digest: "d"}, true)
	e.Noted("lost the connection to P2")
	e.Logs = false
	e.Logged("hidden")
	assert.Equal(t, `P1: prepare yes from P2 on n1 v0
P1: view changed: view 1, primary P1 (this replica leads it)
P1: log: my own line
P1: checkpoint n100 is stable (digest d)
P1: -- lost the connection to P2
`, out.String())
}
