package script

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
	"pbftlab/sim"
)

const head = "title: t\npoints: 1\nphases: prepare\nbyzantine: P3\nvotes: manual\n\nclient: send account=alice,amount=5,operation=deposit\n"

func TestAdversaryVerbsParse(t *testing.T) {
	tests := []struct {
		line  string
		check func(t *testing.T, s Step)
	}{
		{"P3: send PREPARE v1 n2 yes to P0, P1 as P2 times 3", func(t *testing.T, s Step) {
			require.Equal(t, Forge, s.Action)
			f := s.Forgery
			assert.Equal(t, lab.KindPrepare, f.Kind)
			assert.Equal(t, []int{1, 2, 3}, []int{f.View, f.Seq, f.Times})
			assert.True(t, f.Yes)
			assert.Equal(t, []lab.ID{0, 1}, f.To)
			assert.Equal(t, lab.ID(2), f.As)
		}},
		{"P3: send COMMIT n1 abort digest of request 1 to P0", func(t *testing.T, s Step) {
			f := s.Forgery
			assert.Equal(t, -1, f.View, "no view: the sender's")
			assert.False(t, f.Yes)
			require.NotNil(t, f.Digest)
			assert.Equal(t, 1, f.Digest.N)
		}},
		{"P3: send CHECKPOINT n4 wrong digest to P0", func(t *testing.T, s Step) {
			assert.True(t, s.Forgery.Wrong)
			assert.Equal(t, 4, s.Forgery.Seq)
		}},
		{"P3: send VIEW-CHANGE v2 stable n4 to P0,P1", func(t *testing.T, s Step) {
			assert.Equal(t, lab.KindViewChange, s.Forgery.Kind)
			assert.Equal(t, 4, s.Forgery.Stable)
			assert.Equal(t, []lab.ID{0, 1}, s.Forgery.To)
		}},
		{"P3: send VIEW-CHANGE v2 stable n4 proof P0, P1 n6, P2 wrong digest prepared n5 v1 request 1 digest of request 1 prepares P0, P4 no v0 n3 wrong digest, P-1 prepared n6 null to P0", func(t *testing.T, s Step) {
			f := s.Forgery
			assert.Equal(t, []int{2, 4}, []int{f.View, f.Stable})
			require.NotNil(t, f.ViewChange)
			assert.Equal(t, []CheckpointClaim{{Replica: 0}, {Replica: 1, Seq: 6}, {Replica: 2, Wrong: true}}, f.ViewChange.Proof)
			require.Len(t, f.ViewChange.Prepared, 2)
			c := f.ViewChange.Prepared[0]
			assert.Equal(t, []int{5, 1, 1}, []int{c.Seq, c.View, c.Request.N})
			require.NotNil(t, c.Digest)
			assert.Equal(t, []VoteClaim{{Replica: 0, View: -1}, {Replica: 4, No: true, View: 0, Seq: 3, Wrong: true}, {Replica: -1, View: -1}}, c.Prepares)
			c = f.ViewChange.Prepared[1]
			assert.Equal(t, CertificateClaim{Seq: 6, View: -1, Request: RequestRef{Null: true}}, c, "no prepares named: 2f matching ones")
			assert.Equal(t, []lab.ID{0}, f.To)
		}},
		{"P3: send VIEW-CHANGE v1 prepared n1 account=bob,amount=3,operation=deposit prepared n2 account=bob,amount=4,operation=deposit to P1", func(t *testing.T, s Step) {
			assert.Equal(t, 2, s.Forgery.registers(), "two operations the client is made to ask for")
		}},
		{"P3: send NEW-VIEW v1 view changes from P2, P0 v2, P2 with n1 request 1 in v0 wrong digest, n2 null, n3 account=bob,amount=3,operation=deposit digest of request 1 to P1, P2 times 2", func(t *testing.T, s Step) {
			f := s.Forgery
			require.NotNil(t, f.NewView)
			assert.Equal(t, []HeldViewChange{{Replica: 2, View: -1}, {Replica: 0, View: 2}, {Replica: 2, View: -1}}, f.NewView.ViewChanges)
			one := RequestRef{N: 1}
			assert.Equal(t, []Reissue{
				{Seq: 1, View: 0, Request: RequestRef{N: 1}, Wrong: true},
				{Seq: 2, View: -1, Request: RequestRef{Null: true}},
				{Seq: 3, View: -1, Request: RequestRef{Op: "account=bob,amount=3,operation=deposit"}, Digest: &one},
			}, f.NewView.PrePrepares)
			assert.Equal(t, []lab.ID{1, 2}, f.To)
			assert.Equal(t, 2, f.Times)
		}},
		{"P3: send NEW-VIEW to P1", func(t *testing.T, s Step) {
			assert.Nil(t, s.Forgery.NewView.ViewChanges, "every view change it holds")
			assert.Empty(t, s.Forgery.NewView.PrePrepares)
		}},
		{"P3: tx account=bob,amount=3,operation=deposit to P1 at n2", func(t *testing.T, s Step) {
			assert.Equal(t, lab.KindPrePrepare, s.Forgery.Kind)
			assert.Equal(t, "account=bob,amount=3,operation=deposit", s.Forgery.Request.Op)
			assert.Equal(t, 2, s.Forgery.Seq)
		}},
		{"P3: send PRE-PREPARE v0 n1 null to P1", func(t *testing.T, s Step) {
			assert.True(t, s.Forgery.Request.Null)
		}},
		{"P3: lie in checkpoints", func(t *testing.T, s Step) {
			assert.Equal(t, LieStep, s.Action)
			assert.Equal(t, lab.KindCheckpoint, s.Lie.Kind)
		}},
		{"P3: lie in new-view null at n3", func(t *testing.T, s Step) {
			assert.Equal(t, Lie{Kind: lab.KindNewView, Seq: 3}, *s.Lie)
		}},
		{"P3: lie in new-view with 2 view changes", func(t *testing.T, s Step) {
			assert.Equal(t, Lie{Kind: lab.KindNewView, ViewChanges: 2, Short: true}, *s.Lie)
		}},
		{"P3: lie in state replies view 9", func(t *testing.T, s Step) {
			assert.Equal(t, Lie{Kind: lab.KindStateReply, View: 10}, *s.Lie)
		}},
		{"P3: lie in state replies snapshot", func(t *testing.T, s Step) {
			assert.Equal(t, Lie{Kind: lab.KindStateReply, Snapshot: true}, *s.Lie)
		}},
		{"P3: lie in state replies aborted", func(t *testing.T, s Step) {
			assert.Equal(t, Lie{Kind: lab.KindStateReply, Aborted: true}, *s.Lie)
		}},
		{"P3: lie in state replies checkpoint n4", func(t *testing.T, s Step) {
			assert.Equal(t, Lie{Kind: lab.KindStateReply, Checkpoint: 4}, *s.Lie)
		}},
		{"P3: withhold PRE-PREPARE n1 from P1, P2", func(t *testing.T, s Step) {
			assert.Equal(t, Lie{Kind: lab.KindPrePrepare, Seq: 1, To: []lab.ID{1, 2}, Silent: true}, *s.Lie)
		}},
		{"P3: stop lying", func(t *testing.T, s Step) { assert.True(t, s.Lie.Stop) }},
		{"network: hold STATE-REPLY, COMMIT n2 from P0, P1 to P2", func(t *testing.T, s Step) {
			assert.Equal(t, Hold, s.Action)
			assert.Equal(t, sim.Filter{Kinds: []lab.Kind{lab.KindStateReply, lab.KindCommit}, Seq: 2, From: []lab.ID{0, 1}, To: []lab.ID{2}}, *s.Filter)
		}},
		{"network: release to P2 in reverse order", func(t *testing.T, s Step) {
			assert.Equal(t, Release, s.Action)
			assert.True(t, s.Reverse)
		}},
		{"network: reorder", func(t *testing.T, s Step) { assert.True(t, s.On) }},
		{"P0 (primary): account=alice,amount=5,operation=deposit", func(t *testing.T, s Step) {
			assert.Equal(t, Data, s.Action, "the data> line of the lab's two-line tx")
			assert.Equal(t, "account=alice,amount=5,operation=deposit", s.Op)
		}},
		{"network: keep order", func(t *testing.T, s Step) { assert.Equal(t, Reorder, s.Action); assert.False(t, s.On) }},
		{"client: queue account=alice,amount=5,operation=deposit times 2", func(t *testing.T, s Step) {
			assert.Equal(t, Queue, s.Action)
			assert.Equal(t, 2, s.Times)
		}},
		{"tick: until P1, P2: view 1 primary P1, at most 50", func(t *testing.T, s Step) {
			assert.Equal(t, TickUntil, s.Action)
			assert.Equal(t, 50, s.Ticks)
			assert.Equal(t, ExpectView, s.Expect.Kind)
			assert.Equal(t, []lab.ID{1, 2}, s.Expect.Targets)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			c, err := Parse("x.case", head+tt.line+"\n\nexpect P0: executed 0\n")
			require.NoError(t, err)
			tt.check(t, c.Steps[len(c.Steps)-1])
		})
	}
}

func TestAdversaryVerbsRefuse(t *testing.T) {
	tests := []struct{ line, want string }{
		{"P1: send PREPARE v0 n1 yes to P0", "P1 is honest"},
		{"P3: send PREPARE v0 n1 maybe to P0", "want yes or no"},
		{"P3: send PREPARE v0 n1 yes", "say whom it goes to"},
		{"P3: send PREPARE v0 yes to P1", "sequence number"},
		{"P3: send PRE-PREPARE v0 n1 request 1 as P1 to P2", "names no replica as its sender"},
		{"P3: send STATE-REPLY to P1", "cannot forge this kind"},
		{"P3: send VIEW-CHANGE v1 prepared request 1 to P1", "want the sequence number"},
		{"P3: send VIEW-CHANGE v1 prepared n1 request 1 prepares to P1", "want \"prepares P1, P2\""},
		{"P3: send VIEW-CHANGE v1 prepared n1 request 1 prepares P1 maybe to P1", "unexpected \"maybe\""},
		{"P3: send VIEW-CHANGE v1 stable n2 proof P0 sideways to P1", "unexpected \"sideways\""},
		{"P3: send VIEW-CHANGE v1 wrong digest to P1", "carries no digest of its own"},
		{"P3: send NEW-VIEW v1 view changes to P1", "view changes from"},
		{"P3: send NEW-VIEW v1 with n1 request 1 sideways to P1", "unexpected \"sideways\""},
		{"P3: send NEW-VIEW v1 with request 1 to P1", "want \"nS request N\""},
		{"P3: send NEW-VIEW v1 view changes from P0 v to P1", "P0 vV"},
		{"P3: send NEW-VIEW v1 to P1 as P2", "names no replica as its sender"},
		{"P3: send PREPARE v0 n1 yes to P9", "not a replica of this 4-replica cluster"},
		{"P3: lie in everything", "unknown lie"},
		{"P3: lie in state replies checkpoint n0", "checkpoint nN"},
		{"P3: lie in state replies checkpoint 4", "checkpoint nN"},
		{"network: hold PREPARE sideways", "unexpected"},
		{"network: release to P7", "not a replica"},
		{"tick: until P1: view 1 primary P1", "at most"},
		{"client: send account=alice,amount=-5,operation=deposit", "not a positive whole number"},
		{"client: send account=alice,amount=5,operation=steal", "unknown operation"},
		{"client: send account=alice,amount=5,operation=deposit x3", `write "times 3"`},
		{"client: send account=alice,amount=5,operation=deposit times 99999999999", "times 99999999999: at most 5000 requests"},
		{"client: send account=alice,amount=l00,operation=deposit", "a letter l or O"},
		{"Pl: prepare yes", `did you mean P1?`},
		{"PO (primary): tx", `did you mean P0?`},
		{"P0 (primary): account=alice,amount=l00,operation=deposit", "a letter l or O"},
		{"P0: tx account=alice,amount=5,operation=deposit P1: prepare yes", "two commands on one line"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			_, err := Parse("x.case", head+tt.line+"\n\nexpect P0: executed 0\n")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "x.case:8:", "file and line")
		})
	}
}

func TestInvalidOnPurpose(t *testing.T) {
	c, err := Parse("x.case", head+"client: send account=alice,amount=-5,operation=deposit (invalid)\n\nexpect P0: request 2 not committed\n")
	require.NoError(t, err)
	assert.Equal(t, "account=alice,amount=-5,operation=deposit", c.Steps[1].Op)
}

func TestNewExpectationsParse(t *testing.T) {
	tests := []struct {
		line  string
		check func(t *testing.T, e Expect)
	}{
		{"expect P1: request 1 committed at n3 in view 2", func(t *testing.T, e Expect) {
			assert.Equal(t, WantCommitted, e.Want)
			assert.Equal(t, 3, e.AtSeq)
			assert.Equal(t, 2, e.InView)
		}},
		{"expect P1: request 1 not committed", func(t *testing.T, e Expect) { assert.Equal(t, WantNotCommitted, e.Want) }},
		{"expect P1: request 1 not pre-prepared", func(t *testing.T, e Expect) { assert.Equal(t, WantNotPrePrepared, e.Want) }},
		{"expect client: request 1 not decided", func(t *testing.T, e Expect) { assert.Equal(t, WantUndecided, e.Want) }},
		{"expect P1: null request at n2", func(t *testing.T, e Expect) { assert.Equal(t, ExpectNull, e.Kind); assert.Equal(t, 2, e.N) }},
		{"expect P1: no view change", func(t *testing.T, e Expect) { assert.Equal(t, ExpectView, e.Kind); assert.Equal(t, 0, e.View) }},
		{"expect P1: not in view 1", func(t *testing.T, e Expect) { assert.True(t, e.Not); assert.Equal(t, 1, e.View) }},
		{"expect P1: sent at most 12 VIEW-CHANGE messages", func(t *testing.T, e Expect) {
			assert.Equal(t, ExpectSentAtMost, e.Kind)
			assert.Equal(t, lab.KindViewChange, e.Msg)
			assert.Equal(t, 12, e.N)
		}},
		{"expect P1: sent at least 3 messages", func(t *testing.T, e Expect) {
			assert.Equal(t, ExpectSentAtMost, e.Kind)
			assert.True(t, e.Not, "at least")
			assert.Equal(t, 3, e.N)
		}},
		{"expect P1: snapshot not in final checkpoint file", func(t *testing.T, e Expect) { assert.True(t, e.Not) }},
		{"expect P1: log starts after n4", func(t *testing.T, e Expect) { assert.Equal(t, ExpectLogAfter, e.Kind); assert.Equal(t, 4, e.N) }},
		{"expect P3: history agrees with P0", func(t *testing.T, e Expect) {
			assert.Equal(t, ExpectHistoryAgrees, e.Kind)
			assert.Equal(t, lab.ID(0), e.Other)
		}},
		{"expect P2, P3: log agrees with P1", func(t *testing.T, e Expect) {
			assert.Equal(t, ExpectLogAgrees, e.Kind)
			assert.Equal(t, lab.ID(1), e.Other)
		}},
		{"expect P0, P1: votes at n2: prepare yes P1 P0, no none; commit P1 P0, abort P3", func(t *testing.T, e Expect) {
			assert.Equal(t, ExpectVotes, e.Kind)
			assert.Equal(t, 2, e.N)
			assert.Equal(t, &Tally{Prepare: true, Commit: true, PrepareYes: []lab.ID{0, 1}, CommitYes: []lab.ID{0, 1}, CommitNo: []lab.ID{3}}, e.Votes)
		}},
		{"expect P0: votes at n1: commit none, abort P2 P3", func(t *testing.T, e Expect) {
			assert.Equal(t, &Tally{Commit: true, CommitNo: []lab.ID{2, 3}}, e.Votes)
		}},
		{"expect P0: votes at n1: prepare yes P0, no P1", func(t *testing.T, e Expect) {
			assert.Equal(t, &Tally{Prepare: true, PrepareYes: []lab.ID{0}, PrepareNo: []lab.ID{1}}, e.Votes)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			// The view change puts a later view, and null requests,
			// within reach of the expectations.
			c, err := Parse("x.case", head+"P1, P2: view change\n\n"+tt.line+"\n")
			require.NoError(t, err)
			tt.check(t, c.Expects[0])
		})
	}
	for _, bad := range []string{"expect client: request 1 prepared", "expect P1: request 1 not prepared at n2", "expect P1: request 1 committed at 2",
		"expect P1: log starts after 4", "expect P1: history agrees with P1", "expect P1: log agrees with P9", "expect P1: log agrees with client", "expect P1: history agrees with Pl",
		"expect P1: votes at n1", "expect P1: votes at 1: commit P0, abort none", "expect P1: votes at n1: commit P0", "expect P1: votes at n1: commit P0, no P1",
		"expect P1: votes at n1: commit, abort P1", "expect P1: votes at n1: commit P0 P0, abort none", "expect P1: votes at n1: commit P4, abort none",
		"expect P1: votes at n1: commit P0, abort none; commit P1, abort none", "expect P1: votes at n1: prepare P0, no none", "expect P1: votes at n1: commit client, abort none"} {
		_, err := Parse("x.case", head+"\n"+bad+"\n")
		assert.Error(t, err, bad)
	}
}

// An outcome in the history answers the prepared expectations: a
// committed request prepared, an aborted one counts as not prepared.
func TestPreparedOfADecidedRequest(t *testing.T) {
	req := lab.Request{Client: "c", Timestamp: 1, Op: "account=a,amount=1,operation=deposit"}
	tests := []struct {
		want      Want
		committed bool
		holds     bool
	}{
		{WantPrepared, true, true},
		{WantPrepared, false, false},
		{WantNotPrepared, true, false},
		{WantNotPrepared, false, true},
		{WantPrePrepared, false, true},
		{WantUndecided, true, false},
	}
	for _, tt := range tests {
		st := lab.Status{History: []lab.Outcome{{Seq: 1, Request: req, Committed: tt.committed}}}
		_, ok := checkOutcome(Failure{}, req, Expect{Request: 1, Want: tt.want, InView: -1}, st, 4)
		assert.Equal(t, tt.holds, ok, "%s when %v", tt.want, tt.committed)
	}
}

// A snapshot lie keeps the checkpoint's sequence number and digest and
// changes what it holds, so that the digest no longer describes it.
func TestSnapshotLieKeepsTheDigest(t *testing.T) {
	b := lab.NewBank(map[string]int{"alice": 10}, nil)
	snap := b.Snapshot()
	m := Lie{Kind: lab.KindStateReply, Snapshot: true}.rewrite(1, &lab.StateReply{Replica: 3, Checkpoint: snap})
	got := m.(*lab.StateReply).Checkpoint
	assert.Equal(t, snap.Seq, got.Seq)
	assert.Equal(t, snap.Digest, got.Digest)
	assert.Equal(t, map[string]int{"alice": 1009, "mallory": 999}, got.Balances)
	assert.Error(t, lab.NewBank(nil, nil).Restore(got), "its contents do not match its digest")
	assert.Equal(t, map[string]int{"alice": 10}, snap.Balances, "the replica's own snapshot is untouched")
}

// An aborted-entries lie changes the request of every aborted entry and
// nothing else: each keeps the null digest, so only its request tells it
// from what the others report; committed entries and the null request
// stay true.
func TestAbortedLieKeepsTheNullDigest(t *testing.T) {
	req := func(ts int64) *lab.Request {
		return &lab.Request{Client: "c", Timestamp: ts, Op: "account=a,amount=1,operation=deposit"}
	}
	committed := lab.PrePrepare{Seq: 1, Request: req(1)}
	committed.Digest = lab.Digest(committed.Request)
	entries := []lab.PrePrepare{committed, {Seq: 2, Digest: lab.NullDigest, Request: req(2)}, {Seq: 3, Digest: lab.NullDigest}}
	m := Lie{Kind: lab.KindStateReply, Aborted: true}.rewrite(1, &lab.StateReply{Replica: 3, Committed: slices.Clone(entries)})
	got := m.(*lab.StateReply).Committed
	require.Len(t, got, 3)
	assert.Equal(t, committed, got[0], "a committed entry is untouched")
	assert.Equal(t, lab.NullDigest, got[1].Digest)
	assert.Equal(t, liedOp, got[1].Request.Op)
	assert.Equal(t, int64(2), got[1].Request.Timestamp)
	assert.Equal(t, entries[2], got[2], "the null request is untouched")
}

// A made-up checkpoint is a state its digest describes, at the sequence
// number the lie names, and the entries at or below it are gone: only the
// f+1 rule, never the digest, tells it from a true one.
func TestCheckpointLieMakesUpAConsistentState(t *testing.T) {
	b := lab.NewBank(map[string]int{"alice": 10}, nil)
	entries := []lab.PrePrepare{{Seq: 1, Digest: lab.NullDigest}, {Seq: 5, Digest: lab.NullDigest}}
	m := Lie{Kind: lab.KindStateReply, Checkpoint: 4}.rewrite(1, &lab.StateReply{Replica: 3, Checkpoint: b.Snapshot(), Committed: entries})
	got := m.(*lab.StateReply)
	assert.Equal(t, 4, got.Checkpoint.Seq)
	assert.Equal(t, map[string]int{"alice": 1009, "mallory": 999}, got.Checkpoint.Balances)
	restored := lab.NewBank(nil, nil)
	require.NoError(t, restored.Restore(got.Checkpoint), "its digest matches its contents")
	assert.NotEqual(t, b.Digest(), got.Checkpoint.Digest)
	assert.Equal(t, []lab.PrePrepare{{Seq: 5, Digest: lab.NullDigest}}, got.Committed, "entries at or below the made-up checkpoint are dropped")
}

// A replica that caught up by state transfer may hold less history than
// another: the histories are compared where both reach, and one decision
// taken differently there is found.
func TestHistoryAgrees(t *testing.T) {
	req := func(ts int64) lab.Request {
		return lab.Request{Client: "c", Timestamp: ts, Op: "account=a,amount=1,operation=deposit"}
	}
	done := func(seq, view int, ts int64, committed bool, result string) lab.Outcome {
		return lab.Outcome{View: view, Seq: seq, Request: req(ts), Committed: committed, Result: result}
	}
	p0 := lab.Status{History: []lab.Outcome{done(1, 0, 1, true, "a=1"), done(2, 0, 2, true, "a=2"), done(3, 1, 3, false, "aborted")}}
	tests := []struct {
		name  string
		h     []lab.Outcome
		holds bool
		found string
	}{
		{"the same", p0.History, true, ""},
		{"from a later checkpoint", p0.History[1:], true, ""},
		{"behind", p0.History[:2], true, ""},
		{"nothing yet", nil, true, ""},
		{"another view", []lab.Outcome{done(2, 0, 2, true, "a=2"), done(3, 0, 3, false, "aborted")}, false, "c#3 account=a,amount=1,operation=deposit aborted at n3 in view 0, where P0 has c#3 account=a,amount=1,operation=deposit aborted at n3 in view 1"},
		{"another result", []lab.Outcome{done(2, 0, 2, true, "aborted")}, false, "in view 0 (aborted), where P0 has"},
		{"a gap", []lab.Outcome{done(1, 0, 1, true, "a=1"), done(3, 1, 3, false, "aborted")}, false, "where P0 has c#2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := checkHistoryAgrees(Failure{}, 0, lab.Status{History: tt.h}, p0)
			assert.Equal(t, tt.holds, ok)
			assert.Contains(t, f.Found, tt.found)
		})
	}
}

// Logs are compared at the sequence numbers both hold, votes aside.
func TestLogAgrees(t *testing.T) {
	r := &lab.Request{Client: "c", Timestamp: 1, Op: "account=a,amount=1,operation=deposit"}
	p1 := lab.Status{Log: []lab.Entry{
		{Seq: 1, Digest: lab.NullDigest, Phase: lab.PhaseCommitted, Executed: true},
		{Seq: 2, Digest: lab.Digest(r), Request: r, Phase: lab.PhaseAborted, Executed: true, PrepareYes: []lab.ID{1, 2}},
	}}
	same := lab.Status{Log: []lab.Entry{
		{Seq: 2, Digest: lab.Digest(r), Request: r, Phase: lab.PhaseAborted, Executed: true},
		{Seq: 3, Phase: lab.PhasePrePrepared},
	}}
	_, ok := checkLogAgrees(Failure{}, 1, same, p1)
	assert.True(t, ok, "n2 alike, votes aside; n3 is P0's alone")
	other := lab.Status{Log: []lab.Entry{{Seq: 2, Digest: lab.Digest(r), Request: r, Phase: lab.PhaseCommitted, Executed: true}}}
	f, ok := checkLogAgrees(Failure{}, 1, other, p1)
	assert.False(t, ok)
	assert.Equal(t, 2, f.Seq)
	assert.Contains(t, f.Found, "committed, executed, where P1 has c#1 account=a,amount=1,operation=deposit (digest "+lab.Digest(r)+"), aborted, executed")
}

// The log must hold nothing at or below the sequence number named.
func TestLogStartsAfter(t *testing.T) {
	c, err := Parse("x.case", head+"\nexpect P0: log starts after n2\n")
	require.NoError(t, err)
	e := c.Expects[0]
	for _, tt := range []struct {
		log   []lab.Entry
		holds bool
	}{
		{nil, true},
		{[]lab.Entry{{Seq: 3}, {Seq: 4}}, true},
		{[]lab.Entry{{Seq: 2}, {Seq: 3}}, false},
	} {
		f, ok := checkReplica(&withLog{log: tt.log}, e, 0)
		assert.Equal(t, tt.holds, ok, "%v: %s", tt.log, f.Found)
	}
}

// A votes line holds when the entry counts exactly its senders, in any
// order, in the parts it names; a sender counted twice, or on both sides,
// breaks it.
func TestVotes(t *testing.T) {
	c, err := Parse("x.case", head+"\nexpect P0: votes at n2: commit P0 P1 P3, abort none\nexpect P0: votes at n2: prepare yes P0 P1, no P3\n")
	require.NoError(t, err)
	commit, prepare := c.Expects[0], c.Expects[1]
	at2 := func(e lab.Entry) []lab.Entry { e.Seq = 2; return []lab.Entry{{Seq: 1}, e} }
	tests := []struct {
		name  string
		e     Expect
		log   []lab.Entry
		holds bool
		found string
	}{
		{"the same, in another order", commit, at2(lab.Entry{CommitYes: []lab.ID{3, 0, 1}, PrepareNo: []lab.ID{2}}), true, ""},
		{"counted on both sides", commit, at2(lab.Entry{CommitYes: []lab.ID{0, 1, 3}, CommitNo: []lab.ID{3}}), false, "commit P0 P1 P3, abort P3"},
		{"counted twice", commit, at2(lab.Entry{CommitYes: []lab.ID{0, 1, 3, 3}}), false, "commit P0 P1 P3 P3"},
		{"one missing", commit, at2(lab.Entry{CommitYes: []lab.ID{0, 1}}), false, "commit P0 P1, abort none"},
		{"prepares alone", prepare, at2(lab.Entry{PrepareYes: []lab.ID{1, 0}, PrepareNo: []lab.ID{3}, CommitNo: []lab.ID{2}}), true, ""},
		{"no entry there", commit, []lab.Entry{{Seq: 3}}, false, "no log entry at n2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := checkReplica(&withLog{log: tt.log}, tt.e, 0)
			assert.Equal(t, tt.holds, ok, f.Found)
			assert.Contains(t, f.Found, tt.found)
			assert.Equal(t, 2, f.Seq)
		})
	}
	f, _ := checkReplica(&withLog{}, commit, 0)
	assert.Equal(t, "votes at n2: commit P0 P1 P3, abort none", f.Expected)
}

// withLog is the stub with a log.
type withLog struct {
	stub
	log []lab.Entry
}

func (s *withLog) Status(id lab.ID) (lab.Status, error) {
	st, err := s.stub.Status(id)
	st.Log = s.log
	return st, err
}
