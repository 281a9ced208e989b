//pbftlab:reference-only

package solution

import (
	"slices"

	"pbftlab/lab"
)

// This file is the reference's fast mode, for a cluster run for speed
// (lab.Config.BatchSize at 1 or more, automatic votes): `make bench` and the
// TCP cluster turn it on, the lab's cases never do. The skeleton does not
// get this file, nor the lines of the phase files marked REFERENCE ONLY
// that call into it, so that the files students read hold the protocol and
// nothing else.
//
// The lab's protocol orders one request per sequence number, and a backup
// votes on a request only once every lower sequence number has executed, so
// that the bank it checks the request against is the same at every honest
// replica. That makes a cluster agree on one sequence number at a time: a
// prepare round and a commit round, then the next.
//
// A batching primary instead puts up to BatchSize waiting requests in one
// pre-prepare, and proposes the next batch without waiting for the last to
// execute, within the watermarks. Backups vote on a pre-prepare as soon as
// they accept it, on what does not depend on the state: yes when every
// request in it is well formed (lab.CheckOperation), no otherwise. Honest
// replicas therefore still vote alike, without waiting. What depends on the
// state, an overdraft, is settled at execution: the bank applies a batch's
// requests in order and rejects one it cannot apply, in the same way at
// every honest replica, and the client's reply says so ("rejected:
// insufficient funds") where the lab's protocol would have aborted it. A
// malformed request is never batched with others: an honest primary
// proposes it alone, so that the backups' no aborts only that request.

// fast is the fast mode's part of a replica.
type fast struct {
	// slab holds fresh entries: they are allocated entrySlab at a time,
	// which costs far less than one by one.
	slab []entry
	// future holds what a batching replica received for sequence numbers
	// above its high watermark, until its window moves (see stash).
	future    []held
	heldKeys  map[heldKey]bool
	replaying bool
	// whole is the history as grownOutcomes last returned it.
	whole []lab.Outcome
}

const entrySlab = 32

// slabEntry returns a fresh, empty log entry from the slab, with the room
// for its votes in place. It never returns nil; newEntry checks only so
// that the skeleton, which allocates entries one by one, reads naturally.
func (r *Replica) slabEntry() *entry {
	if len(r.slab) == 0 {
		r.slab = make([]entry, entrySlab)
	}
	e := &r.slab[0]
	r.slab = r.slab[1:]
	e.prepares, e.commits = e.prepareRoom[:0], e.commitRoom[:0]
	return e
}

// pipelineDepth is how many of its sequence numbers a batching primary lets
// be in flight (proposed, not yet executed) before it holds requests back
// to gather a fuller batch. A full batch goes at once whatever the depth.
const pipelineDepth = 4

// batching reports whether this replica batches and pipelines.
func (r *Replica) batching() bool { return r.cfg.BatchSize > 0 && !r.cfg.Manual }

// proposeBatches orders the waiting requests in batches of up to
// BatchSize, as long as the window has room. While pipelineDepth sequence
// numbers are in flight, a batch goes only once it is full; otherwise what
// waits goes now, so a lone request is never held back.
//
// A batching primary stops one checkpoint interval short of its high
// watermark, so that what it sends is inside the window of a backup whose
// last checkpoint is not stable yet (the CHECKPOINT messages that make it
// so are still on their way); such a backup would only have to keep it
// aside until its window moves (see stash).
func (r *Replica) proposeBatches() {
	slack := min(r.cfg.CheckpointInterval, r.cfg.Window/2)
	for len(r.pending) > 0 && r.inWindow(r.seq+1) && r.seq+1 <= r.high()-slack {
		if len(r.pending) < r.cfg.BatchSize && r.seq-r.bank.LastExecuted() >= pipelineDepth {
			return
		}
		k := r.batchLen()
		if k == 1 {
			if !r.propose() {
				return
			}
			continue
		}
		batch := slices.Clone(r.pending[:k])
		r.pending = r.pending[k:]
		r.seq++
		pp := &lab.PrePrepare{View: r.view, Seq: r.seq, Request: &batch[0], Batch: batch[1:]}
		pp.Digest = pp.ContentDigest()
		e := r.entry(pp.Seq)
		e.pp, e.phase = pp, lab.PhasePrePrepared
		for i := range batch {
			r.ordered[keyOf(&batch[i])] = true
		}
		r.env.Broadcast(pp)
		if r.tracing {
			r.env.Logf("pre-prepare v%d n%d: a batch of %d requests", pp.View, pp.Seq, k)
		}
	}
}

// batchLen is how many of the oldest waiting requests go in the next
// batch: up to BatchSize well-formed ones, or a malformed one alone.
func (r *Replica) batchLen() int {
	if lab.CheckOperation(r.pending[0].Op) != nil {
		return 1
	}
	k := 1
	for k < len(r.pending) && k < r.cfg.BatchSize && lab.CheckOperation(r.pending[k].Op) == nil {
		k++
	}
	return k
}

// accepted follows the acceptance of a pre-prepare: the requests of a
// batch after its first are now ordered too, and a batching backup votes
// at once.
func (r *Replica) accepted(pp *lab.PrePrepare) {
	for i := range pp.Batch {
		r.ordered[keyOf(&pp.Batch[i])] = true
		r.dropPending(&pp.Batch[i])
	}
	if !r.batching() || r.isPrimary() || r.viewChanging {
		return
	}
	if e := r.log[pp.Seq]; e != nil && e.pp != nil && !e.voted && !e.decided() {
		r.vote(e, wellFormed(e.pp))
	}
}

// wellFormed is a batching replica's vote: every request in pp is well
// formed. The null request is.
func wellFormed(pp *lab.PrePrepare) bool {
	if pp.Request != nil && lab.CheckOperation(pp.Request.Op) != nil {
		return false
	}
	for i := range pp.Batch {
		if lab.CheckOperation(pp.Batch[i].Op) != nil {
			return false
		}
	}
	return true
}

// executeBatch executes the entry after the last executed one if it is a
// decided batch, as executeNext does a single request: a committed batch
// applies its requests in order, an aborted one applies nothing, and every
// request's client hears how it ended. It reports whether it executed.
func (r *Replica) executeBatch() bool {
	e := r.log[r.bank.LastExecuted()+1]
	if e == nil || !e.decided() || e.executed || e.pp == nil || len(e.pp.Batch) == 0 {
		return false
	}
	reqs := e.pp.Requests()
	committed := e.phase == lab.PhaseCommitted
	var results []string
	var err error
	if committed {
		results, err = r.bank.ExecuteBatch(e.seq, reqs)
	} else {
		err = r.bank.Abort(e.seq, nil)
	}
	if err != nil {
		r.env.Logf("execute n%d: %v", e.seq, err)
		return false
	}
	e.executed = true
	for i := range reqs {
		req := &reqs[i]
		delete(r.ordered, keyOf(req))
		result := "aborted"
		if committed {
			result = results[i]
		}
		r.history = append(r.history, lab.Outcome{View: e.pp.View, Seq: e.seq, Request: *req, Committed: committed, Result: result})
		r.env.Reply(lab.Reply{View: r.view, Seq: e.seq, Timestamp: req.Timestamp, Client: req.Client, Replica: r.id, Committed: committed, Result: result})
	}
	return true
}

// refill follows execute: when it executed something past before, a
// batching primary has room in its pipeline, and what waited may go now.
func (r *Replica) refill(before int) {
	if r.bank.LastExecuted() > before && r.batching() && r.isPrimary() && !r.viewChanging {
		r.proposePending()
	}
}

// fastReceive is where a batching replica looks at a message before
// Receive dispatches it: it may be for a window the replica has not reached
// yet (see stash). It reports whether the message was kept aside.
func (r *Replica) fastReceive(from lab.ID, m lab.Message) bool {
	if !r.batching() {
		return false
	}
	switch m := m.(type) {
	case *lab.PrePrepare:
		if r.viewChanging && m.View != r.view {
			return false // Receive ignores it, and says so
		}
		return r.stash(from, m, m.View, m.Seq)
	case *lab.Prepare:
		return r.stash(from, m, m.View, m.Seq)
	case *lab.Commit:
		return r.stash(from, m, m.View, m.Seq)
	case *lab.Checkpoint:
		return r.stash(from, m, 0, m.Seq)
	}
	return false
}

// held is a message kept aside by stash.
type held struct {
	heldKey
	m lab.Message
}

// heldKey is what stash keeps one message for: a sender's message of one
// kind, for one view and sequence number. The handlers keep only the first
// of those anyway, and a Byzantine replica cannot fill the space kept for
// the others by repeating itself.
type heldKey struct {
	from      lab.ID
	kind      lab.Kind
	view, seq int
}

// stash keeps aside, for a batching replica, a message for a sequence
// number above its high watermark but within one more window, and reports
// whether it did. The window of replicas moves when their checkpoints
// become stable, at slightly different times: a replica that drops what
// arrives just before its own window moves, as PBFT's rules say, loses
// it, since nothing sends it again, and a cluster whose replicas take
// turns to fall behind may find that every quorum misses a vote. What is
// kept is handled once the window has moved (replayFuture), by the same
// rules as the rest. The lab's protocol, one sequence number at a time,
// never gets that far ahead.
func (r *Replica) stash(from lab.ID, m lab.Message, view, seq int) bool {
	if seq <= r.high() || seq > r.high()+r.cfg.Window || len(r.future) >= maxHeld*r.cfg.Window {
		return false
	}
	k := heldKey{from, lab.KindOf(m), view, seq}
	if r.heldKeys == nil {
		r.heldKeys = map[heldKey]bool{}
	}
	if !r.heldKeys[k] {
		r.heldKeys[k] = true
		r.future = append(r.future, held{k, m})
	}
	return true
}

// maxHeld bounds what stash keeps, per sequence number of the window: a
// pre-prepare, a prepare and a commit from every replica of a cluster of
// four, and checkpoints, with room to spare.
const maxHeld = 16

// replayFuture handles, in the order they came, the messages stash kept
// that the window now covers; handling them may move it again.
func (r *Replica) replayFuture() {
	if r.replaying || len(r.future) == 0 {
		return
	}
	r.replaying = true
	defer func() { r.replaying = false }()
	for moved := true; moved; {
		moved = false
		kept := r.future
		r.future = nil
		for _, h := range kept {
			if h.seq > r.high() {
				r.future = append(r.future, h)
				continue
			}
			delete(r.heldKeys, h.heldKey)
			high := r.high()
			r.Receive(h.from, h.m)
			moved = moved || r.high() != high
		}
	}
}

// requestsOf lists the requests of a batch's outcomes, in order.
func requestsOf(os []lab.Outcome) []lab.Request {
	out := make([]lab.Request, len(os))
	for i, o := range os {
		out[i] = o.Request
	}
	return out
}

// grownOutcomes returns the whole history, as allOutcomes does, without
// copying all of it each time. A console asks for the replica's Status
// after every step, and a copy each time made a long session slower with
// every request. The reference's history only grows: outcomes are
// appended, and archiveHistory moves a prefix into a chunk unchanged. So
// one copy is kept, extended by what was added since the last call, and
// shared by every Status. It is clipped, so that a caller's append copies
// it rather than writing into it; no caller writes into a Status.
func (r *Replica) grownOutcomes() []lab.Outcome {
	have, at := len(r.whole), 0
	grow := func(c []lab.Outcome) {
		if at+len(c) > have {
			r.whole = append(r.whole, c[max(have-at, 0):]...)
		}
		at += len(c)
	}
	for _, c := range r.archived {
		grow(c)
	}
	grow(r.history)
	return slices.Clip(r.whole)
}
