package solution

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

// A replica that learns a checkpoint is stable before it reaches it, and
// then reaches it by executing what state transfer brings, holds that
// state from then on: it reports the checkpoint stable, and it answers the
// state requests of others. Before, it answered none until the next stable
// checkpoint, so a replica recovering next to it could wait forever for
// f+1 matching replies (a stress run found it).
func TestCatchingUpToTheStableCheckpoint(t *testing.T) {
	env := &recorder{}
	start := map[string]int{"alice": 100}
	r := New(lab.Config{ID: 1, N: 4, CheckpointInterval: 2, Bank: lab.NewBank(start, nil)}, env).(*Replica)

	genesis := lab.NewBank(start, nil)
	ahead := lab.NewBank(start, nil)
	var committed []lab.PrePrepare
	for ts := range int64(2) {
		req := lab.Request{Client: "c", Timestamp: ts + 1, Op: "account=alice,amount=10,operation=deposit"}
		_, err := ahead.Execute(int(ts)+1, &req)
		require.NoError(t, err)
		committed = append(committed, lab.PrePrepare{Seq: int(ts) + 1, Digest: lab.Digest(&req), Request: &req})
	}
	for _, id := range []lab.ID{0, 2, 3} {
		r.Receive(id, &lab.Checkpoint{Seq: 2, Digest: ahead.Digest(), Replica: id})
	}
	require.Equal(t, 2, r.Status().StableSeq, "2f+1 matching checkpoints")
	require.Equal(t, 0, r.Status().LastExecuted)

	for _, id := range []lab.ID{0, 2} {
		r.Receive(id, &lab.StateReply{Replica: id, Nonce: r.nonce, Checkpoint: genesis.Snapshot(), Committed: committed})
	}
	require.Equal(t, 2, r.Status().LastExecuted, "caught up by executing n1 and n2")
	require.NotEmpty(t, env.checkpoints)
	last := env.checkpoints[len(env.checkpoints)-1]
	assert.True(t, last.stable)
	assert.Equal(t, 2, last.snap.Seq)
	assert.Equal(t, ahead.Digest(), last.snap.Digest)

	env.sent = nil
	r.Receive(3, &lab.StateRequest{Replica: 3, Nonce: 7})
	require.Len(t, env.sent, 1, "it answers a state request")
	rep, ok := env.sent[0].(*lab.StateReply)
	require.True(t, ok)
	assert.Equal(t, 2, rep.Checkpoint.Seq)
	assert.Equal(t, 7, rep.Nonce)
}
