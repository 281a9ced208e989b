package solution

import "pbftlab/lab"

// entry is what a replica knows about one sequence number in its view.
type entry struct {
	view, seq int
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

// addPrepare keeps p unless its sender already voted on this entry in the
// same view: a sender's second vote, whether a copy or a change of mind,
// never counts. A vote in a later view is a new vote.
func (e *entry) addPrepare(p lab.Prepare) bool {
	for _, q := range e.prepares {
		if q.Replica == p.Replica && q.View == p.View {
			return false
		}
	}
	e.prepares = append(e.prepares, p)
	return true
}

func (e *entry) addCommit(c lab.Commit) bool {
	for _, q := range e.commits {
		if q.Replica == c.Replica && q.View == c.View {
			return false
		}
	}
	e.commits = append(e.commits, c)
	return true
}

// prepareVotes returns the distinct replicas voting yes and no on the
// accepted pre-prepare. The primary's pre-prepare is its yes; a prepare
// that claims to come from the primary is not counted.
func (e *entry) prepareVotes(primary lab.ID) (yes, no []lab.ID) {
	if e.pp == nil {
		return nil, nil
	}
	yes = append(yes, primary)
	for _, p := range e.prepares {
		if p.Replica == primary || p.View != e.pp.View || p.Digest != e.pp.Digest {
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

// commitVotes returns the distinct replicas acking commit and abort.
func (e *entry) commitVotes() (yes, no []lab.ID) {
	if e.pp == nil {
		return nil, nil
	}
	for _, c := range e.commits {
		if c.View != e.pp.View || c.Digest != e.pp.Digest {
			continue
		}
		if c.Commit {
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

func (e *entry) status(primary lab.ID) lab.Entry {
	s := lab.Entry{View: e.view, Seq: e.seq, Phase: e.phase, Executed: e.executed}
	if e.pp != nil {
		s.Digest, s.Request = e.pp.Digest, e.pp.Request
		// BEGIN REFERENCE ONLY: a batch's other requests (fast.go)
		s.Batch = e.pp.Batch
		// END REFERENCE ONLY
	}
	s.PrepareYes, s.PrepareNo = e.prepareVotes(primary)
	s.CommitYes, s.CommitNo = e.commitVotes()
	return s
}
