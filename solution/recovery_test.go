package solution

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"pbftlab/lab"
)

func TestAgreedState(t *testing.T) {
	// The states of one run: snap[s] after the deposits at n1 to ns.
	bank := lab.NewBank(map[string]int{"alice": 100}, nil)
	snap := []lab.Snapshot{bank.Snapshot()}
	for seq := 1; seq <= 4; seq++ {
		_, err := bank.Execute(seq, request(int64(seq)))
		if err != nil {
			t.Fatal(err)
		}
		snap = append(snap, bank.Snapshot())
	}
	genesis := snap[0]
	tampered := snap[2]
	tampered.Balances = map[string]int{"alice": 1000}
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
		{name: "one reply vouches for nothing", replies: []*lab.StateReply{reply(0, 3, snap[2])}},
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
				reply(0, 1, snap[2], committed(3, 3)),
				reply(1, 1, genesis),
				reply(2, 1, snap[2], committed(3, 3), committed(4, 4)),
			},
			ok: true, checkpoint: 2, entries: []string{"3:3"}, view: 1,
		},
		{
			name: "a checkpoint only one replica vouches for is not adopted",
			replies: []*lab.StateReply{
				reply(0, 0, snap[2]),
				reply(1, 0, genesis, committed(1, 1)),
				reply(2, 0, genesis, committed(1, 1)),
			},
			ok: true, checkpoint: 0, entries: []string{"1:1"},
		},
		{
			name: "replicas stable at different checkpoints vouch for the state their entries reach",
			replies: []*lab.StateReply{
				reply(0, 0, snap[4]),
				reply(1, 0, snap[2], committed(3, 3), committed(4, 4)),
				reply(2, 0, genesis, committed(1, 1), committed(2, 2), committed(3, 3), committed(4, 4)),
			},
			ok: true, checkpoint: 4,
		},
		{
			name: "entries that reach another state do not vouch for a checkpoint",
			replies: []*lab.StateReply{
				reply(0, 0, snap[2]),
				reply(1, 0, genesis, committed(1, 1), committed(2, 9)),
			},
		},
		{
			name: "a snapshot whose contents do not match its digest is not adopted",
			replies: []*lab.StateReply{
				reply(0, 0, tampered),
				reply(1, 0, genesis, committed(1, 1), committed(2, 2)),
				reply(2, 0, genesis, committed(1, 1), committed(2, 2)),
			},
			ok: true, checkpoint: 0, entries: []string{"1:1", "2:2"},
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
