package solution

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"pbftlab/lab"
)

func TestAgreedState(t *testing.T) {
	genesis := lab.Snapshot{Seq: 0, Digest: "g"}
	cp := lab.Snapshot{Seq: 100, Digest: "c"}
	committed := func(seq int, ts int64) lab.PrePrepare {
		req := request(ts)
		return lab.PrePrepare{Seq: seq, Digest: lab.Digest(req), Request: req}
	}
	aborted := func(seq int, ts int64) lab.PrePrepare {
		return lab.PrePrepare{Seq: seq, Digest: lab.NullDigest, Request: request(ts)}
	}
	reply := func(from lab.ID, view int, snap lab.Snapshot, pps ...lab.PrePrepare) *lab.StateReply {
		return &lab.StateReply{Replica: from, View: view, Checkpoint: snap, Committed: pps}
	}
	tests := []struct {
		name       string
		replies    []*lab.StateReply
		ok         bool
		checkpoint int
		entries    []string // "seq:timestamp" for a committed request, "seq:null" for one that ran as nothing
		view       int
	}{
		{name: "one reply vouches for nothing", replies: []*lab.StateReply{reply(0, 3, cp)}},
		{
			name:    "two alike are f+1",
			replies: []*lab.StateReply{reply(0, 0, genesis, committed(1, 1)), reply(1, 0, genesis, committed(1, 1))},
			ok:      true, entries: []string{"1:1"},
		},
		{
			name: "an entry only one replica reports is not adopted, nor anything after it",
			replies: []*lab.StateReply{
				reply(0, 0, genesis, committed(1, 1), committed(2, 2), committed(3, 3)),
				reply(1, 0, genesis, committed(1, 1), committed(2, 9), committed(3, 3)),
			},
			ok: true, entries: []string{"1:1"},
		},
		{
			name: "an aborted entry is not a committed one",
			replies: []*lab.StateReply{
				reply(0, 0, genesis, committed(1, 1)),
				reply(1, 0, genesis, aborted(1, 1)),
				reply(2, 0, genesis, aborted(1, 1)),
			},
			ok: true, entries: []string{"1:null"},
		},
		{
			name: "the latest checkpoint f+1 agree on, and what follows it",
			replies: []*lab.StateReply{
				reply(0, 1, cp, committed(101, 5)),
				reply(1, 1, genesis),
				reply(2, 1, cp, committed(101, 5), committed(102, 6)),
			},
			ok: true, checkpoint: 100, entries: []string{"101:5"}, view: 1,
		},
		{
			name: "a checkpoint only one replica reports is not adopted",
			replies: []*lab.StateReply{
				reply(0, 0, cp),
				reply(1, 0, genesis, committed(1, 1)),
				reply(2, 0, genesis, committed(1, 1)),
			},
			ok: true, checkpoint: 0, entries: []string{"1:1"},
		},
		{
			name:    "the view is the highest that f+1 are in or past",
			replies: []*lab.StateReply{reply(0, 7, genesis), reply(1, 2, genesis), reply(2, 3, genesis)},
			ok:      true, view: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := agreedState(tt.replies, lab.Weak(4))
			assert.Equal(t, tt.ok, ok)
			if !ok {
				return
			}
			assert.Equal(t, tt.checkpoint, a.checkpoint.Seq)
			var seqs []string
			for _, pp := range a.entries {
				what := "null"
				if pp.Digest != lab.NullDigest {
					what = fmt.Sprint(pp.Request.Timestamp)
				}
				seqs = append(seqs, fmt.Sprintf("%d:%s", pp.Seq, what))
			}
			assert.Equal(t, tt.entries, seqs)
			assert.Equal(t, tt.view, a.view)
		})
	}
}
