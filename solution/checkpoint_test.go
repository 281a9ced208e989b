package solution

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

func TestStableProof(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		digests map[lab.ID]string
		stable  bool
		proofOf []lab.ID
	}{
		{"f+1 matching digests are not enough", 4, map[lab.ID]string{0: "a", 1: "a"}, false, nil},
		{"2f+1 matching digests make it stable", 4, map[lab.ID]string{0: "a", 1: "a", 3: "a"}, true, []lab.ID{0, 1, 3}},
		{"one dissenting digest among four", 4, map[lab.ID]string{0: "a", 1: "b", 2: "a", 3: "a"}, true, []lab.ID{0, 2, 3}},
		{"two against two", 4, map[lab.ID]string{0: "a", 1: "b", 2: "a", 3: "b"}, false, nil},
		{"three replicas, three digests", 4, map[lab.ID]string{0: "a", 1: "b", 2: "c"}, false, nil},
		{"seven replicas: 2f+1 = 5", 7, map[lab.ID]string{0: "a", 1: "a", 2: "a", 3: "a", 4: "a"}, true, []lab.ID{0, 1, 2, 3, 4}},
		{"seven replicas: f+1 = 3 and even four are not", 7, map[lab.ID]string{0: "a", 1: "a", 2: "a", 3: "a"}, false, nil},
		{"nothing received", 4, nil, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			votes := map[lab.ID]lab.Checkpoint{}
			for id, d := range tt.digests {
				votes[id] = lab.Checkpoint{Seq: 100, Digest: d, Replica: id}
			}
			proof, ok := stableProof(votes, lab.Quorum(tt.n))
			assert.Equal(t, tt.stable, ok)
			var ids []lab.ID
			for _, c := range proof {
				ids = append(ids, c.Replica)
			}
			assert.Equal(t, tt.proofOf, ids)
		})
	}
}

// A replica that receives checkpoints for a sequence number it has not
// reached: f+1 of them change nothing, 2f+1 move its watermarks, and since
// it is behind it asks the others for their state.
func TestCheckpointMessagesMakeStable(t *testing.T) {
	r, env := newTestReplica(1, false)
	before := r.Status()
	assert.Equal(t, 0, before.Low)
	assert.Equal(t, lab.DefaultWindow, before.High)

	r.Receive(0, &lab.Checkpoint{Seq: 100, Digest: "d", Replica: 0})
	r.Receive(0, &lab.Checkpoint{Seq: 100, Digest: "d", Replica: 0}) // a copy counts once
	r.Receive(2, &lab.Checkpoint{Seq: 100, Digest: "d", Replica: 2})
	r.Receive(2, &lab.Checkpoint{Seq: 100, Digest: "x", Replica: 3}) // P2 cannot speak for P3
	st := r.Status()
	assert.Equal(t, 0, st.StableSeq, "f+1 = 2 matching checkpoints are not a stable checkpoint")
	assert.NotContains(t, env.sentKinds(), lab.KindStateRequest)

	r.Receive(3, &lab.Checkpoint{Seq: 100, Digest: "d", Replica: 3})
	st = r.Status()
	assert.Equal(t, 100, st.StableSeq)
	assert.Equal(t, "d", st.StableDigest)
	assert.Equal(t, 100, st.Low)
	assert.Equal(t, 100+lab.DefaultWindow, st.High)
	assert.Contains(t, env.sentKinds(), lab.KindStateRequest, "a replica behind a stable checkpoint fetches the state")

	// Messages at or below the low watermark are ignored now.
	r.Receive(0, &lab.Prepare{View: 0, Seq: 100, Digest: "d", Replica: 0, Yes: true})
	assert.Empty(t, r.Status().Log)
}

// The checkpoint command at the primary: it takes a checkpoint at its last
// executed sequence number and reports it; a backup following the
// primary's checkpoint takes one at the same sequence number.
func TestCheckpointCommand(t *testing.T) {
	p, penv := newTestReplica(0, false)
	b, benv := newTestReplica(1, false)
	assert.Error(t, p.Do(lab.Command{Op: lab.OpCheckpoint}), "nothing executed yet")
	for _, r := range []*Replica{p, b} {
		_, err := r.bank.Execute(1, request(1))
		require.NoError(t, err)
	}
	assert.Error(t, b.Do(lab.Command{Op: lab.OpCheckpoint}), "a backup does not start checkpoints")
	require.NoError(t, p.Do(lab.Command{Op: lab.OpCheckpoint}))
	require.Len(t, penv.checkpoints, 1)
	assert.Equal(t, 1, penv.checkpoints[0].snap.Seq)
	assert.False(t, penv.checkpoints[0].stable)

	c := penv.sent[len(penv.sent)-1].(*lab.Checkpoint)
	b.Receive(0, c)
	require.Len(t, benv.checkpoints, 1)
	assert.Equal(t, c.Digest, benv.checkpoints[0].snap.Digest, "equal states give equal digests")
	assert.Equal(t, 0, b.Status().StableSeq, "two replicas are f+1, not 2f+1")
}

// The primary orders nothing above the high watermark H = h + L, and
// carries on with the waiting requests once a stable checkpoint moves h
// (PBFT §4.3; pbft-pitfalls 4.7).
func TestPrimaryWaitsForTheWindowToMove(t *testing.T) {
	env := &recorder{}
	r := New(lab.Config{ID: 0, N: 4, CheckpointInterval: 2, Window: 4, Bank: lab.NewBank(nil, nil)}, env).(*Replica)
	for ts := range int64(6) {
		r.Receive(lab.Client, request(ts+1))
	}
	seqs := func() []int {
		var out []int
		for _, m := range env.sent {
			if pp, ok := m.(*lab.PrePrepare); ok {
				out = append(out, pp.Seq)
			}
		}
		return out
	}
	assert.Equal(t, []int{1, 2, 3, 4}, seqs(), "H = 0 + 4")
	assert.Error(t, r.Do(lab.Command{Op: lab.OpPropose}), "tx past H is refused")

	for _, id := range []lab.ID{1, 2, 3} {
		r.Receive(id, &lab.Checkpoint{Seq: 2, Digest: "d", Replica: id})
	}
	st := r.Status()
	assert.Equal(t, 2, st.Low)
	assert.Equal(t, 6, st.High)
	assert.Equal(t, []int{1, 2, 3, 4, 5, 6}, seqs(), "the two waiting requests go out once h = 2")
}
