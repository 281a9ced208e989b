package skeleton

import (
	"errors"
	"fmt"

	"pbftlab/lab"
)

// prepareCommand is "prepare yes|no": vote on the oldest pre-prepared
// request this replica has not voted on.
func (r *Replica) prepareCommand(yes bool) error {
	if r.isPrimary() {
		return fmt.Errorf("%s is the primary: its pre-prepare already counts as its yes", r.id)
	}
	for _, e := range r.entries() {
		// An entry of an earlier view (one this replica entered the next
		// view past, by state transfer) is not the request anyone means.
		if e.phase == lab.PhasePrePrepared && !e.voted && e.pp.View == r.view {
			r.vote(e, yes)
			return nil
		}
	}
	return errors.New("no pre-prepared request is waiting for this replica's prepare vote")
}

// autoVote casts this replica's automatic prepare vote on the next request
// to execute. An honest replica votes yes when the operation is valid on its
// state, and it waits until every lower sequence number has executed, so
// that all honest replicas judge the request on the same state and vote
// alike.
func (r *Replica) autoVote() {
	if r.cfg.Manual || r.isPrimary() || r.viewChanging {
		return
	}
	e := r.log[r.bank.LastExecuted()+1]
	if e == nil || e.pp == nil || e.voted || e.decided() {
		return
	}
	yes := e.pp.Request == nil || r.bank.Validate(e.pp.Request.Op) == nil // the null request is always valid
	r.vote(e, yes)
}

// vote records this replica's own prepare and sends it to every other.
func (r *Replica) vote(e *entry, yes bool) {
	// TODO(prepare): send your PREPARE (view, seq, digest, your id, the vote) to every other replica, record it in your own log, and mark that you voted
	if r.tracing {
		r.env.Logf("prepare %s on v%d n%d", yesNo(yes, "yes", "no"), e.pp.View, e.seq)
	}
	if !r.cfg.Manual {
		r.evaluatePrepare(e, false)
	}
}

// onPrepare records a backup's vote and, when votes are automatic,
// evaluates the entry it is for.
func (r *Replica) onPrepare(from lab.ID, p *lab.Prepare) {
	if r.keepPrepare(from, p) && !r.cfg.Manual && !r.viewChanging {
		r.evaluatePrepare(r.log[p.Seq], false)
	}
}

// keepPrepare records a backup's vote in the log and reports whether it
// kept it.
func (r *Replica) keepPrepare(from lab.ID, p *lab.Prepare) bool {
	// TODO(prepare): keep a prepare only if it really comes from its sender, is for the current view and inside the watermarks, and is not from the primary; keep one vote per sender; report whether you kept it
	return false
}

// evaluatePrepare decides the prepare phase of e when the votes allow it:
// prepared with a quorum of yes (the primary's pre-prepare among them),
// aborted once more than f replicas said no, since a quorum of yes can no
// longer form. On "progress" (force) a replica short of a quorum aborts.
// It reports whether the entry moved.
func (r *Replica) evaluatePrepare(e *entry, force bool) bool {
	if e.phase != lab.PhasePrePrepared {
		return false
	}
	// TODO(prepare): count yes and no votes by distinct sender (the pre-prepare is the primary's yes); with 2f+1 yes the entry is prepared, with more than f no (or on progress short of 2f+1) it is aborted; otherwise it stays pre-prepared
	var yes, no []lab.ID
	if e.phase == lab.PhasePrePrepared {
		return false // not decided yet
	}
	if r.tracing {
		r.env.Logf("%s v%d n%d: %d yes, %d no", e.phase, e.pp.View, e.seq, len(yes), len(no))
	}
	if e.phase == lab.PhasePrepared && !r.cfg.Manual {
		r.ack(e, true)
	}
	r.execute()
	return true
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}
