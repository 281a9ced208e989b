package solution

import (
	"maps"
	"slices"

	"pbftlab/lab"
)

// viewChangeCommand is "view change": ask for the view after the one this
// replica is in or changing to.
func (r *Replica) viewChangeCommand() error {
	r.startViewChange(r.view + 1)
	return nil
}

// startViewChange stops this replica's part in its view and asks for view
// v (PBFT §4.4). Until NEW-VIEW for v arrives, it handles only checkpoints,
// view changes and new views.
func (r *Replica) startViewChange(v int) {
	// BEGIN TODO(view-change): move to view v as a view change under way, then send VIEW-CHANGE (v, your provable stable checkpoint with its proof, a prepared certificate for every request prepared above it, your id) to every other replica and keep your own
	r.view, r.viewChanging = v, true
	vc := r.viewChangeMessage(v)
	r.addViewChange(vc)
	r.env.Broadcast(vc)
	// END TODO
	r.waited = 0
	r.env.Logf("view change to view %d (led by %s)", v, lab.Primary(v, r.n))
	r.maybeNewView()
}

// viewChangeMessage builds this replica's VIEW-CHANGE for view v.
func (r *Replica) viewChangeMessage(v int) *lab.ViewChange {
	vc := &lab.ViewChange{View: v, StableSeq: r.proofSeq, Checkpoints: slices.Clone(r.proof), Replica: r.id}
	for _, e := range r.entries() {
		if e.seq <= r.proofSeq || e.seq > r.proofSeq+r.cfg.Window {
			continue
		}
		if c := e.certificate(r.n); c != nil {
			vc.Prepared = append(vc.Prepared, *c)
		}
	}
	return vc
}

func (r *Replica) addViewChange(vc *lab.ViewChange) {
	byReplica := r.viewChanges[vc.View]
	if byReplica == nil {
		byReplica = map[lab.ID]*lab.ViewChange{}
		r.viewChanges[vc.View] = byReplica
	}
	if _, dup := byReplica[vc.Replica]; !dup {
		byReplica[vc.Replica] = vc
	}
}

// onViewChange keeps another replica's view change.
func (r *Replica) onViewChange(from lab.ID, vc *lab.ViewChange) {
	// BEGIN TODO(view-change): keep a view change only if it really comes from its sender, asks for a view above the one you last entered, and is valid (see validViewChange)
	if vc.Replica != from || vc.View <= r.active {
		return
	}
	if err := validViewChange(vc, r.n, r.cfg.Window); err != nil {
		r.env.Logf("rejected VIEW-CHANGE v%d from %s: %v", vc.View, from, err)
		return
	}
	r.addViewChange(vc)
	// END TODO
	r.joinViewChange()
	r.maybeNewView()
}

// joinViewChange: with automatic votes, a replica that holds view changes
// for views above its own from f+1 other replicas, at least one of them
// honest, joins the smallest of those views rather than wait for its own
// timer (PBFT §4.5.2). Typed votes leave view changes to the person at the
// console.
func (r *Replica) joinViewChange() {
	if r.cfg.Manual {
		return
	}
	senders := map[lab.ID]bool{}
	next := 0
	for v, byReplica := range r.viewChanges {
		if v <= r.view {
			continue
		}
		for id := range byReplica {
			if id != r.id {
				senders[id] = true
			}
		}
		if next == 0 || v < next {
			next = v
		}
	}
	if len(senders) >= lab.Weak(r.n) {
		r.startViewChange(next)
	}
}

// maybeNewView: the primary of the view being changed to starts it once it
// holds 2f+1 view changes for it, its own among them.
func (r *Replica) maybeNewView() {
	byReplica := r.viewChanges[r.view]
	if !r.viewChanging || lab.Primary(r.view, r.n) != r.id || len(byReplica) < r.quorum() || byReplica[r.id] == nil {
		return
	}
	// BEGIN TODO(view-change): build NEW-VIEW from the view changes you hold for this view (in replica order), with the pre-prepares computed from them (newViewPrePrepares); send it to every other replica and install it yourself
	vcs := make([]lab.ViewChange, 0, len(byReplica))
	for _, id := range slices.Sorted(maps.Keys(byReplica)) {
		vcs = append(vcs, *byReplica[id])
	}
	_, pps := newViewPrePrepares(r.view, vcs)
	nv := &lab.NewView{View: r.view, ViewChanges: vcs, PrePrepares: pps}
	r.env.Broadcast(nv)
	r.installNewView(nv)
	// END TODO
}

// onNewView checks a NEW-VIEW and enters its view.
func (r *Replica) onNewView(from lab.ID, nv *lab.NewView) {
	// BEGIN TODO(view-change): accept NEW-VIEW only from the primary of its view and for a view above the one you last entered, and only if checkNewView finds it right; then install it
	if from != lab.Primary(nv.View, r.n) || nv.View <= r.active {
		return
	}
	if err := checkNewView(nv, r.n, r.cfg.Window); err != nil {
		r.env.Logf("rejected NEW-VIEW v%d from %s: %v", nv.View, from, err)
		return
	}
	r.installNewView(nv)
	// END TODO
}

// installNewView enters the view NEW-VIEW starts: the stable checkpoint
// moves up to min-s if it was below, and the log takes the re-issued
// pre-prepares.
func (r *Replica) installNewView(nv *lab.NewView) {
	minS, proof := 0, []lab.Checkpoint(nil)
	for _, vc := range nv.ViewChanges {
		if vc.StableSeq > minS {
			minS, proof = vc.StableSeq, vc.Checkpoints
		}
	}
	if minS > r.stableSeq {
		votes := map[lab.ID]lab.Checkpoint{}
		for _, c := range proof {
			votes[c.Replica] = c
		}
		if matching, ok := stableProof(votes, r.quorum()); ok {
			r.markStable(matching)
		}
	}
	r.enterView(nv.View, nv.PrePrepares)
	r.env.Logf("entered view %d led by %s, %d pre-prepares re-issued", nv.View, r.primary(), len(nv.PrePrepares))
	if !r.isPrimary() {
		// Requests this backup holds may never have reached the new primary.
		for i := range r.pending {
			r.env.Send(r.primary(), &r.pending[i])
		}
	}
	if r.cfg.Manual {
		return
	}
	// Votes for this view may have arrived before its NEW-VIEW.
	for _, e := range r.entries() {
		switch {
		case e.pp == nil:
		case e.executed && !e.voted && e.phase == lab.PhasePrePrepared && !r.isPrimary():
			// A request this replica executed in an earlier view: it votes
			// for what it executed there, so that the others can complete
			// it, and against anything else.
			r.vote(e, r.ran(e.seq) == e.pp.Digest)
		// BEGIN REFERENCE ONLY: a batching backup votes on what it accepted (fast.go)
		case r.batching() && !e.voted && e.phase == lab.PhasePrePrepared && !r.isPrimary():
			r.vote(e, wellFormed(e.pp))
		// END REFERENCE ONLY
		default:
			r.evaluatePrepare(e, false)
			r.evaluateCommit(e, false)
		}
	}
	if r.isPrimary() {
		r.proposePending()
	}
	r.execute()
}

// enterView makes v the active view. pps are the pre-prepares its NEW-VIEW
// re-issues; a view adopted from state replies has none. Entries this
// replica executed stay until a checkpoint collects them; the rest of the
// old view's log is dropped, except prepared certificates, which a later
// view change must still report, and votes already cast in view v. A
// request whose pre-prepare was dropped waits to be ordered again, once,
// unless it has executed or view v orders it already.
func (r *Replica) enterView(v int, pps []lab.PrePrepare) {
	r.view, r.active, r.viewChanging = v, v, false
	r.waited = 0
	for w := range r.viewChanges {
		if w <= v {
			delete(r.viewChanges, w)
		}
	}
	old := r.log
	r.log = make(map[int]*entry, len(old)+len(pps))
	r.ordered = map[reqKey]bool{}
	// A new primary numbers requests after everything the view changes
	// carried and everything it executed.
	r.seq = max(r.stableSeq, r.bank.LastExecuted())
	for i := range pps {
		pp := pps[i]
		if pp.Seq <= r.stableSeq {
			continue
		}
		e := r.carry(old[pp.Seq], pp.Seq, v)
		e.pp, e.phase = &pp, lab.PhasePrePrepared
		e.executed = pp.Seq <= r.bank.LastExecuted()
		if !e.executed {
			eachRequest(e.pp, func(req *lab.Request) { r.ordered[keyOf(req)] = true })
		}
		r.log[pp.Seq] = e
		r.seq = max(r.seq, pp.Seq)
	}
	var lost []lab.Request
	for _, seq := range slices.Sorted(maps.Keys(old)) {
		e := old[seq]
		switch {
		case r.log[seq] != nil:
		case e.executed:
			r.log[seq] = e
		default:
			ne := r.carry(e, seq, v)
			switch {
			case ne.pp != nil:
				eachRequest(ne.pp, func(req *lab.Request) { r.ordered[keyOf(req)] = true })
			case e.pp != nil:
				lost = append(lost, e.pp.Requests()...)
			}
			if ne.pp != nil || ne.cert != nil || len(ne.prepares) > 0 || len(ne.commits) > 0 {
				r.log[seq] = ne
			}
		}
	}
	// What was dropped waits first, then what waited already: each request
	// once, and none that executed or is ordered in view v.
	waiting := r.pending
	r.pending = nil
	for _, req := range append(lost, waiting...) {
		if !r.bank.Executed(req.Client, req.Timestamp) && !r.known(req) {
			r.pending = append(r.pending, req)
		}
	}
}

// carry starts the entry for seq in view v from what e held before: its
// prepared certificate, and whatever already arrived for view v, its
// pre-prepare included.
func (r *Replica) carry(e *entry, seq, v int) *entry {
	ne := &entry{seq: seq}
	if e == nil {
		return ne
	}
	ne.cert = e.certificate(r.n)
	if e.pp != nil && e.pp.View == v {
		ne.pp, ne.phase = e.pp, lab.PhasePrePrepared
	}
	for _, p := range e.prepares {
		if p.View == v {
			ne.prepares = append(ne.prepares, p)
		}
	}
	for _, c := range e.commits {
		if c.View == v {
			ne.commits = append(ne.commits, c)
		}
	}
	return ne
}

// ran returns the digest of what this replica executed at seq: the
// request's when it committed one there, the null digest when it aborted
// or ran the null request.
func (r *Replica) ran(seq int) string {
	os := r.outcomes(seq)
	if len(os) == 0 || !os[0].Committed {
		return lab.NullDigest
	}
	// BEGIN REFERENCE ONLY: a batch's digest covers all its requests (fast.go)
	if len(os) > 1 {
		return lab.BatchDigest(requestsOf(os))
	}
	// END REFERENCE ONLY
	return lab.Digest(&os[0].Request)
}

// outcomes finds the history records for seq: one for a request, none
// for the null request. History is in sequence order.
func (r *Replica) outcomes(seq int) []lab.Outcome {
	h := r.history
	if len(h) == 0 || seq < h[0].Seq {
		// Archived: in the last chunk that starts at or below seq.
		k, _ := slices.BinarySearchFunc(r.archived, seq, func(c []lab.Outcome, seq int) int { return c[0].Seq - seq - 1 })
		if k == 0 {
			return nil
		}
		h = r.archived[k-1]
	}
	i, _ := slices.BinarySearchFunc(h, seq, func(o lab.Outcome, seq int) int { return o.Seq - seq })
	j := i
	for j < len(h) && h[j].Seq == seq {
		j++
	}
	return h[i:j]
}

// archiveHistory moves the outcomes at or below seq, once there are at
// least archiveChunk of them, into a chunk of the archived history, so
// that appending to the history never copies a long run's whole history.
// outcomes and allOutcomes read the archive and the history alike.
func (r *Replica) archiveHistory(seq int) {
	if i, _ := slices.BinarySearchFunc(r.history, seq+1, func(o lab.Outcome, seq int) int { return o.Seq - seq }); i >= archiveChunk {
		r.archived = append(r.archived, r.history[:i:i])
		r.history = r.history[i:]
	}
}

// archiveChunk is the fewest outcomes archiveHistory moves into a chunk of
// the archived history.
const archiveChunk = 256

// allOutcomes returns the whole history, in a new slice.
func (r *Replica) allOutcomes() []lab.Outcome {
	// BEGIN REFERENCE ONLY: a long history is extended in one shared copy rather than copied whole at every Status (fast.go)
	if len(r.archived) > 0 {
		return r.grownOutcomes()
	}
	// END REFERENCE ONLY
	n := len(r.history)
	for _, c := range r.archived {
		n += len(c)
	}
	out := make([]lab.Outcome, 0, n)
	for _, c := range r.archived {
		out = append(out, c...)
	}
	return append(out, r.history...)
}
