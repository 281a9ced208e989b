package sim

import (
	"slices"

	"pbftlab/lab"
)

// Filter selects messages on the network; a zero field matches anything.
type Filter struct {
	Kinds    []lab.Kind
	Seq      int
	From, To []lab.ID
}

// Match reports whether m on the link from → to is selected.
func (f Filter) Match(from, to lab.ID, m lab.Message) bool {
	if len(f.Kinds) > 0 && !slices.Contains(f.Kinds, lab.KindOf(m)) {
		return false
	}
	if len(f.From) > 0 && !slices.Contains(f.From, from) {
		return false
	}
	if len(f.To) > 0 && !slices.Contains(f.To, to) {
		return false
	}
	return f.Seq == 0 || SeqOf(m) == f.Seq
}

// SeqOf is the sequence number a message is about, or 0.
func SeqOf(m lab.Message) int {
	switch m := m.(type) {
	case *lab.PrePrepare:
		return m.Seq
	case *lab.Prepare:
		return m.Seq
	case *lab.Commit:
		return m.Seq
	case *lab.Reply:
		return m.Seq
	case *lab.Checkpoint:
		return m.Seq
	}
	return 0
}

// covers reports whether releasing with f ends the hold h: f selects at
// least what h does.
func (f Filter) covers(h Filter) bool {
	sub := func(a, b []lab.ID) bool { // every id b allows, a allows
		if len(a) == 0 {
			return true
		}
		if len(b) == 0 {
			return false
		}
		for _, id := range b {
			if !slices.Contains(a, id) {
				return false
			}
		}
		return true
	}
	kinds := len(f.Kinds) == 0 || (len(h.Kinds) > 0 && !slices.ContainsFunc(h.Kinds, func(k lab.Kind) bool { return !slices.Contains(f.Kinds, k) }))
	return kinds && (f.Seq == 0 || f.Seq == h.Seq) && sub(f.From, h.From) && sub(f.To, h.To)
}
