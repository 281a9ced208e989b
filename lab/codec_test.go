package lab

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleMessages() []Message {
	req := &Request{Client: "c1", Timestamp: 7, Op: "account=alice,amount=100,operation=deposit"}
	pp := PrePrepare{View: 1, Seq: 2, Digest: Digest(req), Request: req}
	prep := Prepare{View: 1, Seq: 2, Digest: pp.Digest, Replica: 3, Yes: true}
	return []Message{
		req,
		&pp,
		&PrePrepare{View: 0, Seq: 5, Digest: NullDigest},
		&prep,
		&Prepare{View: 0, Seq: 1, Digest: "x", Replica: 2},
		&Commit{View: 4, Seq: 9, Digest: "d", Replica: 1, Commit: true},
		&Reply{View: 1, Seq: 2, Timestamp: 7, Client: "c1", Replica: 2, Committed: true, Result: "alice=100"},
		&Checkpoint{Seq: 100, Digest: "abc", Replica: 0},
		&ViewChange{View: 2, StableSeq: 100, Checkpoints: []Checkpoint{{Seq: 100, Digest: "abc", Replica: 1}},
			Prepared: []Prepared{{PrePrepare: pp, Prepares: []Prepare{prep}}}, Replica: 1},
		&NewView{View: 2, ViewChanges: []ViewChange{{View: 2, Replica: 3}}, PrePrepares: []PrePrepare{pp, {View: 2, Seq: 3, Digest: NullDigest}}},
		&StateRequest{Replica: 3, Nonce: 4},
		&StateReply{Replica: 1, Nonce: 4, View: 2, Checkpoint: Snapshot{Seq: 100, Digest: "d", Balances: map[string]int{"alice": 80, "bob": 3}, Clients: map[string]int64{"c1": 7}},
			Committed: []PrePrepare{pp}},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for _, m := range sampleMessages() {
		t.Run(KindOf(m).String(), func(t *testing.T) {
			got, err := Decode(Encode(m))
			require.NoError(t, err)
			assert.Equal(t, m, got)
		})
	}
}

// Every proper prefix of a valid frame, and a frame with a byte too many, is
// rejected with an error rather than a panic or a half-filled message.
func TestCodecRejectsDamagedFrames(t *testing.T) {
	for _, m := range sampleMessages() {
		b := Encode(m)
		for i := range b {
			_, err := Decode(b[:i])
			assert.Error(t, err, "%s cut to %d of %d bytes", KindOf(m), i, len(b))
		}
		_, err := Decode(append(b, 0))
		assert.Error(t, err, "%s with a trailing byte", KindOf(m))
	}
	_, err := Decode([]byte{200})
	assert.ErrorContains(t, err, "unknown message kind")
}

func FuzzDecode(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(Encode(m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Decode(Encode(m))
		require.NoError(t, err)
		assert.Equal(t, m, again)
	})
}
