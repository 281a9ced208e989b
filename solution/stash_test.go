package solution

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

func newBatchingReplica(id lab.ID, batch int) (*Replica, *recorder) {
	env := &recorder{}
	r := New(lab.Config{ID: id, N: 4, BatchSize: batch, Bank: lab.NewBank(nil, nil)}, env).(*Replica)
	return r, env
}

func sentOf[M lab.Message](env *recorder) []M {
	var out []M
	for _, m := range env.sent {
		if x, ok := m.(M); ok {
			out = append(out, x)
		}
	}
	return out
}

// A batching backup keeps a pre-prepare that arrives just above its high
// watermark and handles it once its window has moved; the lab's protocol
// drops it, as PBFT's rules say.
func TestStashAboveTheWindow(t *testing.T) {
	for _, batch := range []int{0, 10} {
		r, env := newBatchingReplica(1, batch)
		require.Equal(t, 200, r.high())
		req := request(1)
		pp := &lab.PrePrepare{View: 0, Seq: 205, Digest: lab.Digest(req), Request: req}
		r.Receive(0, pp)
		assert.Nil(t, r.log[205], "batch=%d: nothing is accepted above the high watermark", batch)

		for _, id := range []lab.ID{0, 2, 3} {
			r.Receive(id, &lab.Checkpoint{Seq: 100, Digest: "d", Replica: id})
		}
		require.Equal(t, 100, r.stableSeq, "batch=%d", batch)
		votes := sentOf[*lab.Prepare](env)
		if batch == 0 {
			assert.Nil(t, r.log[205], "the lab's protocol dropped it")
			assert.Empty(t, votes)
			continue
		}
		require.NotNil(t, r.log[205], "handled once the window moved")
		assert.Equal(t, pp.Digest, r.log[205].pp.Digest)
		require.Len(t, votes, 1, "a batching backup votes at once")
		assert.Equal(t, 205, votes[0].Seq)
		assert.True(t, votes[0].Yes)
		assert.Empty(t, r.future)
	}
}

// What stash keeps is one message per sender, kind, view and sequence
// number: a replica repeating itself takes no more room.
func TestStashKeepsOneOfEach(t *testing.T) {
	r, _ := newBatchingReplica(1, 10)
	for range 50 {
		r.Receive(3, &lab.Prepare{View: 0, Seq: 250, Digest: "x", Replica: 3, Yes: true})
	}
	r.Receive(3, &lab.Prepare{View: 1, Seq: 250, Digest: "x", Replica: 3, Yes: true})
	r.Receive(2, &lab.Prepare{View: 0, Seq: 250, Digest: "x", Replica: 2, Yes: true})
	r.Receive(3, &lab.Commit{View: 0, Seq: 250, Digest: "x", Replica: 3, Yes: true})
	assert.Len(t, r.future, 4)
	for _, id := range []lab.ID{0, 2, 3} {
		r.Receive(id, &lab.Checkpoint{Seq: 100, Digest: "d", Replica: id})
	}
	assert.Empty(t, r.future, "handled once the window moved")
	assert.Empty(t, r.heldKeys)
	require.NotNil(t, r.log[250])
	assert.Len(t, r.log[250].prepares, 2, "the view-0 prepares of P2 and P3; view 1 is not this replica's")
}
