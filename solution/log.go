package solution

import "pbftlab/lab"

// entry is what a replica knows about one sequence number in its view.
type entry struct {
	seq int
	// pp is the accepted pre-prepare, nil until one arrives. Votes may
	// arrive before it does; they are kept and counted once it is here.
	pp       *lab.PrePrepare
	prepares []lab.Prepare // at most one per sender: the first one
	commits  []lab.Commit  // likewise
	phase    lab.Phase     // 0 until the pre-prepare is accepted
	voted    bool          // this replica sent its prepare
	acked    bool          // this replica sent its commit ack
	executed bool
	// cert is the last prepared certificate this replica held for the
	// sequence number in an earlier view. A view change must report it even
	// when the request has not prepared again in the views since.
	cert *lab.Prepared
	// BEGIN REFERENCE ONLY: room for the votes of a cluster of four, the lab's, so that a new entry costs one allocation rather than three (see slabEntry)
	prepareRoom [4]lab.Prepare
	commitRoom  [4]lab.Commit
	// END REFERENCE ONLY
}

// before reports whether e holds a pre-prepare or a vote of a view before
// v.
func (e *entry) before(v int) bool {
	if e.pp != nil && e.pp.View < v {
		return true
	}
	for _, p := range e.prepares {
		if p.View < v {
			return true
		}
	}
	for _, c := range e.commits {
		if c.View < v {
			return true
		}
	}
	return false
}

func (e *entry) decided() bool {
	return e.phase == lab.PhaseCommitted || e.phase == lab.PhaseAborted
}

// eachRequest calls f with every request pp proposes, in order.
func eachRequest(pp *lab.PrePrepare, f func(*lab.Request)) {
	if pp.Request != nil {
		f(pp.Request)
	}
	// BEGIN REFERENCE ONLY: a batch's other requests (fast.go)
	for i := range pp.Batch {
		f(&pp.Batch[i])
	}
	// END REFERENCE ONLY
}

// prepareVotes returns the replicas voting yes and no on the accepted
// pre-prepare, one entry per prepare kept whose digest is the pre-prepare's:
// which prepares are kept (one per sender, the current view's, none from
// the primary) is keepPrepare's to decide. The primary's pre-prepare is its
// yes.
func (e *entry) prepareVotes(primary lab.ID) (yes, no []lab.ID) {
	if e.pp == nil {
		return nil, nil
	}
	yes = append(yes, primary)
	for _, p := range e.prepares {
		if p.Digest != e.pp.Digest {
			continue
		}
		if p.Yes {
			yes = append(yes, p.Replica)
		} else {
			no = append(no, p.Replica)
		}
	}
	return yes, no
}

// commitVotes returns the replicas acking commit and abort, one entry per
// ack kept whose digest is the pre-prepare's (see keepCommit).
func (e *entry) commitVotes() (yes, no []lab.ID) {
	if e.pp == nil {
		return nil, nil
	}
	for _, c := range e.commits {
		if c.Digest != e.pp.Digest {
			continue
		}
		if c.Yes {
			yes = append(yes, c.Replica)
		} else {
			no = append(no, c.Replica)
		}
	}
	return yes, no
}

// certificate returns the proof that e prepared in the view of its
// pre-prepare: the pre-prepare and the matching yes prepares of at least 2f
// backups other than that view's primary. It falls back on the certificate
// kept from an earlier view, and is nil when there is neither.
func (e *entry) certificate(n int) *lab.Prepared {
	if e.pp == nil {
		return e.cert
	}
	primary := lab.Primary(e.pp.View, n)
	var yes []lab.Prepare
	for _, p := range e.prepares {
		if p.Yes && p.View == e.pp.View && p.Seq == e.seq && p.Digest == e.pp.Digest && p.Replica != primary {
			yes = append(yes, p)
		}
	}
	if len(yes) < lab.Quorum(n)-1 {
		return e.cert
	}
	return &lab.Prepared{PrePrepare: *e.pp, Prepares: yes}
}

// status reports the entry as lab.Status lists it: in the view of its
// pre-prepare, or in view, the replica's, while it has none. (A replica
// starts its log afresh when it enters a view, keeping only what it
// executed before, so an entry without a pre-prepare is of the current
// view.)
func (e *entry) status(view int, primary lab.ID) lab.Entry {
	s := lab.Entry{View: view, Seq: e.seq, Phase: e.phase, Executed: e.executed}
	if e.pp != nil {
		s.View, s.Digest, s.Request = e.pp.View, e.pp.Digest, e.pp.Request
		// BEGIN REFERENCE ONLY: a batch's other requests (fast.go)
		s.Batch = e.pp.Batch
		// END REFERENCE ONLY
	}
	s.PrepareYes, s.PrepareNo = e.prepareVotes(primary)
	s.CommitYes, s.CommitNo = e.commitVotes()
	return s
}
