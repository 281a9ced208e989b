package sim

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

// typedOp is the operation the tests' requests carry. A primary may order
// a request no client sent only for an operation typed at a console, so
// the tests type it with their propose commands.
const typedOp = "account=a,amount=1,operation=deposit"

// fake is a scriptable replica for testing the simulator itself.
type fake struct {
	id   lab.ID
	env  lab.Env
	bank *lab.Bank
	got  []string
	// onDo and onReceive override the default behaviour when set.
	onDo      func(f *fake, c lab.Command) error
	onReceive func(f *fake, from lab.ID, m lab.Message)
	status    func(f *fake) lab.Status
}

func (f *fake) Receive(from lab.ID, m lab.Message) {
	f.got = append(f.got, fmt.Sprintf("%s:%s", from, lab.Describe(m)))
	if f.onReceive != nil {
		f.onReceive(f, from, m)
	}
}
func (f *fake) Tick() {}
func (f *fake) Do(c lab.Command) error {
	if f.onDo != nil {
		return f.onDo(f, c)
	}
	return nil
}
func (f *fake) Status() lab.Status {
	if f.status != nil {
		return f.status(f)
	}
	return lab.Status{ID: f.id}
}

// cluster builds a simulator of fakes, configured by setup.
func cluster(t *testing.T, opts Options, setup func(f *fake)) (*Cluster, []*fake) {
	t.Helper()
	var fakes []*fake
	s := New(func(cfg lab.Config, env lab.Env) lab.Replica {
		f := &fake{id: cfg.ID, env: env, bank: cfg.Bank}
		if setup != nil {
			setup(f)
		}
		fakes = append(fakes, f)
		return f
	}, opts)
	require.NoError(t, s.Err())
	return s, fakes
}

func broadcastOnDo(f *fake, c lab.Command) error {
	for i := range 3 {
		f.env.Broadcast(&lab.Prepare{Seq: i + 1, Replica: f.id, Yes: true})
	}
	return nil
}

func TestLinksAreFIFO(t *testing.T) {
	for seed := range uint64(20) {
		s, fakes := cluster(t, Options{Seed: seed}, func(f *fake) { f.onDo = broadcastOnDo })
		require.NoError(t, s.Do(0, lab.Command{Op: lab.OpProgress}))
		for _, f := range fakes[1:] {
			assert.Equal(t, []string{"P0:PREPARE v0 n1 yes", "P0:PREPARE v0 n2 yes", "P0:PREPARE v0 n3 yes"}, f.got, "seed %d at %s", seed, f.id)
		}
		assert.Empty(t, fakes[0].got, "a broadcast does not reach its sender")
	}
}

func TestMessagesAreCopiedInTransit(t *testing.T) {
	s, fakes := cluster(t, Options{}, func(f *fake) {
		f.onDo = func(f *fake, c lab.Command) error {
			p := &lab.Prepare{Seq: 1, Replica: f.id, Yes: true}
			f.env.Send(1, p)
			p.Seq = 99 // changing it after sending must not reach the receiver
			return nil
		}
	})
	require.NoError(t, s.Do(0, lab.Command{Op: lab.OpProgress}))
	assert.Equal(t, []string{"P0:PREPARE v0 n1 yes"}, fakes[1].got)
}

// A replica's panic value and error text reach every report of every
// spec: each keeps a few kilobytes, however long the replica made it.
func TestValuesFromAReplicaAreBounded(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	s, _ := cluster(t, Options{}, func(f *fake) {
		f.onDo = func(f *fake, c lab.Command) error {
			if c.Op == lab.OpCheckpoint {
				panic(long)
			}
			return errors.New(long)
		}
	})
	err := s.Do(0, lab.Command{Op: lab.OpProgress})
	require.Error(t, err)
	assert.Less(t, len(err.Error()), maxValueText+100, "the error a command returns")
	require.Error(t, s.Do(1, lab.Command{Op: lab.OpCheckpoint}))
	var pe *PanicError
	require.True(t, errors.As(s.Err(), &pe), "got %v", s.Err())
	assert.Less(t, len(pe.Value), maxValueText+100, "a panic's value")
	assert.Contains(t, pe.Value, "more bytes left out")
}

func TestPanicIsTheReplicasFailure(t *testing.T) {
	s, fakes := cluster(t, Options{}, func(f *fake) {
		f.onReceive = func(f *fake, from lab.ID, m lab.Message) {
			if f.id == 2 {
				panic("boom")
			}
		}
		f.onDo = broadcastOnDo
	})
	err := s.Do(0, lab.Command{Op: lab.OpProgress})
	require.Error(t, err)
	var pe *PanicError
	require.True(t, errors.As(s.Err(), &pe), "got %v", s.Err())
	assert.Equal(t, lab.ID(2), pe.Replica)
	assert.Contains(t, pe.Error(), "P2 panicked in Receive(PREPARE)")
	assert.Contains(t, pe.Stack, "sim_test.go", "the stack points into the replica's code")
	assert.Equal(t, s.Failure(2), s.Err())
	assert.Len(t, fakes[2].got, 1, "a failed replica gets nothing more")
	_, err = s.Status(2)
	assert.Error(t, err)
}

func TestFloodingFailsInsteadOfHanging(t *testing.T) {
	s, _ := cluster(t, Options{MaxDeliveries: 1000}, func(f *fake) {
		f.onDo = broadcastOnDo
		f.onReceive = func(f *fake, from lab.ID, m lab.Message) { f.env.Send(from, &lab.Prepare{Seq: 1, Replica: f.id}) }
	})
	_ = s.Do(0, lab.Command{Op: lab.OpProgress})
	require.Error(t, s.Err())
	assert.Contains(t, s.Err().Error(), "did not settle")
}

func TestCrashedReplicaLosesMessages(t *testing.T) {
	s, fakes := cluster(t, Options{}, func(f *fake) { f.onDo = broadcastOnDo })
	s.Crash(1)
	assert.True(t, s.Crashed(1))
	assert.Error(t, s.Do(1, lab.Command{Op: lab.OpProgress}), "a crashed replica takes no commands")
	require.NoError(t, s.Do(0, lab.Command{Op: lab.OpProgress}))
	assert.Empty(t, fakes[1].got)
	assert.Len(t, fakes[2].got, 3)
	require.NoError(t, s.Recover(1))
	assert.False(t, s.Crashed(1))
	assert.Contains(t, s.Trace().Transcript(true), "(lost: P1 is down)")
}

// prepare is a fake's part in preparing req at n1 in view 0: P0's
// pre-prepare, or a backup's yes vote.
func prepare(f *fake, req *lab.Request) {
	if f.id == 0 {
		f.env.Broadcast(&lab.PrePrepare{Seq: 1, Digest: lab.Digest(req), Request: req})
		return
	}
	f.env.Broadcast(&lab.Prepare{Seq: 1, Digest: lab.Digest(req), Replica: f.id, Yes: true})
}

// acked builds a cluster of fakes in which every replica has prepared req
// at n1 and acked commit to the others, so that each holds a commit
// certificate; then, at the fake, do handles any other command.
func acked(t *testing.T, req *lab.Request, setup func(f *fake), do func(f *fake, c lab.Command) error) *Cluster {
	t.Helper()
	s, _ := cluster(t, Options{}, func(f *fake) {
		if setup != nil {
			setup(f)
		}
		f.onDo = func(f *fake, c lab.Command) error {
			switch c.Op {
			case lab.OpPropose:
				prepare(f, req)
			case lab.OpPrepare:
				f.env.Broadcast(&lab.Commit{Seq: 1, Digest: lab.Digest(req), Replica: f.id, Yes: true})
			default:
				return do(f, c)
			}
			return nil
		}
	})
	for _, c := range []lab.Command{{Op: lab.OpPropose, Arg: req.Op}, {Op: lab.OpPrepare}} {
		for i := range 4 {
			_ = s.Do(lab.ID(i), c)
		}
	}
	return s
}

func TestSafetyChecks(t *testing.T) {
	req := &lab.Request{Client: "c", Timestamp: 1, Op: "account=a,amount=1,operation=deposit"}
	d := lab.Digest(req)
	commit := func(f *fake) { f.env.Broadcast(&lab.Commit{Seq: 1, Digest: d, Replica: f.id, Yes: true}) }
	voteNo := func(f *fake) { f.env.Broadcast(&lab.Prepare{Seq: 1, Digest: d, Replica: f.id}) }
	tests := []struct {
		name      string
		byzantine []lab.ID
		vote      func(f *fake) // each replica, first
		decide    func(f *fake) // each replica, once the votes arrived
		op        lab.Op        // the command that decides
		want      string
	}{
		{
			name:   "out of order",
			vote:   commit,
			decide: func(f *fake) { f.bank.Execute(2, nil) },
			want:   "P0 tried to execute n2 after n0: the bank refused it",
		},
		{
			name: "honest replicas disagree",
			vote: commit,
			decide: func(f *fake) {
				if f.id == 1 {
					f.bank.Execute(1, nil)
				} else {
					f.bank.Execute(1, req)
				}
			},
			op:   lab.OpProgress,
			want: "safety violated at seq 1",
		},
		{
			name:      "only the Byzantine replica differs",
			byzantine: []lab.ID{1},
			vote:      commit,
			decide: func(f *fake) {
				if f.id == 1 {
					f.bank.Execute(1, nil)
				} else {
					f.bank.Execute(1, req)
				}
			},
		},
		{
			name:   "all agree",
			vote:   commit,
			decide: func(f *fake) { f.bank.Execute(1, req) },
		},
		{
			name:   "executed on its own judgement",
			vote:   func(f *fake) {},
			decide: func(f *fake) { f.bank.Execute(1, req) },
			want:   "P0 executed n1, request " + d + ", with no commit certificate: COMMIT acks for it came from none",
		},
		{
			name: "executed on two commit acks",
			vote: func(f *fake) {
				if f.id < 2 {
					commit(f)
				}
			},
			decide: func(f *fake) { f.bank.Execute(1, req) },
			want:   "came from only P0 P1, and it needs 2f+1 = 3",
		},
		{
			name:   "aborted on its own judgement",
			vote:   func(f *fake) {},
			decide: func(f *fake) { f.bank.Abort(1, req) },
			want:   "P0 decided n1 aborted (or ran the null request there) with nothing that decides it: \"no\" prepare votes from none",
		},
		{
			name: "aborted on f+1 no votes",
			vote: func(f *fake) {
				if f.id < 2 {
					voteNo(f)
				}
			},
			decide: func(f *fake) { f.bank.Abort(1, req) },
		},
		{
			name:   "aborted on progress",
			vote:   func(f *fake) {},
			decide: func(f *fake) { f.bank.Abort(1, req) },
			op:     lab.OpProgress,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := cluster(t, Options{Byzantine: tt.byzantine}, func(f *fake) {
				f.onDo = func(f *fake, c lab.Command) error {
					switch c.Op {
					case lab.OpPropose:
						prepare(f, req)
					case lab.OpPrepare:
						tt.vote(f)
					default:
						tt.decide(f)
					}
					return nil
				}
			})
			op := tt.op
			if op == 0 {
				op = lab.OpAck
			}
			for _, c := range []lab.Command{{Op: lab.OpPropose, Arg: typedOp}, {Op: lab.OpPrepare}, {Op: op}} {
				for i := range 4 {
					_ = s.Do(lab.ID(i), c)
				}
			}
			expectRunErr(t, s, tt.want)
		})
	}
}

func TestVoteToForgesAboutTheLastPrePrepare(t *testing.T) {
	s, fakes := cluster(t, Options{Byzantine: []lab.ID{3}}, func(f *fake) {
		f.onDo = func(f *fake, c lab.Command) error {
			f.env.Broadcast(&lab.PrePrepare{View: 0, Seq: 4, Digest: "d"})
			return nil
		}
	})
	assert.ErrorContains(t, s.VoteTo(3, 1, lab.OpPrepare, true), "no pre-prepare")
	require.NoError(t, s.Do(0, lab.Command{Op: lab.OpPropose, Arg: typedOp}))
	require.NoError(t, s.VoteTo(3, 1, lab.OpAck, false))
	assert.Equal(t, []string{"P0:PRE-PREPARE v0 n4 null", "P3:COMMIT v0 n4 abort", "P3:COMMIT v0 n4 abort"}, fakes[1].got,
		"a forged vote arrives twice, about the pre-prepare P3 last received")
}

// What a replica does to a message it received is its own business: the
// adversary's votes and the transcript keep what was delivered.
func TestAReplicaChangesOnlyItsOwnCopyOfWhatItReceives(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		t.Run(fmt.Sprintf("quiet=%v", quiet), func(t *testing.T) {
			s, fakes := cluster(t, Options{Byzantine: []lab.ID{3}, Quiet: quiet}, func(f *fake) {
				f.onDo = func(f *fake, c lab.Command) error {
					f.env.Broadcast(&lab.PrePrepare{View: 0, Seq: 4, Digest: "d"})
					return nil
				}
				f.onReceive = func(f *fake, _ lab.ID, m lab.Message) {
					if pp, ok := m.(*lab.PrePrepare); ok {
						pp.Seq, pp.Digest = -7, "scribbled"
					}
				}
			})
			require.NoError(t, s.Do(0, lab.Command{Op: lab.OpPropose, Arg: typedOp}))
			require.NoError(t, s.VoteTo(3, 1, lab.OpAck, false))
			assert.Equal(t, []string{"P0:PRE-PREPARE v0 n4 null", "P3:COMMIT v0 n4 abort", "P3:COMMIT v0 n4 abort"}, fakes[1].got)
			if !quiet {
				assert.NotContains(t, s.Trace().Transcript(true), "n-7")
			}
		})
	}
}

// chatty replicas answer every message, so the order of delivery shows in
// the trace.
func chatty(f *fake) {
	f.onDo = broadcastOnDo
	f.onReceive = func(f *fake, from lab.ID, m lab.Message) {
		if p, ok := m.(*lab.Prepare); ok && p.Seq < 3 {
			f.env.Broadcast(&lab.Commit{Seq: p.Seq, Replica: f.id}) // an abort ack: a commit ack needs a prepared certificate
		}
	}
}

func TestSameSeedSameTranscript(t *testing.T) {
	run := func(seed uint64) string {
		s, _ := cluster(t, Options{Seed: seed, Duplicate: 0.3}, chatty)
		for i := range 4 {
			require.NoError(t, s.Do(lab.ID(i), lab.Command{Op: lab.OpProgress}))
		}
		return s.Trace().Transcript(true)
	}
	a, b := run(42), run(42)
	assert.Equal(t, a, b)
	assert.Greater(t, strings.Count(a, "\n"), 50)
	differs := false
	for seed := range uint64(5) {
		differs = differs || run(seed) != a
	}
	assert.True(t, differs, "other seeds deliver in other orders")
}

func TestDuplicatesAndDrops(t *testing.T) {
	count := func(opts Options) int {
		s, fakes := cluster(t, opts, func(f *fake) { f.onDo = broadcastOnDo })
		for range 50 {
			require.NoError(t, s.Do(0, lab.Command{Op: lab.OpProgress}))
		}
		return len(fakes[1].got)
	}
	assert.Equal(t, 150, count(Options{}))
	assert.Greater(t, count(Options{Duplicate: 0.5, Seed: 3}), 150)
	assert.Less(t, count(Options{Drop: 0.5, Seed: 3}), 150)
}

// TestLogLinesPerCallAreBounded: a call that logs as it loops leaves its
// first lines in the trace and a note of the rest, not a million lines.
func TestLogLinesPerCallAreBounded(t *testing.T) {
	s, _ := cluster(t, Options{}, func(f *fake) {
		f.onDo = func(f *fake, c lab.Command) error {
			for i := range 3 * maxLogsPerCall {
				f.env.Logf("line %d", i)
			}
			return nil
		}
	})
	require.NoError(t, s.Do(1, lab.Command{Op: lab.OpProgress}))
	require.NoError(t, s.Do(1, lab.Command{Op: lab.OpProgress}))
	var lines []string
	for _, e := range s.Trace().Events() {
		if e.Kind == EventLog {
			lines = append(lines, e.Text)
		}
	}
	require.Len(t, lines, 2*(maxLogsPerCall+1), "each call keeps its own first lines")
	assert.Equal(t, "line 999", lines[maxLogsPerCall-1])
	assert.Contains(t, lines[maxLogsPerCall], "left out: a call keeps its first 1000")
	assert.Equal(t, "line 0", lines[maxLogsPerCall+1])
}

func TestReplyChecks(t *testing.T) {
	req := &lab.Request{Client: "c", Timestamp: 1, Op: "account=a,amount=1,operation=deposit"}
	tests := []struct {
		name string
		do   func(f *fake) // at P0, once every replica acked commit
		want string
	}{
		{
			name: "a reply after executing",
			do: func(f *fake) {
				f.bank.Execute(1, req)
				f.env.Reply(lab.Reply{Seq: 1, Client: "c", Timestamp: 1, Replica: f.id, Committed: true, Result: "a=1"})
			},
		},
		{
			name: "a reply before executing",
			do: func(f *fake) {
				f.env.Reply(lab.Reply{Seq: 1, Client: "c", Timestamp: 1, Replica: f.id, Committed: true, Result: "a=1"})
			},
			want: "P0 replied to c's request 1 (n1, committed) before executing or aborting it",
		},
		{
			name: "committed said of an abort",
			do: func(f *fake) {
				f.bank.Abort(1, req)
				f.env.Reply(lab.Reply{Seq: 1, Client: "c", Timestamp: 1, Replica: f.id, Committed: true, Result: "a=1"})
			},
			want: "P0 replied committed to c's request 1 at n1, where its bank recorded an abort",
		},
		{
			name: "aborted said of an execution",
			do: func(f *fake) {
				f.bank.Execute(1, req)
				f.env.Reply(lab.Reply{Seq: 1, Client: "c", Timestamp: 1, Replica: f.id, Result: "aborted"})
			},
			want: "P0 replied aborted to c's request 1 at n1, where its bank executed a request",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := acked(t, req, nil, func(f *fake, _ lab.Command) error {
				tt.do(f)
				return nil
			})
			_ = s.Do(0, lab.Command{Op: lab.OpProgress})
			expectRunErr(t, s, tt.want)
		})
	}
}

// Send is for replicas: a reply sent with it, which would skip the checks
// Reply makes, never reaches the client, as over TCP.
func TestAReplySentWithSendIsDropped(t *testing.T) {
	s, _ := cluster(t, Options{}, func(f *fake) {
		f.onReceive = func(f *fake, _ lab.ID, m lab.Message) {
			if q, ok := m.(*lab.Request); ok {
				f.env.Send(lab.Client, &lab.Reply{Seq: 1, Client: q.Client, Timestamp: q.Timestamp, Replica: f.id, Committed: true, Result: "a=1"})
			}
		}
	})
	n := s.Send("account=a,amount=1,operation=deposit")
	require.NoError(t, s.Err())
	done, _ := s.Outcome(n)
	assert.False(t, done, "no outcome from replies that went around Reply")
	assert.Empty(t, s.Replies(n))
}

func TestCommitAckNeedsAPreparedCertificate(t *testing.T) {
	req := &lab.Request{Client: "c", Timestamp: 1, Op: "account=a,amount=1,operation=deposit"}
	d := lab.Digest(req)
	tests := []struct {
		name     string
		prepares []lab.ID // the backups that vote yes before P1 acks
		pp       bool     // P0 sent the pre-prepare
		want     string
	}{
		{name: "prepared", pp: true, prepares: []lab.ID{1, 2}},
		{name: "no pre-prepare", prepares: []lab.ID{1, 2, 3},
			want: "P1 acked commit on n1 in view 0, request " + d + ", without a prepared certificate: it holds no pre-prepare for it from P0"},
		{name: "one vote short", pp: true, prepares: []lab.ID{1},
			want: "it holds the pre-prepare from P0, and yes PREPAREs from backups only P1, where it needs 2f = 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := cluster(t, Options{}, func(f *fake) {
				f.onDo = func(f *fake, c lab.Command) error {
					switch {
					case c.Op == lab.OpPropose:
						f.env.Broadcast(&lab.PrePrepare{Seq: 1, Digest: d, Request: req})
					case c.Op == lab.OpPrepare:
						f.env.Broadcast(&lab.Prepare{Seq: 1, Digest: d, Replica: f.id, Yes: true})
					case c.Op == lab.OpAck:
						f.env.Broadcast(&lab.Commit{Seq: 1, Digest: d, Replica: f.id, Yes: true})
					}
					return nil
				}
			})
			if tt.pp {
				_ = s.Do(0, lab.Command{Op: lab.OpPropose, Arg: typedOp})
			}
			for _, id := range tt.prepares {
				_ = s.Do(id, lab.Command{Op: lab.OpPrepare})
			}
			_ = s.Do(1, lab.Command{Op: lab.OpAck})
			expectRunErr(t, s, tt.want)
		})
	}
}

// TestStateTransferChecks: a replica may execute on f+1 state replies, but
// a state reply must tell the sender's own state, and a restored snapshot
// must be one another honest replica took.
func TestStateTransferChecks(t *testing.T) {
	req := &lab.Request{Client: "c", Timestamp: 1, Op: "account=a,amount=1,operation=deposit"}
	d := lab.Digest(req)
	genesis := lab.NewBank(nil, nil).Snapshot()
	entry := []lab.PrePrepare{{Seq: 1, Digest: d, Request: req}}
	tests := []struct {
		name   string
		report func(f *fake) // at P1, P2 and P3, once prepared
		want   string
	}{
		{
			name: "executed on f+1 reports",
			report: func(f *fake) {
				f.bank.Execute(1, req)
				f.env.Send(0, &lab.StateReply{Replica: f.id, Nonce: 1, Checkpoint: genesis, Committed: entry})
			},
		},
		{
			name: "a report of what the sender has not executed",
			report: func(f *fake) {
				f.env.Send(0, &lab.StateReply{Replica: f.id, Nonce: 1, Checkpoint: genesis, Committed: entry})
			},
			want: "P1 sent a STATE-REPLY reporting n1 executed, but its bank has run only up to n0",
		},
		{
			name: "a checkpoint the sender never took",
			report: func(f *fake) {
				f.bank.Execute(1, req)
				f.env.Send(0, &lab.StateReply{Replica: f.id, Nonce: 1, Checkpoint: f.bank.Snapshot()})
			},
			want: "P1 sent a STATE-REPLY with a checkpoint at n1",
		},
		{
			name: "a checkpoint taken, then restored elsewhere",
			report: func(f *fake) {
				f.bank.Execute(1, req)
				f.env.Checkpointed(f.bank.Snapshot(), false)
				f.env.Send(0, &lab.StateReply{Replica: f.id, Nonce: 1, Checkpoint: f.bank.Snapshot()})
			},
		},
		{
			name: "a restore on one reply",
			report: func(f *fake) {
				f.bank.Execute(1, req)
				f.env.Checkpointed(f.bank.Snapshot(), false)
				if f.id == 3 {
					f.env.Send(0, &lab.StateReply{Replica: f.id, Nonce: 1, Checkpoint: f.bank.Snapshot()})
				}
			},
			want: "P0 restored a snapshot at n1 on the state replies of 1 replica(s) that reach it",
		},
		{
			name:   "a reply in a view the sender has no grounds to be in",
			report: func(f *fake) { f.env.Send(0, &lab.StateReply{Replica: f.id, Nonce: 1, View: 3, Checkpoint: genesis}) },
			want:   "P1 sent a STATE-REPLY in view 3, which it has no grounds to be in",
		},
		{
			name:   "a reply to a request that was not made",
			report: func(f *fake) { f.env.Send(0, &lab.StateReply{Replica: f.id, Nonce: 2, Checkpoint: genesis}) },
			want:   "P1 sent P0 a STATE-REPLY (nonce 2) it did not ask for",
		},
		{
			name: "a checkpoint of a state the bank is not in",
			report: func(f *fake) {
				f.env.Checkpointed(lab.Snapshot{Seq: 1, Digest: "x"}, false)
			},
			want: "P1 reported taking a checkpoint at n1 (digest x), but its bank is at n0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := cluster(t, Options{}, func(f *fake) {
				f.onDo = func(f *fake, c lab.Command) error {
					switch c.Op {
					case lab.OpPropose:
						prepare(f, req)
					case lab.OpRecover: // P0 asks for the others' state
						f.env.Broadcast(&lab.StateRequest{Replica: f.id, Nonce: 1})
					case lab.OpPrepare: // P1, P2 and P3 ack among themselves: P0 hears none
						for j := lab.ID(1); j < 4; j++ {
							if j != f.id {
								f.env.Send(j, &lab.Commit{Seq: 1, Digest: d, Replica: f.id, Yes: true})
							}
						}
					default:
						tt.report(f)
					}
					return nil
				}
				f.onReceive = func(f *fake, from lab.ID, m lab.Message) {
					rep, ok := m.(*lab.StateReply)
					if !ok || f.id != 0 {
						return
					}
					if len(rep.Committed) > 0 && from == 3 {
						f.bank.Execute(1, req) // on the reports of P2 and P3
					}
					if len(rep.Committed) == 0 && from == 3 && rep.Checkpoint.Seq == 1 {
						f.bank.Restore(rep.Checkpoint)
					}
				}
			})
			for i := range 4 {
				_ = s.Do(lab.ID(i), lab.Command{Op: lab.OpPropose, Arg: typedOp})
			}
			_ = s.Do(0, lab.Command{Op: lab.OpRecover})
			for i := 1; i < 4; i++ {
				_ = s.Do(lab.ID(i), lab.Command{Op: lab.OpPrepare})
			}
			for i := 1; i < 4; i++ {
				_ = s.Do(lab.ID(i), lab.Command{Op: lab.OpAck})
			}
			expectRunErr(t, s, tt.want)
		})
	}
}

func TestRestoreNeedsACheckpointAnotherReplicaTook(t *testing.T) {
	s, fakes := cluster(t, Options{}, nil)
	b := lab.NewBank(nil, nil)
	made := b.Snapshot()
	made.Seq = 3 // a state P0 worked out by itself
	require.NoError(t, s.Do(0, lab.Command{Op: lab.OpProgress}))
	fakes[0].onDo = func(f *fake, c lab.Command) error { return f.bank.Restore(made) }
	_ = s.Do(0, lab.Command{Op: lab.OpProgress})
	require.Error(t, s.Err())
	assert.Contains(t, s.Err().Error(), "P0 restored a snapshot at n3")
}

// TestSentMessagesAreCopies: what a replica changes in a message after
// sending it changes nothing the simulator keeps: not the trace, not what
// the scripted adversary reads.
func TestSentMessagesAreCopies(t *testing.T) {
	req := &lab.Request{Client: "c", Timestamp: 1, Op: "account=a,amount=1,operation=deposit"}
	s, _ := cluster(t, Options{Byzantine: []lab.ID{3}}, func(f *fake) {
		f.onDo = func(f *fake, c lab.Command) error {
			pp := &lab.PrePrepare{Seq: 1, Digest: lab.Digest(req), Request: &lab.Request{Client: "c", Timestamp: 1, Op: req.Op}}
			f.env.Broadcast(pp)
			pp.Request.Op = "account=mallory,amount=999,operation=deposit"
			pp.Digest = "forged"
			return nil
		}
	})
	require.NoError(t, s.Do(0, lab.Command{Op: lab.OpPropose, Arg: typedOp}))
	assert.NotContains(t, s.Trace().Transcript(true), "mallory")
	pp, ok := s.PrePrepareAt(0, 1, -1) // what P0 sent, as the scripted adversary reads it
	require.True(t, ok)
	assert.Equal(t, lab.Digest(req), pp.Digest, "the adversary votes on what was sent")
}

func TestClip(t *testing.T) {
	assert.Equal(t, "short", clip("short"))
	long := strings.Repeat("é", maxLogLine) // two bytes each
	got := clip(long)
	assert.True(t, strings.HasSuffix(got, fmt.Sprintf("... (%d more bytes left out)", len(long)-maxLogLine)), got[len(got)-40:])
	assert.True(t, utf8.ValidString(got))
	assert.Less(t, len(got), maxLogLine+64)
}

// TestProtocolChecksOnWhatIsSent covers the checks on an honest replica's
// own messages: who may order, in which views, and typed votes.
func TestProtocolChecksOnWhatIsSent(t *testing.T) {
	req := &lab.Request{Client: "c", Timestamp: 1, Op: "account=a,amount=1,operation=deposit"}
	d := lab.Digest(req)
	tests := []struct {
		name   string
		manual bool
		do     func(f *fake, c lab.Command) error // at P1, for each command
		cmds   []lab.Command
		want   string
	}{
		{
			name: "a backup orders a request",
			do: func(f *fake, c lab.Command) error {
				f.env.Broadcast(&lab.PrePrepare{Seq: 1, Digest: d, Request: req})
				return nil
			},
			want: "P1 sent a PRE-PREPARE for n1 in view 0, whose primary is P0",
		},
		{
			name: "a replica orders in a view of its own",
			do: func(f *fake, c lab.Command) error {
				f.env.Broadcast(&lab.PrePrepare{View: 1, Seq: 1, Digest: d, Request: req})
				return nil
			},
			want: "P1 sent a PRE-PREPARE for n1 in view 1, which it has no grounds to be in",
		},
		{
			name: "a vote in another replica's name",
			do: func(f *fake, c lab.Command) error {
				f.env.Broadcast(&lab.Prepare{Seq: 1, Digest: d, Replica: 2, Yes: true})
				return nil
			},
			want: "P1 sent a PREPARE in P2's name",
		},
		{
			name: "a VIEW-CHANGE in another replica's name",
			do: func(f *fake, c lab.Command) error {
				f.env.Send(0, &lab.ViewChange{View: 1, Replica: 3})
				return nil
			},
			want: "P1 sent a VIEW-CHANGE in P3's name",
		},
		{
			name: "a STATE-REPLY no one asked for",
			do: func(f *fake, c lab.Command) error {
				f.env.Send(0, &lab.StateReply{Replica: f.id, Nonce: 1, Checkpoint: f.bank.Snapshot()})
				return nil
			},
			want: "P1 sent P0 a STATE-REPLY (nonce 1) it did not ask for",
		},
		{
			name: "a request no client sent",
			do: func(f *fake, c lab.Command) error {
				f.env.Send(0, &lab.Request{Client: "c", Timestamp: 9, Op: "account=a,amount=9,operation=deposit"})
				return nil
			},
			want: "P1 sent a REQUEST (c's request 9: account=a,amount=9,operation=deposit) that no client sent",
		},
		{
			name: "a NEW-VIEW on no view changes",
			do: func(f *fake, c lab.Command) error {
				f.env.Broadcast(&lab.NewView{View: 1})
				return nil
			},
			want: "P1 sent a NEW-VIEW for view 1 on VIEW-CHANGEs from none",
		},
		{
			name: "an ack in a view it has no grounds to be in",
			do: func(f *fake, c lab.Command) error {
				f.env.Broadcast(&lab.Commit{View: 2, Seq: 1, Digest: d, Replica: f.id, Yes: true})
				return nil
			},
			want: "P1 acked commit on n1 in view 2, which it has no grounds to be in",
		},
		{
			name:   "a vote no one typed",
			manual: true,
			do: func(f *fake, c lab.Command) error {
				f.env.Broadcast(&lab.Prepare{Seq: 1, Digest: d, Replica: f.id, Yes: true})
				return nil
			},
			cmds: []lab.Command{{Op: lab.OpProgress}},
			want: "P1 voted yes on n1 without being told to",
		},
		{
			name:   "a vote the other way",
			manual: true,
			do: func(f *fake, c lab.Command) error {
				f.env.Broadcast(&lab.Prepare{Seq: 1, Digest: d, Replica: f.id, Yes: true})
				return nil
			},
			cmds: []lab.Command{{Op: lab.OpPrepare, Vote: false}},
			want: `P1 was told "prepare no" and voted yes on n1`,
		},
		{
			name:   "a typed vote taken and not cast",
			manual: true,
			do:     func(f *fake, c lab.Command) error { return nil },
			cmds:   []lab.Command{{Op: lab.OpPrepare, Vote: false}},
			want:   `P1 took "prepare no" and sent no vote`,
		},
		{
			name:   "a typed vote refused, with nothing to vote on",
			manual: true,
			do:     func(f *fake, c lab.Command) error { return errors.New("nothing to vote on") },
			cmds:   []lab.Command{{Op: lab.OpPrepare, Vote: false}},
		},
		{
			name: "a reply for a number its bank has not reached",
			do: func(f *fake, c lab.Command) error {
				if c.Op == lab.OpPrepare { // n1 comes up
					f.env.Broadcast(&lab.Prepare{Seq: 1, Digest: d, Replica: f.id})
					return nil
				}
				f.bank.Abort(1, req) // on progress
				f.env.Reply(lab.Reply{Seq: 1001, Client: "c", Timestamp: 1, Replica: f.id, Committed: true})
				return nil
			},
			cmds: []lab.Command{{Op: lab.OpPrepare}, {Op: lab.OpProgress}},
			want: "P1 replied to c's request 1 for n1001, which its bank has not reached (it ran up to n1)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := cluster(t, Options{Manual: tt.manual}, func(f *fake) {
				if f.id == 1 {
					f.onDo = tt.do
				}
			})
			cmds := tt.cmds
			if cmds == nil {
				cmds = []lab.Command{{Op: lab.OpProgress}}
			}
			for _, c := range cmds {
				_ = s.Do(1, c)
			}
			expectRunErr(t, s, tt.want)
		})
	}
}

// TestEvidenceKeepsViewsAndProgressApart: commit acks of different views
// are no certificate together, and a "progress" typed before a request
// came up does not abort it.
func TestEvidenceKeepsViewsAndProgressApart(t *testing.T) {
	var ev evidence
	ev.add(0, &lab.Commit{View: 0, Seq: 1, Digest: "d", Replica: 0, Yes: true})
	ev.add(1, &lab.Commit{View: 1, Seq: 1, Digest: "d", Replica: 1, Yes: true})
	ev.add(2, &lab.Commit{View: 2, Seq: 1, Digest: "d", Replica: 2, Yes: true})
	name := func(d string) string { return d }
	assert.ErrorContains(t, ev.check(0, 4, 1, "d", name), "with no commit certificate")
	ev.add(1, &lab.Commit{View: 0, Seq: 1, Digest: "d", Replica: 1, Yes: true})
	ev.add(2, &lab.Commit{View: 0, Seq: 1, Digest: "d", Replica: 2, Yes: true})
	assert.NoError(t, ev.check(0, 4, 1, "d", name))

	ev.progress++ // typed before n2 came up
	ev.add(0, &lab.PrePrepare{Seq: 2, Digest: "e"})
	assert.ErrorContains(t, ev.check(1, 4, 2, lab.NullDigest, name), "no \"progress\" typed since its request came up")
	ev.progress++
	assert.NoError(t, ev.check(1, 4, 2, lab.NullDigest, name))
}

func TestInView(t *testing.T) {
	var ev evidence
	assert.True(t, ev.inView(0, 4))
	assert.False(t, ev.inView(1, 4))
	ev.add(1, &lab.NewView{View: 1})
	ev.add(2, &lab.NewView{View: 70})
	assert.True(t, ev.inView(1, 4))
	assert.True(t, ev.inView(70, 4))
	assert.False(t, ev.inView(2, 4))
	ev.add(1, &lab.StateReply{Replica: 1, View: 5})
	assert.False(t, ev.inView(3, 4), "one state reply is not enough")
	ev.add(2, &lab.StateReply{Replica: 2, View: 3})
	assert.True(t, ev.inView(3, 4), "f+1 state replies at that view or later")
	assert.False(t, ev.inView(4, 4))
}

// expectRunErr checks how a run ended: without a failure when want is
// empty, else with one that says want.
func expectRunErr(t *testing.T, s *Cluster, want string) {
	t.Helper()
	if want == "" {
		assert.NoError(t, s.Err())
		return
	}
	require.Error(t, s.Err())
	assert.Contains(t, s.Err().Error(), want)
}

// A primary orders what a client sent, or what was typed at its console:
// one that makes a request up (to fill the network with long operations,
// say) fails, and one typed is fine.
func TestAPrimaryOrdersOnlyRequestsItWasGiven(t *testing.T) {
	made := &lab.Request{Client: "c", Timestamp: 1, Op: "account=a,amount=7,operation=deposit"}
	for _, tt := range []struct {
		name, arg, want string
	}{
		{"typed", made.Op, ""},
		{"made up", "", "P0 ordered a request at n1 (c's request 1: account=a,amount=7,operation=deposit) that no client sent"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := cluster(t, Options{}, func(f *fake) {
				f.onDo = func(f *fake, c lab.Command) error {
					f.env.Broadcast(&lab.PrePrepare{Seq: 1, Digest: lab.Digest(made), Request: made})
					return nil
				}
			})
			_ = s.Do(0, lab.Command{Op: lab.OpPropose, Arg: tt.arg})
			expectRunErr(t, s, tt.want)
		})
	}
}

// The checks read a replica's Status: it may not contradict what the
// simulator knows of the replica.
func TestStatusMustNotContradictTheBankOrTheViews(t *testing.T) {
	req := &lab.Request{Client: "c", Timestamp: 1, Op: typedOp}
	for _, tt := range []struct {
		name   string
		status func(f *fake) lab.Status
		want   string
	}{
		{"as it is", func(f *fake) lab.Status {
			return lab.Status{ID: f.id, LastExecuted: 1, History: []lab.Outcome{{Seq: 1, Committed: true}}}
		}, ""},
		{"executed further than the bank", func(f *fake) lab.Status { return lab.Status{ID: f.id, LastExecuted: 5} },
			"P0's Status says executed up to n5, but its bank ran up to n1"},
		{"a view with no grounds", func(f *fake) lab.Status { return lab.Status{ID: f.id, LastExecuted: 1, View: 2} },
			"P0's Status says it is in view 2, which it has no grounds to be in"},
		{"a view asked for", func(f *fake) lab.Status {
			return lab.Status{ID: f.id, LastExecuted: 1, View: 2, ViewChanging: true}
		}, ""},
		{"an execution told as an abort", func(f *fake) lab.Status {
			return lab.Status{ID: f.id, LastExecuted: 1, History: []lab.Outcome{{Seq: 1}}}
		}, "P0's Status has n1 aborted in its history, where its bank executed a request"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := acked(t, req, func(f *fake) { f.status = tt.status }, func(f *fake, _ lab.Command) error {
				_, err := f.bank.Execute(1, req)
				return err
			})
			require.NoError(t, s.Do(0, lab.Command{Op: lab.OpProgress}))
			_, err := s.Status(0)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.ErrorContains(t, s.Err(), tt.want, "the run fails with it")
		})
	}
}

// A view change still under way is told with what the replica got of it:
// whose VIEW-CHANGEs it holds, and whether a NEW-VIEW reached it.
func TestViewChangeStory(t *testing.T) {
	s, _ := cluster(t, Options{}, func(f *fake) {
		f.onDo = func(f *fake, c lab.Command) error {
			if f.id == 1 && c.Op == lab.OpProgress {
				f.env.Send(2, &lab.NewView{View: 1})
				return nil
			}
			f.env.Broadcast(&lab.ViewChange{View: 1, Replica: f.id})
			return nil
		}
	})
	assert.Equal(t, "it holds no VIEW-CHANGE for view 1; no NEW-VIEW for view 1 reached it", s.ViewChangeStory(3, 1))
	require.NoError(t, s.Do(0, lab.Command{Op: lab.OpViewChange}))
	require.NoError(t, s.Do(2, lab.Command{Op: lab.OpViewChange}))
	assert.Equal(t, "it holds VIEW-CHANGEs for view 1 from P0, P2; no NEW-VIEW for view 1 reached it", s.ViewChangeStory(3, 1))
	assert.Equal(t, "it holds VIEW-CHANGEs for view 1 from P0, P2; it leads view 1 and sent no NEW-VIEW (2f+1 = 3 VIEW-CHANGEs start it)", s.ViewChangeStory(1, 1))
	require.NoError(t, s.Do(1, lab.Command{Op: lab.OpViewChange}))
	require.NoError(t, s.Do(1, lab.Command{Op: lab.OpProgress}))
	assert.Equal(t, "it holds VIEW-CHANGEs for view 1 from P0, P1, P2; a NEW-VIEW for view 1 from P1 reached it and it did not enter the view (was the NEW-VIEW refused? its log says)", s.ViewChangeStory(2, 1))
}

// A VIEW-CHANGE's stable checkpoint proof lists its checkpoints in replica
// order, for the same reason.
func TestViewChangeListsItsProofInReplicaOrder(t *testing.T) {
	for _, tt := range []struct {
		name  string
		order []lab.ID
		want  string
	}{
		{"in order", []lab.ID{0, 1, 3}, ""},
		{"out of order", []lab.ID{3, 0, 1}, "P2 sent a VIEW-CHANGE for view 1 whose stable checkpoint proof is not in replica order (P3 before P0)"},
		{"twice", []lab.ID{0, 1, 1}, "not in replica order (P1 before P1)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := cluster(t, Options{}, func(f *fake) {
				f.onDo = func(f *fake, c lab.Command) error {
					vc := &lab.ViewChange{View: 1, Replica: f.id}
					for _, id := range tt.order {
						vc.Checkpoints = append(vc.Checkpoints, lab.Checkpoint{Replica: id})
					}
					f.env.Broadcast(vc)
					return nil
				}
			})
			err := s.Do(2, lab.Command{Op: lab.OpViewChange})
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			expectRunErr(t, s, tt.want)
		})
	}
}

// A NEW-VIEW lists its view changes in replica order, so that each run of
// a seed sends the same bytes.
func TestNewViewListsItsViewChangesInReplicaOrder(t *testing.T) {
	for _, tt := range []struct {
		name  string
		order []lab.ID
		want  string
	}{
		{"in order", []lab.ID{0, 1, 2}, ""},
		{"out of order", []lab.ID{2, 0, 1}, "P1 sent a NEW-VIEW for view 1 whose VIEW-CHANGEs are not in replica order (P2 before P0)"},
		{"twice", []lab.ID{0, 0, 1, 2}, "not in replica order (P0 before P0)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := cluster(t, Options{}, func(f *fake) {
				f.onDo = func(f *fake, c lab.Command) error {
					if c.Op == lab.OpViewChange {
						f.env.Broadcast(&lab.ViewChange{View: 1, Replica: f.id})
						return nil
					}
					var nv lab.NewView
					nv.View = 1
					for _, id := range tt.order {
						nv.ViewChanges = append(nv.ViewChanges, lab.ViewChange{View: 1, Replica: id})
					}
					f.env.Broadcast(&nv)
					return nil
				}
			})
			for _, id := range []lab.ID{0, 2} {
				require.NoError(t, s.Do(id, lab.Command{Op: lab.OpViewChange}))
			}
			require.NoError(t, s.Do(1, lab.Command{Op: lab.OpViewChange}))
			_ = s.Do(1, lab.Command{Op: lab.OpProgress}) // the new primary's NEW-VIEW
			expectRunErr(t, s, tt.want)
		})
	}
}

// A replica that overwrites the bank it was given (so that its executions
// no longer reach the safety checks) fails, whether it does so when it is
// built or later.
func TestAReplicaThatOverwritesItsBankFails(t *testing.T) {
	const want = "P1 overwrote the bank it was given (*cfg.Bank = ...)"
	t.Run("when built", func(t *testing.T) {
		s := New(func(cfg lab.Config, env lab.Env) lab.Replica {
			if cfg.ID == 1 {
				*cfg.Bank = *lab.NewBank(cfg.Bank.Balances(), nil)
			}
			return &fake{id: cfg.ID, env: env, bank: cfg.Bank}
		}, Options{})
		require.Error(t, s.Failure(1))
		assert.Contains(t, s.Failure(1).Error(), want)
		assert.NoError(t, s.Failure(0))
	})
	t.Run("in a command", func(t *testing.T) {
		s, _ := cluster(t, Options{}, func(f *fake) {
			f.onDo = func(f *fake, c lab.Command) error {
				saved := *f.bank
				*f.bank = saved // the same state again: nothing to see
				if f.id == 1 {
					*f.bank = *lab.NewBank(nil, nil)
				}
				return nil
			}
		})
		require.NoError(t, s.Do(0, lab.Command{Op: lab.OpProgress}))
		assert.NoError(t, s.Failure(0), "a copy of the Bank value is the same bank")
		_ = s.Do(1, lab.Command{Op: lab.OpProgress})
		require.Error(t, s.Failure(1))
		assert.Contains(t, s.Failure(1).Error(), want)
	})
}

// A panic names the innermost line of the replica's own code, past the
// runtime's and the standard library's frames.
func TestPanicErrorSaysWhere(t *testing.T) {
	stack := `goroutine 7 [running]:
runtime/debug.Stack()
	/usr/local/go/src/runtime/debug/stack.go:26 +0x5e
pbftlab/sim.(*node).catch(0xc000123, {0x0, 0x0}, {0x0, 0x0})
	/kit/sim/sim.go:820 +0x9a
panic({0x5d6f20?, 0x6a1c30?})
	/usr/local/go/src/runtime/panic.go:792 +0x132
sort.Slice(...)
	/usr/local/go/src/sort/slice.go:23 +0x10
pbftlab/skeleton.checkNewView(0xc000456)
	/kit/skeleton/newview.go:101 +0x3c
pbftlab/skeleton.(*Replica).onNewView(0xc000789)
	/kit/skeleton/viewchange.go:130 +0x25
pbftlab/sim.(*node).receive(0xc000123)
	/kit/sim/sim.go:810 +0x77
`
	e := &PanicError{Replica: 2, Call: "Receive(NEW-VIEW)", Value: "TODO", Stack: stack}
	assert.Equal(t, "P2 panicked in Receive(NEW-VIEW): TODO (at skeleton/newview.go:101, in checkNewView)", e.Error())
	e.Stack = "goroutine 7 [running]:\npbftlab/sim.(*node).catch()\n\t/kit/sim/sim.go:820 +0x9a\n"
	assert.Equal(t, "P2 panicked in Receive(NEW-VIEW): TODO", e.Error(), "no frame of the replica's own")
}

// A Logf line stays one line in the trace, whatever breaks it holds.
func TestLogLineStaysOneLine(t *testing.T) {
	s, _ := cluster(t, Options{}, func(f *fake) {
		f.onDo = func(f *fake, c lab.Command) error {
			f.env.Logf("first\n::error::forged\r\nlast")
			return nil
		}
	})
	require.NoError(t, s.Do(1, lab.Command{Op: lab.OpProgress}))
	var lines []string
	for _, e := range s.Trace().Events() {
		if e.Kind == EventLog {
			lines = append(lines, e.Text)
		}
	}
	assert.Equal(t, []string{`first\n::error::forged\r\nlast`}, lines)
}
