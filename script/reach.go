package script

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"pbftlab/lab"
)

// reach is what the steps of a case let its replicas reach, as far as the
// file alone tells for certain. An expectation beyond it can never hold,
// so it is the case's mistake, and is refused when the file is read
// rather than blamed on the replica under every seed.
type reach struct {
	// fixedView: no step can start a view change (no "view change", no
	// tick, on which a backup's timer runs out, and no forgery or lie).
	// The cluster then stays in view 0, no null request fills a gap, and
	// each request gets one sequence number at most.
	fixedView bool
	// requests is how many requests can be ordered: the ones the client
	// sends or queues, and the operations typed at a primary ("tx
	// OPERATION"). With fixedView, no sequence number lies above it.
	requests int
	// offInterval: a checkpoint can be taken at a sequence number that is
	// no multiple of the interval: the primary's "checkpoint" command
	// asks for one, and a forgery or a lie can claim one.
	offInterval bool
	// interval is the checkpoint interval K.
	interval int
	// touched is every account a request names; nil when a forgery or a
	// lie may move money in any account.
	touched map[string]bool
}

// reach sums up the case's steps so far.
func (c *Case) reach() reach {
	r := reach{fixedView: true, interval: c.CheckpointInterval, touched: map[string]bool{}}
	if r.interval == 0 {
		r.interval = lab.DefaultCheckpointInterval
	}
	for _, s := range c.Steps {
		switch {
		case s.Action == Send || s.Action == Queue:
			r.requests += s.Times
			r.touch(s.Op)
		case s.Action == Do && s.Cmd.Op == lab.OpPropose && s.Cmd.Arg != "":
			r.requests += len(s.Targets)
			r.touch(s.Cmd.Arg)
		case s.Action == Do && s.Cmd.Op == lab.OpViewChange, s.Action == Tick, s.Action == TickUntil:
			r.fixedView = false
		case s.Action == Do && s.Cmd.Op == lab.OpCheckpoint:
			r.offInterval = true
		case s.Action == Forge, s.Action == LieStep:
			r.fixedView, r.offInterval, r.touched = false, true, nil
		}
	}
	return r
}

// touch records the account op names.
func (r *reach) touch(op string) {
	if o, err := lab.ParseOperation(op); err == nil && r.touched != nil {
		r.touched[o.Account] = true
	}
}

// noViewChange is why a case's view cannot change, as the messages say it.
const noViewChange = "no step before this line can change the view (a view change, a tick, a forgery or a lie)"

// possible reports an expectation that can never hold after the case's
// steps so far, and why.
func (c *Case) possible(e Expect) error {
	r := c.reach()
	never := func(format string, args ...any) error {
		return fmt.Errorf("%q can never hold: %s", e.Text, fmt.Sprintf(format, args...))
	}
	fewRequests := func(n int) error {
		return never("%s before this line, each at one sequence number, so none reaches n%d; only a view change adds null requests, and %s", orderedText(r.requests), n, noViewChange)
	}
	switch e.Kind {
	case ExpectExecuted:
		if r.fixedView && e.N > r.requests {
			return fewRequests(e.N)
		}
	case ExpectStable:
		if e.N%r.interval != 0 && !r.offInterval {
			return never("checkpoints are taken every %d sequence numbers (%s), and no step takes one elsewhere (the primary's checkpoint command, a forgery or a lie)", r.interval, c.intervalSource())
		}
		if r.fixedView && e.N > r.requests {
			return fewRequests(e.N)
		}
	case ExpectStableCount:
		if most := r.stableAtMost(); r.fixedView && e.N > most {
			return never("%s before this line and a checkpoint is taken every %d sequence numbers (%s), so at most %d become stable; %s", orderedText(r.requests), r.interval, c.intervalSource(), most, noViewChange)
		}
	case ExpectNull:
		if r.fixedView {
			return never("a null request fills a gap in a new view, and %s", noViewChange)
		}
	case ExpectView:
		if r.fixedView && !e.Not && e.View > 0 {
			return never("%s", noViewChange)
		}
	case ExpectOutcome:
		if r.fixedView && e.InView > 0 {
			return never("%s", noViewChange)
		}
		if r.fixedView && e.AtSeq > r.requests {
			return fewRequests(e.AtSeq)
		}
	case ExpectBalance:
		return c.possibleBalances(e, r)
	}
	return nil
}

// orderedText says how many requests can be ordered.
func orderedText(n int) string {
	if n == 1 {
		return "at most 1 request is ordered"
	}
	return fmt.Sprintf("at most %d requests are ordered", n)
}

// stableAtMost bounds how many checkpoints can become stable, with
// fixedView: each at its own sequence number, at most one per interval
// unless a checkpoint is taken off it.
func (r reach) stableAtMost() int {
	if r.offInterval {
		return r.requests
	}
	return r.requests / r.interval
}

// possibleBalances reports a balance expected of an account no request
// names, which keeps its opening balance. An account named in another
// letter case than the expect line's (read in lower case) is left to the
// run to report.
func (c *Case) possibleBalances(e Expect, r reach) error {
	if r.touched == nil {
		return nil
	}
	for _, acct := range slices.Sorted(maps.Keys(e.Balances)) {
		if hasFold(r.touched, acct) {
			continue
		}
		open, ok := c.Balances[acct]
		if !ok && hasFold(c.Balances, acct) {
			continue
		}
		if e.Balances[acct] != open {
			return fmt.Errorf("%q can never hold: no request before this line names account %q, so it keeps its opening balance, %s=%d", e.Text, acct, acct, open)
		}
	}
	return nil
}

// hasFold reports whether m has the key k, in any letter case.
func hasFold[V any](m map[string]V, k string) bool {
	for a := range m {
		if strings.EqualFold(a, k) {
			return true
		}
	}
	return false
}

// intervalSource says where the checkpoint interval comes from.
func (c *Case) intervalSource() string {
	if c.CheckpointInterval > 0 {
		return "the checkpoint-interval header"
	}
	return "the default, without a checkpoint-interval header"
}
