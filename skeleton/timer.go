package skeleton

// timer is a backup's view-change timer (PBFT §4.4). It runs, in ticks,
// while the replica waits for a request it knows of to execute, or for a
// view change to complete; when it runs out the replica asks for the next
// view. Each view change that does not bring progress doubles the wait, so
// that correct replicas eventually stay in one view long enough to agree.
type timer struct {
	waited  int // ticks spent waiting
	timeout int // ticks to wait before asking for the next view
}

// Tick advances the replica's clock. Only replicas that vote by themselves
// use the timer; with typed votes, view changes are typed too.
func (r *Replica) Tick() {
	if r.cfg.Manual || !r.waiting() {
		r.waited = 0
		return
	}
	r.waited++
	if r.waited < r.timeout {
		return
	}
	// TODO(view-change): the timer ran out: double the timeout and ask for the next view
}

// waiting reports whether the timer should run: a view change is under way,
// or this backup knows of a request that has not executed yet. The primary
// does not suspect itself.
func (r *Replica) waiting() bool {
	if r.viewChanging {
		return true
	}
	if r.isPrimary() {
		return false
	}
	if len(r.pending) > 0 {
		return true
	}
	for _, e := range r.log {
		if e.pp != nil && !e.executed {
			return true
		}
	}
	return false
}

// progressed resets the timer: the replica executed something.
func (r *Replica) progressed() {
	r.waited = 0
	r.timeout = r.cfg.ViewChangeTimeout
}
