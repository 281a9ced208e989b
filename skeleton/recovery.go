package skeleton

import (
	"maps"
	"slices"

	"pbftlab/lab"
)

// recovery is a replica's state transfer: after a crash, or when it finds
// a stable checkpoint above what it executed, it asks the others for their
// state and adopts what f+1 of them report alike, since at least one of
// those is honest.
type recovery struct {
	nonce   int
	replies map[lab.ID]*lab.StateReply // answers to the latest request, one per sender
	// ahead holds, by replica, the latest checkpoint it announced above
	// this replica's high watermark (see noticeBehind).
	ahead map[lab.ID]int
}

// noticeBehind notices that this replica fell behind by more than its
// window: f+1 replicas, one of them at least honest, announced checkpoints
// above its high watermark. Such a replica cannot catch up on the messages
// it receives, since it drops those beyond its window, CHECKPOINT messages
// included, so its stable checkpoint never moves; it asks for the state
// instead. A replica restarted in the middle of a long run, whose state
// transfer brought a checkpoint the others had left behind by the time it
// arrived, would otherwise stay behind until the next view change.
func (r *Replica) noticeBehind(from lab.ID, c *lab.Checkpoint) {
	limit := r.high()
	if c.Replica != from || from == r.id || c.Seq <= limit {
		return
	}
	if r.ahead == nil {
		r.ahead = map[lab.ID]int{}
	}
	r.ahead[from] = max(r.ahead[from], c.Seq)
	behind := 0
	for _, seq := range r.ahead {
		if seq > limit {
			behind++
		}
	}
	if behind >= lab.Weak(r.n) {
		clear(r.ahead)
		r.env.Logf("%d replicas took checkpoints above n%d, beyond what this replica can take part in: catching up", behind, limit)
		r.askForState()
	}
}

// recoverCommand is the first call a replica gets after a crash.
func (r *Replica) recoverCommand() error {
	r.waited = 0
	r.askForState()
	return nil
}

// askForState starts a new round of state transfer.
func (r *Replica) askForState() {
	// TODO(recovery): start a new round: a fresh nonce, no replies yet, and a STATE-REQUEST (your id, the nonce) to every other replica
	r.env.Logf("asked the others for their state (#%d)", r.nonce)
}

// onStateRequest answers a replica that is catching up. A replica that does
// not hold the state of its own stable checkpoint has nothing to vouch for.
func (r *Replica) onStateRequest(from lab.ID, q *lab.StateRequest) {
	if q.Replica != from || r.stableSnap == nil {
		return
	}
	// TODO(recovery): answer with the nonce, the view you are in, your stable checkpoint's snapshot and, in sequence order, what you executed above it (see executedAt)
}

// executedAt describes what this replica executed at seq, as a state reply
// carries it: the pre-prepare of a committed request; for an aborted one
// the request with the null digest, since it executed as nothing; the null
// request where no request ran.
func (r *Replica) executedAt(seq int) lab.PrePrepare {
	os := r.outcomes(seq)
	if len(os) == 0 {
		return lab.PrePrepare{Seq: seq, Digest: lab.NullDigest}
	}
	req := os[0].Request
	pp := lab.PrePrepare{View: os[0].View, Seq: seq, Digest: lab.NullDigest, Request: &req}
	if os[0].Committed {
		pp.Digest = pp.ContentDigest()
	}
	return pp
}

// onStateReply keeps one answer per replica to the latest request and
// adopts whatever f+1 of them now agree on.
func (r *Replica) onStateReply(from lab.ID, rep *lab.StateReply) {
	if rep.Replica != from || rep.Nonce != r.nonce || r.replies == nil {
		return
	}
	if _, dup := r.replies[from]; dup {
		return
	}
	r.replies[from] = rep
	replies := make([]*lab.StateReply, 0, len(r.replies))
	for _, id := range slices.Sorted(maps.Keys(r.replies)) {
		replies = append(replies, r.replies[id])
	}
	st, ok := agreedState(replies, lab.Weak(r.n))
	if !ok {
		return
	}
	r.adopt(st)
	// What the others executed, restored or run here, waits no longer.
	r.pending = slices.DeleteFunc(r.pending, func(q lab.Request) bool { return r.bank.Executed(q.Client, q.Timestamp) })
	r.execute()
}

// agreed is the state f+1 state replies vouch for.
type agreed struct {
	checkpoint lab.Snapshot
	entries    []lab.PrePrepare // executed above the checkpoint, in order, without gaps
	view       int              // at least f+1 replicas are in this view or a later one
}

// agreedState works out what at least weak replies agree on: the latest
// checkpoint whose state that many vouch for, the executed entries after
// it, each reported alike by that many, and the view.
//
// Replicas may answer from different stable checkpoints: one stable at n4,
// another at n2 with what it executed at n3 and n4. Both vouch for the
// state at n4, which the second reaches by running its entries on its
// checkpoint (statesOf), so the checkpoints are compared by the states the
// replies reach, not by the checkpoints they carry.
func agreedState(replies []*lab.StateReply, weak int) (agreed, bool) {
	var a agreed
	if len(replies) < weak {
		return a, false
	}
	// TODO(recovery): find the latest checkpoint whose state f+1 replies vouch for: a reply vouches for its own checkpoint and for every state its entries lead to from there (see statesOf), and only a snapshot whose contents match its digest can be adopted; then, from the sequence number after it, each entry f+1 replies report alike (same digest and request), stopping at the first gap; the view is the highest one that f+1 replies are in or past
	return agreed{}, false
}

// statesOf replays a state reply on a bank of its own: the digest of the
// state at the reply's checkpoint and after each entry it reports executed
// above it, by sequence number. A snapshot whose contents do not match its
// digest leads nowhere, and an entry out of sequence ends the replay.
func statesOf(rep *lab.StateReply) map[int]string {
	b := lab.NewBank(nil, nil)
	if b.Restore(rep.Checkpoint) != nil {
		return nil
	}
	states := map[int]string{rep.Checkpoint.Seq: rep.Checkpoint.Digest}
	for i := range rep.Committed {
		if _, err := runOn(b, &rep.Committed[i]); err != nil {
			break
		}
		states[b.LastExecuted()] = b.Digest()
	}
	return states
}

// executedIn finds what a state reply says ran at seq.
func executedIn(rep *lab.StateReply, seq int) (lab.PrePrepare, bool) {
	for _, pp := range rep.Committed {
		if pp.Seq == seq {
			return pp, true
		}
	}
	return lab.PrePrepare{}, false
}

// adopt brings this replica up to the agreed state: the checkpoint, when
// it is ahead, replaces the state and becomes the stable one; the entries
// above it are executed in order; and the agreed view is entered when it
// is later than this replica's.
func (r *Replica) adopt(st agreed) {
	// TODO(recovery): restore the agreed checkpoint with bank.Restore when it is ahead of what you executed and take it as your own checkpoint (takeCheckpoint), which the others may need to make it stable; make it your stable checkpoint (report it with env.Checkpointed(snapshot, true)), execute the agreed entries you have not executed in order (runTransferred), and enter the agreed view if it is later than yours
}

// runTransferred executes an entry that f+1 replicas report they executed,
// and records it as they did.
func (r *Replica) runTransferred(pp lab.PrePrepare) bool {
	results, err := runOn(r.bank, &pp)
	if err != nil {
		r.env.Logf("state transfer: execute n%d: %v", pp.Seq, err)
		return false
	}
	committed := pp.Digest != lab.NullDigest
	pp.Digest = pp.ContentDigest()
	e := r.entry(pp.Seq)
	e.pp, e.phase, e.executed = &pp, lab.PhaseCommitted, true
	if !committed && pp.Request != nil {
		e.phase = lab.PhaseAborted
	}
	for i, req := range pp.Requests() {
		result := "aborted"
		if committed {
			result = results[i]
		}
		r.history = append(r.history, lab.Outcome{View: pp.View, Seq: pp.Seq, Request: req, Committed: committed, Result: result})
		r.env.Logf("state transfer: executed n%d (%s)", pp.Seq, result)
	}
	return true
}

// runOn executes on b an entry as a state reply reports it: a committed
// request is applied and its result returned; an aborted one, or the null
// request, uses up its sequence number and applies nothing.
func runOn(b *lab.Bank, pp *lab.PrePrepare) ([]string, error) {
	if pp.Digest == lab.NullDigest {
		return nil, b.Abort(pp.Seq, pp.Request)
	}
	result, err := b.Execute(pp.Seq, pp.Request)
	return []string{result}, err
}
