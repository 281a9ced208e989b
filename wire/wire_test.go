package wire

import (
	"testing"

	"pbftlab/lab"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleMessages() []lab.Message {
	req := &lab.Request{Client: "c1", Timestamp: 7, Op: "account=alice,amount=100,operation=deposit"}
	pp := lab.PrePrepare{View: 1, Seq: 2, Digest: lab.Digest(req), Request: req}
	prep := lab.Prepare{View: 1, Seq: 2, Digest: pp.Digest, Replica: 3, Yes: true}
	batch := lab.PrePrepare{View: 1, Seq: 3, Request: req, Batch: []lab.Request{
		{Client: "c2", Timestamp: 1, Op: "account=bob,amount=5,operation=deposit"},
		{Client: "c3", Timestamp: 9, Op: ""},
	}}
	batch.Digest = batch.ContentDigest()
	return []lab.Message{
		req,
		&pp,
		&lab.PrePrepare{View: 0, Seq: 5, Digest: lab.NullDigest},
		&batch,
		&prep,
		&lab.Prepare{View: 0, Seq: 1, Digest: "x", Replica: 2},
		&lab.Commit{View: 4, Seq: 9, Digest: "d", Replica: 1, Yes: true},
		&lab.Reply{View: 1, Seq: 2, Timestamp: 7, Client: "c1", Replica: 2, Committed: true, Result: "alice=100"},
		&lab.Checkpoint{Seq: 100, Digest: "abc", Replica: 0},
		&lab.ViewChange{View: 2, StableSeq: 100, Checkpoints: []lab.Checkpoint{{Seq: 100, Digest: "abc", Replica: 1}},
			Prepared: []lab.Prepared{{PrePrepare: pp, Prepares: []lab.Prepare{prep}}}, Replica: 1},
		&lab.NewView{View: 2, ViewChanges: []lab.ViewChange{{View: 2, Replica: 3}}, PrePrepares: []lab.PrePrepare{pp, {View: 2, Seq: 3, Digest: lab.NullDigest}}},
		&lab.StateRequest{Replica: 3, Nonce: 4},
		&lab.StateReply{Replica: 1, Nonce: 4, View: 2, Checkpoint: lab.Snapshot{Seq: 100, Digest: "d", Balances: map[string]int{"alice": 80, "bob": 3}, Clients: map[string]int64{"c1": 7}},
			Committed: []lab.PrePrepare{pp, batch}},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for _, m := range sampleMessages() {
		t.Run(lab.KindOf(m).String(), func(t *testing.T) {
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
			assert.Error(t, err, "%s cut to %d of %d bytes", lab.KindOf(m), i, len(b))
		}
		_, err := Decode(append(b, 0))
		assert.Error(t, err, "%s with a trailing byte", lab.KindOf(m))
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

func TestDecodeRejectsBadBatches(t *testing.T) {
	first := &lab.Request{Client: "c", Timestamp: 1}
	good := Encode(&lab.PrePrepare{View: 0, Seq: 1, Digest: "d", Request: first, Batch: []lab.Request{{Client: "c", Timestamp: 2}}})
	form := 1 + 1 + 1 + 1 + 1 // kind, view, seq, digest length, digest
	require.Equal(t, ppRequest|ppBatch, good[form])
	for _, b := range []byte{4, ppBatch} { // unknown, and a batch without its first request
		bad := append([]byte(nil), good...)
		bad[form] = b
		_, err := Decode(bad)
		assert.ErrorContains(t, err, "bad pre-prepare form")
	}
	empty := append(append([]byte(nil), good[:form+1]...), Encode(first)[1:]...)
	empty = append(empty, 0)
	_, err := Decode(empty)
	assert.ErrorContains(t, err, "empty batch")
}

// BenchmarkCodec measures encoding and decoding each kind of message the
// normal case sends.
func BenchmarkCodec(b *testing.B) {
	for _, m := range sampleMessages()[:9] {
		data := Encode(m)
		b.Run("Encode/"+lab.KindOf(m).String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Encode(m)
			}
		})
		b.Run("Decode/"+lab.KindOf(m).String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
