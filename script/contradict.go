package script

import (
	"fmt"
	"maps"
	"slices"

	"pbftlab/lab"
)

// Where a request can stand at the end of a case, at one replica, as a
// bit each: what an outcome expectation accepts is a set of them.
const (
	atCommitted      = 1 << iota
	atAborted        // decided, aborted
	atNotPrePrepared // undecided, no pre-prepare accepted
	atPrePrepared    // undecided, pre-prepared only
	atPrepared       // undecided, prepared
)

// wantStands maps what an outcome line asks for onto where the request
// may stand for it to hold (see checkOutcome). The client's three
// outcomes, committed, aborted and undecided, are the same sets seen from
// outside: its "not decided" is any of the undecided ones.
var wantStands = map[Want]int{
	WantCommitted:      atCommitted,
	WantAborted:        atAborted,
	WantNotCommitted:   atAborted | atNotPrePrepared | atPrePrepared | atPrepared,
	WantUndecided:      atNotPrePrepared | atPrePrepared | atPrepared,
	WantPrepared:       atCommitted | atPrepared,
	WantNotPrepared:    atAborted | atNotPrePrepared | atPrePrepared,
	WantPrePrepared:    atCommitted | atAborted | atPrePrepared | atPrepared,
	WantNotPrePrepared: atNotPrePrepared,
}

// contradiction finds two expect lines that no replica (or client) can
// satisfy together. Both are evaluated at the end of the case, on the same
// state, so one of them fails under every seed whatever the replicas do.
// Check lines stand at different points of the case and are left out.
func (c *Case) contradiction() error {
	for j, b := range c.Expects {
		for _, a := range c.Expects[:j] {
			who, ok := sharedTarget(a, b)
			if !ok {
				continue
			}
			if why := conflict(a, b); why != "" {
				return &Error{File: c.File, Line: b.Line, Msg: fmt.Sprintf("%q contradicts line %d (%q) for %s: %s", b.Text, a.Line, a.Text, who, why)}
			}
		}
	}
	return nil
}

// sharedTarget returns one replica both lines name, or the client when
// both are about the client.
func sharedTarget(a, b Expect) (lab.ID, bool) {
	if a.Client || b.Client {
		return lab.Client, a.Client && b.Client
	}
	for _, id := range a.Targets {
		if slices.Contains(b.Targets, id) {
			return id, true
		}
	}
	return 0, false
}

// conflict says why a and b cannot both hold of one replica, or "".
func conflict(a, b Expect) string {
	if a.Kind != b.Kind {
		return ""
	}
	switch a.Kind {
	case ExpectOutcome:
		return outcomeConflict(a, b)
	case ExpectBalance:
		for _, acct := range slices.Sorted(maps.Keys(a.Balances)) {
			if n, ok := b.Balances[acct]; ok && n != a.Balances[acct] {
				return fmt.Sprintf("account %s cannot hold both %d and %d", acct, a.Balances[acct], n)
			}
		}
	case ExpectExecuted, ExpectStable, ExpectStableCount:
		if a.N != b.N {
			return fmt.Sprintf("one replica cannot have both %d and %d", a.N, b.N)
		}
	case ExpectView:
		switch {
		case !a.Not && !b.Not && a.View != b.View:
			return fmt.Sprintf("a replica ends in one view, not in both %d and %d", a.View, b.View)
		case a.Not != b.Not && a.View == b.View:
			return fmt.Sprintf("a replica cannot both be and not be in view %d", a.View)
		}
	}
	return ""
}

// outcomeConflict says why two outcome lines about one request cannot both
// hold, or "".
func outcomeConflict(a, b Expect) string {
	if a.Request != b.Request {
		return ""
	}
	switch {
	case wantStands[a.Want]&wantStands[b.Want] == 0:
		return fmt.Sprintf("request %d cannot end both %s and %s", a.Request, a.Want, b.Want)
	case a.AtSeq > 0 && b.AtSeq > 0 && a.AtSeq != b.AtSeq:
		return fmt.Sprintf("request %d is decided at one sequence number, not at both n%d and n%d", a.Request, a.AtSeq, b.AtSeq)
	case a.InView >= 0 && b.InView >= 0 && a.InView != b.InView:
		return fmt.Sprintf("request %d is decided in one view, not in both %d and %d", a.Request, a.InView, b.InView)
	}
	return ""
}
