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

// A replica behind by more than its window asks for the state once f+1
// replicas, one of them at least honest, announce checkpoints above its
// high watermark; a batching one only beyond the window it keeps aside.
func TestNoticeBehind(t *testing.T) {
	for _, batch := range []int{0, 10} {
		r, env := newBatchingReplica(1, batch)
		limit := r.high()
		if batch > 0 {
			limit += r.cfg.Window
		}
		asked := func() int { return len(sentOf[*lab.StateRequest](env)) }
		for _, id := range []lab.ID{0, 2} {
			r.Receive(id, &lab.Checkpoint{Seq: limit, Digest: "d", Replica: id})
		}
		assert.Zero(t, asked(), "batch=%d: at the limit, nothing is missed", batch)
		far := limit + lab.DefaultCheckpointInterval
		r.Receive(0, &lab.Checkpoint{Seq: far, Digest: "d", Replica: 0})
		r.Receive(0, &lab.Checkpoint{Seq: far + 100, Digest: "d", Replica: 0})
		assert.Zero(t, asked(), "batch=%d: one replica, perhaps lying, is not enough", batch)
		r.Receive(2, &lab.Checkpoint{Seq: far, Digest: "d", Replica: 3}) // not who it claims to be
		assert.Zero(t, asked(), "batch=%d", batch)
		r.Receive(2, &lab.Checkpoint{Seq: far, Digest: "d", Replica: 2})
		assert.Equal(t, 1, asked(), "batch=%d: f+1 replicas ahead: one of them is honest", batch)
		for _, h := range r.future {
			assert.LessOrEqual(t, h.seq, limit, "batch=%d: nothing that far ahead is kept", batch)
		}
		r.Receive(3, &lab.Checkpoint{Seq: far, Digest: "d", Replica: 3})
		assert.Equal(t, 1, asked(), "batch=%d: asked once; the next round needs f+1 again", batch)
	}
}
