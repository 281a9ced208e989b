package sim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
	"pbftlab/script"
	"pbftlab/sim"
)

// stub is a replica whose behaviour each test gives, for cases played on
// the simulator through the case language.
type stub struct {
	id        lab.ID
	env       lab.Env
	bank      *lab.Bank
	onDo      func(f *stub, c lab.Command) error
	onReceive func(f *stub, from lab.ID, m lab.Message)
}

func (f *stub) Receive(from lab.ID, m lab.Message) {
	if f.onReceive != nil {
		f.onReceive(f, from, m)
	}
}
func (f *stub) Tick() {}
func (f *stub) Do(c lab.Command) error {
	if f.onDo != nil {
		return f.onDo(f, c)
	}
	return nil
}
func (f *stub) Status() lab.Status { return lab.Status{ID: f.id} }

// A data line must name the request the primary is ordering; one that
// does not fails the case with both operations.
func TestDataLineNamesTheRequestOrdered(t *testing.T) {
	text := `title: t
points: 1
phases: pre-prepare
votes: manual

client: send account=alice,amount=5,operation=deposit
P0 (primary): tx
P0 (primary): account=alice,amount=9,operation=deposit

expect P0: executed 0
`
	c, err := script.Parse("t.case", text)
	require.NoError(t, err)
	s, failures, err := script.RunCase(c, func(cfg lab.Config, env lab.Env) lab.Replica {
		return &stub{id: cfg.ID, env: env, bank: cfg.Bank, onDo: func(f *stub, cmd lab.Command) error { return nil }}
	}, sim.Options{Seed: 1})
	require.NoError(t, err)
	require.NotNil(t, s)
	require.Len(t, failures, 1)
	assert.Equal(t, 8, failures[0].Line)
	assert.Contains(t, failures[0].Error(), "expected the primary ordering account=alice,amount=9,operation=deposit")
	assert.Contains(t, failures[0].Error(), "tx ordered nothing")
}

// A forged VIEW-CHANGE carries the certificates its line describes, and a
// forged NEW-VIEW the view changes its sender holds, in the order named,
// its own forged one among them, and the pre-prepares listed.
func TestForgedViewChangeAndNewView(t *testing.T) {
	text := `title: t
points: 1
phases: view-change
votes: manual
byzantine: P1

P0, P2, P3: view change
P1 (Byzantine): send VIEW-CHANGE v1 prepared n1 account=alice,amount=5,operation=deposit prepares P0 no, P-1 to P2
P1 (Byzantine): send NEW-VIEW v1 view changes from P3, P1, P0 with n1 request 1 in v0, n2 null wrong digest to P2

expect P0: executed 0
`
	c, err := script.Parse("t.case", text)
	require.NoError(t, err)
	var got []lab.Message
	_, failures, err := script.RunCase(c, func(cfg lab.Config, env lab.Env) lab.Replica {
		return &stub{id: cfg.ID, env: env, bank: cfg.Bank,
			onDo: func(f *stub, cmd lab.Command) error {
				f.env.Broadcast(&lab.ViewChange{View: 1, Replica: f.id})
				return nil
			},
			onReceive: func(f *stub, from lab.ID, m lab.Message) {
				if f.id == 2 && from == 1 {
					got = append(got, m)
				}
			}}
	}, sim.Options{Seed: 1})
	require.NoError(t, err)
	require.Empty(t, failures)
	require.Len(t, got, 2)

	req := lab.Request{Client: sim.ClientName, Timestamp: 1, Op: "account=alice,amount=5,operation=deposit"}
	d := lab.Digest(&req)
	vc := got[0].(*lab.ViewChange)
	assert.Equal(t, &lab.ViewChange{View: 1, Replica: 1, Prepared: []lab.Prepared{{
		PrePrepare: lab.PrePrepare{View: 0, Seq: 1, Digest: d, Request: &req},
		Prepares: []lab.Prepare{
			{View: 0, Seq: 1, Digest: d, Replica: 0},
			{View: 0, Seq: 1, Digest: d, Replica: -1, Yes: true},
		},
	}}}, vc)

	nv := got[1].(*lab.NewView)
	require.Len(t, nv.ViewChanges, 3)
	assert.Equal(t, []lab.ID{3, 1, 0}, []lab.ID{nv.ViewChanges[0].Replica, nv.ViewChanges[1].Replica, nv.ViewChanges[2].Replica})
	assert.Equal(t, *vc, nv.ViewChanges[1], "its own view change is the forged one it sent")
	assert.Equal(t, []lab.PrePrepare{
		{View: 0, Seq: 1, Digest: d, Request: &req},
		{View: 1, Seq: 2, Digest: "forged-" + lab.NullDigest},
	}, nv.PrePrepares)
}
