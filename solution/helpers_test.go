package solution

import (
	"fmt"

	"pbftlab/lab"
)

// recorder is an Env that keeps what the replica sends, for unit tests.
type recorder struct {
	sent        []lab.Message // broadcasts and sends, in order
	checkpoints []reported
}

type reported struct {
	snap   lab.Snapshot
	stable bool
}

func (e *recorder) Send(to lab.ID, m lab.Message) { e.sent = append(e.sent, m) }
func (e *recorder) Broadcast(m lab.Message)       { e.sent = append(e.sent, m) }
func (e *recorder) Reply(lab.Reply)               {}
func (e *recorder) Logf(string, ...any)           {}
func (e *recorder) Checkpointed(s lab.Snapshot, stable bool) {
	e.checkpoints = append(e.checkpoints, reported{s, stable})
}

// sentKinds lists the kinds of what was sent, for assertions.
func (e *recorder) sentKinds() []lab.Kind {
	out := make([]lab.Kind, len(e.sent))
	for i, m := range e.sent {
		out[i] = lab.KindOf(m)
	}
	return out
}

func newTestReplica(id lab.ID, manual bool) (*Replica, *recorder) {
	env := &recorder{}
	r := New(lab.Config{ID: id, N: 4, Manual: manual, Bank: lab.NewBank(map[string]int{"alice": 100}, nil)}, env).(*Replica)
	return r, env
}

func request(ts int64) *lab.Request {
	return &lab.Request{Client: "c", Timestamp: ts, Op: fmt.Sprintf("account=alice,amount=%d,operation=deposit", ts)}
}

// prepared builds a valid certificate: the pre-prepare of request ts at seq
// in view v, and yes prepares from the given backups.
func prepared(v, seq int, ts int64, backups ...lab.ID) lab.Prepared {
	req := request(ts)
	pp := lab.PrePrepare{View: v, Seq: seq, Digest: lab.Digest(req), Request: req}
	p := lab.Prepared{PrePrepare: pp}
	for _, id := range backups {
		p.Prepares = append(p.Prepares, lab.Prepare{View: v, Seq: seq, Digest: pp.Digest, Replica: id, Yes: true})
	}
	return p
}

// backupsOf returns the 2f = 2 backups of view v in a cluster of four.
func backupsOf(v int) []lab.ID {
	var out []lab.ID
	for id := range lab.ID(4) {
		if id != lab.Primary(v, 4) && len(out) < 2 {
			out = append(out, id)
		}
	}
	return out
}

// proofOf builds the 2f+1 checkpoints that make seq stable with digest d.
func proofOf(seq int, d string, ids ...lab.ID) []lab.Checkpoint {
	var out []lab.Checkpoint
	for _, id := range ids {
		out = append(out, lab.Checkpoint{Seq: seq, Digest: d, Replica: id})
	}
	return out
}

func vc(v int, from lab.ID, stable int, ps ...lab.Prepared) lab.ViewChange {
	m := lab.ViewChange{View: v, StableSeq: stable, Prepared: ps, Replica: from}
	if stable > 0 {
		m.Checkpoints = proofOf(stable, "s", 0, 1, 2)
	}
	return m
}
