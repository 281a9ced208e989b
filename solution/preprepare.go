package solution

import (
	"errors"
	"fmt"
	"slices"

	"pbftlab/lab"
)

// onRequest takes a client request. The primary orders it, at once when
// votes are automatic and on "tx" when they are typed; a backup passes it
// on to the primary, which is where the client should have sent it.
func (r *Replica) onRequest(from lab.ID, req lab.Request) {
	if r.bank.Executed(req.Client, req.Timestamp) || r.known(req) {
		return
	}
	if !r.isPrimary() {
		r.pending = append(r.pending, req)
		if from == lab.Client {
			r.env.Send(r.primary(), &req)
		}
		return
	}
	r.pending = append(r.pending, req)
	if !r.cfg.Manual {
		r.proposePending()
	}
}

// known reports whether req is already waiting or in the log.
func (r *Replica) known(req lab.Request) bool {
	for _, p := range r.pending {
		if p.Client == req.Client && p.Timestamp == req.Timestamp {
			return true
		}
	}
	return r.ordered[keyOf(&req)]
}

// reqKey identifies a request: a client numbers its requests.
type reqKey struct {
	client    string
	timestamp int64
}

func keyOf(r *lab.Request) reqKey { return reqKey{r.Client, r.Timestamp} }

// proposeCommand is "tx" at the console: order the oldest pending request,
// or the operation typed after tx.
func (r *Replica) proposeCommand(op string) error {
	if !r.isPrimary() {
		return fmt.Errorf("%s is not the primary of view %d (%s is)", r.id, r.view, r.primary())
	}
	if op != "" {
		r.consoleTS++
		r.pending = append(r.pending, lab.Request{Client: "console-" + r.id.String(), Timestamp: r.consoleTS, Op: op})
	}
	if len(r.pending) == 0 {
		return errors.New("no client request is waiting to be ordered")
	}
	if !r.propose() {
		if !r.inWindow(r.seq + 1) {
			return fmt.Errorf("sequence number %d is above the high watermark %d", r.seq+1, r.high())
		}
		return errors.New("the request was not ordered: propose returned false")
	}
	return nil
}

// proposePending orders every waiting request the window has room for;
// a batching primary orders them in batches (see proposeBatches).
func (r *Replica) proposePending() {
	if r.batching() {
		r.proposeBatches()
		return
	}
	for len(r.pending) > 0 && r.propose() {
	}
}

// Batching and pipelining, for a cluster run for speed (lab.Config.BatchSize
// at 1 or more, automatic votes). The lab's cases never turn it on, and
// nothing here is part of what students write.
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

// propose assigns the next sequence number to the oldest pending request
// and sends the pre-prepare to every backup. It reports false when the
// sequence number would fall outside the watermarks.
func (r *Replica) propose() bool {
	// BEGIN TODO(pre-prepare): as primary, give the oldest pending request the next sequence number (only inside the watermarks), record the pre-prepare in your log and broadcast it
	if !r.inWindow(r.seq + 1) {
		return false
	}
	req := r.pending[0]
	r.pending = r.pending[1:]
	r.seq++
	pp := &lab.PrePrepare{View: r.view, Seq: r.seq, Digest: lab.Digest(&req), Request: &req}
	e := r.entry(pp.Seq)
	e.pp, e.phase = pp, lab.PhasePrePrepared
	r.ordered[keyOf(&req)] = true
	r.env.Broadcast(pp)
	if r.tracing {
		r.env.Logf("pre-prepare v%d n%d %s", pp.View, pp.Seq, req.Op)
	}
	return true
	// END TODO
}

// onPrePrepare accepts the primary's proposal, if it is one an honest
// primary could have sent: from the primary of the current view, inside the
// watermarks, with a digest that matches its request, and not in conflict
// with a pre-prepare already accepted for the same view and sequence number.
func (r *Replica) onPrePrepare(from lab.ID, pp *lab.PrePrepare) {
	// BEGIN TODO(pre-prepare): accept a pre-prepare only from the current view's primary, for the current view, inside the watermarks, with a digest matching its request, and never a second digest for one (view, seq)
	if from != r.primary() || pp.View != r.view || !r.inWindow(pp.Seq) || pp.Digest != pp.ContentDigest() {
		return
	}
	e := r.entry(pp.Seq)
	if e.pp != nil {
		if e.pp.Digest != pp.Digest {
			r.env.Logf("rejected a second pre-prepare for v%d n%d with another digest", pp.View, pp.Seq)
		}
		return
	}
	e.pp, e.phase = pp, lab.PhasePrePrepared
	if pp.Request != nil {
		r.ordered[keyOf(pp.Request)] = true
	}
	r.dropPending(pp.Request)
	if r.tracing {
		r.env.Logf("accepted pre-prepare v%d n%d", pp.View, pp.Seq)
	}
	// END TODO
	r.accepted(pp)
	r.autoVote()
}

// dropPending forgets a waiting request once it has been ordered.
func (r *Replica) dropPending(req *lab.Request) {
	if req == nil {
		return
	}
	for i, p := range r.pending {
		if p.Client == req.Client && p.Timestamp == req.Timestamp {
			r.pending = append(r.pending[:i], r.pending[i+1:]...)
			return
		}
	}
}
