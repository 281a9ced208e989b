package skeleton

import (
	"errors"

	"pbftlab/lab"
)

// ackCommand is "ack commit|abort": this replica's commit-phase answer on
// the oldest prepared request it has not acknowledged.
func (r *Replica) ackCommand(commit bool) error {
	for _, e := range r.entries() {
		if e.phase == lab.PhasePrepared && !e.acked && e.pp.View == r.view { // as for a prepare vote
			r.ack(e, commit)
			return nil
		}
	}
	return errors.New("no prepared request is waiting for this replica's ack")
}

// ack records this replica's own commit ack and sends it to every other.
func (r *Replica) ack(e *entry, commit bool) {
	// TODO(commit): send your COMMIT (view, seq, digest, your id, commit or abort) to every other replica, record it in your own log, and mark that you acked
	if r.tracing {
		r.env.Logf("ack %s on v%d n%d", yesNo(commit, "commit", "abort"), e.pp.View, e.seq)
	}
	if !r.cfg.Manual {
		r.evaluateCommit(e, false)
	}
}

// onCommit records another replica's commit ack and, when votes are
// automatic, evaluates the entry it is for.
func (r *Replica) onCommit(from lab.ID, c *lab.Commit) {
	if r.keepCommit(from, c) && !r.cfg.Manual && !r.viewChanging {
		r.evaluateCommit(r.log[c.Seq], false)
	}
}

// keepCommit records a commit ack in the log and reports whether it kept
// it.
func (r *Replica) keepCommit(from lab.ID, c *lab.Commit) bool {
	// TODO(commit): keep a commit only if it really comes from its sender, is for the current view and inside the watermarks; keep one ack per sender; report whether you kept it
	return false
}

// evaluateCommit decides the commit phase of a prepared entry: committed
// with a quorum of commit acks from distinct replicas, aborted on
// "progress" (force) short of a quorum. Abort acks alone decide nothing: an
// honest replica acks abort only when it is typed, and with typed votes a
// replica decides only on "progress"; with automatic votes every honest
// replica acks commit, so at most f aborts ever arrive, which cannot stop
// a quorum of commits.
func (r *Replica) evaluateCommit(e *entry, force bool) bool {
	if e.phase != lab.PhasePrepared {
		return false
	}
	// TODO(commit): count commit acks by distinct sender; with 2f+1 of them the entry is committed, on progress short of 2f+1 it is aborted, and otherwise it stays prepared
	var yes, no []lab.ID
	if e.phase == lab.PhasePrepared {
		return false // not decided yet
	}
	if r.tracing {
		r.env.Logf("%s v%d n%d: %d commit, %d abort", e.phase, e.pp.View, e.seq, len(yes), len(no))
	}
	r.execute()
	return true
}

// execute runs decided entries in sequence order: an entry runs only once
// every lower sequence number has. A committed request is applied to the
// bank; an aborted one uses up its sequence number and changes nothing.
// Either way the client hears how it ended.
func (r *Replica) execute() {
	for r.executeNext() {
		r.afterExecute(r.bank.LastExecuted())
	}
	r.autoVote()
}

// executeNext executes the entry after the last executed one, if it is
// decided, and reports whether it did.
func (r *Replica) executeNext() bool {
	// TODO(commit): execute the entry after the last executed one if it is decided (a committed one applies its request with bank.Execute, an aborted one applies nothing but is recorded with bank.Abort), record the outcome in r.history (a lab.Outcome), reply to the client once the bank has run it, and report whether you executed it
	return false
}

// afterExecute follows every execution: the replica made progress, so its
// view-change timer starts over, and it takes a checkpoint when one is due,
// every K sequence numbers or where the primary asked for one (the mark
// goes with the log, when a checkpoint is stable). A replica that learnt a
// checkpoint was stable before reaching it may now hold its state
// (caughtUp checks).
func (r *Replica) afterExecute(seq int) {
	r.progressed()
	if r.stableSnap == nil {
		r.caughtUp()
	}
	if seq%r.cfg.CheckpointInterval == 0 || r.follow[seq] {
		r.takeCheckpoint()
	}
}
