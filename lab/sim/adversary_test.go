package sim

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

// fakes builds a constructor of fakes that records them in order of ID
// (twins add a second fake for their ID, after the first). Each fake's got
// holds what it received in the short form of brief, which these tests own.
func fakes(setup func(f *fake)) (lab.New, *[]*fake) {
	var all []*fake
	return func(cfg lab.Config, env lab.Env) lab.Replica {
		f := &fake{id: cfg.ID, env: env, bank: cfg.Bank}
		if setup != nil {
			setup(f)
		}
		react := f.onReceive
		f.onReceive = func(f *fake, from lab.ID, m lab.Message) {
			f.got[len(f.got)-1] = from.String() + ":" + brief(m)
			if react != nil {
				react(f, from, m)
			}
		}
		all = append(all, f)
		return f
	}, &all
}

// brief renders the fields of m these tests look at.
func brief(m lab.Message) string {
	switch m := m.(type) {
	case *lab.PrePrepare:
		op := "null"
		if m.Request != nil {
			op = m.Request.Op
		}
		return fmt.Sprintf("PRE-PREPARE n%d %s", m.Seq, op)
	case *lab.Prepare:
		return fmt.Sprintf("PREPARE n%d by %s", m.Seq, m.Replica)
	case *lab.Checkpoint:
		return fmt.Sprintf("CHECKPOINT n%d %s", m.Seq, m.Digest)
	case *lab.Request:
		return "REQUEST " + m.Op
	}
	return lab.KindOf(m).String()
}

func TestInjectOnlyAsAByzantineReplica(t *testing.T) {
	build, all := fakes(nil)
	s := New(build, Options{Byzantine: []lab.ID{3}})
	vote := &lab.Prepare{Seq: 1, Replica: 2, Yes: true}

	require.NoError(t, s.Inject(3, 1, vote))
	assert.Equal(t, []string{"P3:PREPARE n1 by P2"}, (*all)[1].got, "delivered as from P3, whatever its Replica field says")
	forged := 0
	for _, e := range s.Trace().Events() {
		if e.Kind == EventSend && e.Forged {
			forged++
		}
	}
	assert.Equal(t, 1, forged, "the trace marks the message as forged")

	for _, from := range []lab.ID{0, 4, lab.Client} {
		assert.Error(t, s.Inject(from, 1, vote), "from %s", from)
	}
	assert.Len(t, (*all)[1].got, 1)
}

func TestLiarChangesWhatLeavesOnlyTheLiar(t *testing.T) {
	build, all := fakes(func(f *fake) {
		f.onDo = func(f *fake, c lab.Command) error {
			cp := &lab.Checkpoint{Seq: 2, Digest: "good", Replica: f.id}
			f.env.Broadcast(cp)
			assert.Equal(t, "good", cp.Digest, "the liar's own copy is untouched")
			return nil
		}
	})
	lie := func(to lab.ID, m lab.Message) lab.Message {
		switch {
		case to == 2:
			return nil // says nothing to P2
		case to == 1:
			m.(*lab.Checkpoint).Digest = "bad"
		}
		return m
	}
	s := New(Liar(build, 3, lie), Options{Byzantine: []lab.ID{3}})
	require.NoError(t, s.Do(3, lab.Command{Op: lab.OpCheckpoint}))
	require.NoError(t, s.Do(0, lab.Command{Op: lab.OpCheckpoint}))
	f := *all
	assert.Equal(t, []string{"P3:CHECKPOINT n2 good"}, f[0].got)
	assert.Equal(t, []string{"P3:CHECKPOINT n2 bad", "P0:CHECKPOINT n2 good"}, f[1].got)
	assert.Equal(t, []string{"P0:CHECKPOINT n2 good"}, f[2].got)
}

func TestTwinsTalkToTheirOwnParts(t *testing.T) {
	build, all := fakes(func(f *fake) {
		f.onDo = func(f *fake, c lab.Command) error {
			f.env.Broadcast(&lab.PrePrepare{Seq: 1, Request: &lab.Request{Op: c.Arg}})
			return nil
		}
		f.onReceive = func(f *fake, from lab.ID, m lab.Message) {
			if _, ok := m.(*lab.PrePrepare); ok && f.id != 0 {
				f.env.Send(0, &lab.Prepare{Seq: 1, Replica: f.id, Yes: true})
			}
		}
	})
	twinsNew, twins := NewTwins(build, 0, [2][]lab.ID{{1, 2}, {2, 3}})
	s := New(twinsNew, Options{Byzantine: []lab.ID{0}, Balances: map[string]int{"alice": 5}})
	require.NoError(t, s.Err())
	f := *all
	require.Len(t, f, 5, "P0 is two fakes, then P1, P2, P3")
	copy0, copy1, p1, p2, p3 := f[0], f[1], f[2], f[3], f[4]
	assert.NotSame(t, copy0.bank, copy1.bank, "each copy has its own bank")
	assert.Equal(t, 5, copy1.bank.Balance("alice"), "with the same starting state")

	twins.DoBoth(lab.Command{Op: lab.OpPropose, Arg: "y"})
	require.NoError(t, s.Do(0, lab.Command{Op: lab.OpPropose, Arg: "x"}))
	assert.Equal(t, []string{"P0:PRE-PREPARE n1 x"}, p1.got)
	assert.ElementsMatch(t, []string{"P0:PRE-PREPARE n1 x", "P0:PRE-PREPARE n1 y"}, p2.got)
	assert.Equal(t, []string{"P0:PRE-PREPARE n1 y"}, p3.got)
	assert.ElementsMatch(t, []string{"P1:PREPARE n1 by P1", "P2:PREPARE n1 by P2", "P2:PREPARE n1 by P2"}, copy0.got, "copy 0 hears P1 and P2")
	assert.ElementsMatch(t, []string{"P2:PREPARE n1 by P2", "P2:PREPARE n1 by P2", "P3:PREPARE n1 by P3"}, copy1.got, "copy 1 hears P2 and P3")

	twins.Use(1)
	require.NoError(t, s.Do(0, lab.Command{Op: lab.OpPropose, Arg: "z"}))
	assert.Equal(t, []string{"P0:PRE-PREPARE n1 x"}, p1.got, "after Use(1) only copy 1 acts")
	assert.Contains(t, p3.got, "P0:PRE-PREPARE n1 z")

	s.Send("account=alice,amount=1,operation=deposit")
	assert.Contains(t, copy0.got, "client:REQUEST account=alice,amount=1,operation=deposit", "the client reaches both copies")
	assert.Contains(t, copy1.got, "client:REQUEST account=alice,amount=1,operation=deposit")
}

func TestDelayHoldsMessagesUntilReleased(t *testing.T) {
	build, all := fakes(func(f *fake) {
		f.onDo = func(f *fake, c lab.Command) error {
			f.env.Send(1, &lab.StateReply{Replica: f.id, Nonce: 1})
			f.env.Send(1, &lab.Checkpoint{Seq: 1, Digest: "d", Replica: f.id})
			return nil
		}
	})
	build, delay := NewDelay(build, func(from, to lab.ID, m lab.Message) bool {
		_, ok := m.(*lab.StateReply)
		return ok && from == 2
	})
	s := New(build, Options{})
	require.NoError(t, s.Do(2, lab.Command{Op: lab.OpRecover}), "not held before Start")
	delay.Start()
	require.NoError(t, s.Do(2, lab.Command{Op: lab.OpRecover}))
	require.NoError(t, s.Do(3, lab.Command{Op: lab.OpRecover}))
	p1 := (*all)[1]
	assert.Equal(t, []string{
		"P2:STATE-REPLY", "P2:CHECKPOINT n1 d",
		"P2:CHECKPOINT n1 d",
		"P3:STATE-REPLY", "P3:CHECKPOINT n1 d",
	}, p1.got)
	assert.Equal(t, 1, delay.Held())

	delay.Release()
	s.Settle()
	assert.Equal(t, "P2:STATE-REPLY", p1.got[len(p1.got)-1])
	assert.Zero(t, delay.Held())
	require.NoError(t, s.Do(2, lab.Command{Op: lab.OpRecover}))
	assert.Equal(t, "P2:CHECKPOINT n1 d", p1.got[len(p1.got)-1], "nothing held after Release")
}
