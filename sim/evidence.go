package sim

import (
	"fmt"
	"math/bits"
	"strings"

	"pbftlab/lab"
)

// evidence is what a replica has heard, or said itself, that lets it
// decide a sequence number. The safety checks on execution ask for it
// (see node.observe): the replicas agreeing is not enough, since replicas
// that each decide on their own judgement agree too. A replica that
// executes a valid request on receipt, or aborts an invalid one, without
// a round of votes, passes every check on balances and outcomes, and
// this is where it fails.
//
// What counts is what the protocol counts, read from the messages
// delivered to the replica and those it sent: a COMMIT acking commit, by
// the replica that delivered it; a PREPARE voting no; an entry of a
// STATE-REPLY; and the "progress" command, which may abort an entry short
// of its votes. An ack of commit is checked in turn when it is sent (see
// checkAck): a replica that skipped the prepare phase and acked every
// request at once would otherwise hand the others their certificates.
//
// It is kept by sequence number and dropped at or below the replica's
// stable checkpoint (prune): a correct replica never acts there again,
// and what one does there is not checked.
type evidence struct {
	// bySeq[i] is what was heard about sequence number pruned+1+i: the
	// numbers in play are a window above the stable checkpoint, so a
	// slice serves, without a map's hashing on every message.
	bySeq  [][]heard
	pruned int
	// progress counts the "progress" commands typed at the replica; each
	// sequence number's list begins with the count when it began, so an
	// abort by progress needs one typed after its request came up.
	progress int
	// views are the views the replica has grounds to be in: a NEW-VIEW it
	// sent or received for the view (a bit per view below 64, the later
	// ones in highViews), or f+1 state replies naming the view or a later
	// one (stateViews).
	views      uint64
	highViews  map[int]bool
	stateViews map[lab.ID]int
	// states is, per sender, the span of the last state reply received:
	// its checkpoint's number and the last number its entries reach.
	states map[lab.ID][2]int
	// free holds the lists prune dropped, emptied, for note to reuse: a
	// run of thousands of requests then allocates for a window's worth.
	free [][]heard
}

// kindBegun marks the first entry of a sequence number's list, whose view
// holds the progress count when the list began.
const kindBegun lab.Kind = 0

// inView reports whether the replica has grounds to be in view v (see
// views): view 0, a NEW-VIEW for v, or f+1 state replies at v or later.
func (ev *evidence) inView(v, n int) bool {
	if v == 0 || (v > 0 && v < 64 && ev.views&(1<<uint(v)) != 0) || ev.highViews[v] {
		return true
	}
	k := 0
	for _, sv := range ev.stateViews {
		if sv >= v {
			k++
		}
	}
	return k >= lab.Weak(n)
}

// vouchers counts the replicas whose last state reply covers seq: its
// checkpoint at or below seq, its entries reaching seq or beyond.
func (ev *evidence) vouchers(seq int) int {
	k := 0
	for _, span := range ev.states {
		if span[0] <= seq && seq <= span[1] {
			k++
		}
	}
	return k
}

// maxAhead bounds how far above the stable checkpoint a message's
// sequence number is recorded; none that far can be executed in order.
const maxAhead = 1 << 16

// heard is one message about a sequence number: a pre-prepare (directly
// or in a NEW-VIEW), a prepare, a commit ack, or an entry of a state
// reply, with the replica that delivered it.
type heard struct {
	kind   lab.Kind
	yes    bool
	view   int
	digest string
	from   lab.ID
}

// add records one message from replica from (the replica itself for what
// it sent).
func (ev *evidence) add(from lab.ID, m lab.Message) {
	switch m := m.(type) {
	case *lab.PrePrepare:
		ev.note(m.Seq, heard{lab.KindPrePrepare, true, m.View, m.Digest, from})
	case *lab.NewView:
		switch {
		case m.View >= 0 && m.View < 64:
			ev.views |= 1 << uint(m.View)
		case m.View >= 64:
			if ev.highViews == nil {
				ev.highViews = map[int]bool{}
			}
			ev.highViews[m.View] = true
		}
		for _, pp := range m.PrePrepares {
			ev.note(pp.Seq, heard{lab.KindPrePrepare, true, pp.View, pp.Digest, from})
		}
	case *lab.Prepare:
		ev.note(m.Seq, heard{lab.KindPrepare, m.Yes, m.View, m.Digest, from})
	case *lab.Commit:
		ev.note(m.Seq, heard{lab.KindCommit, m.Yes, m.View, m.Digest, from})
	case *lab.StateReply:
		if ev.stateViews == nil {
			ev.stateViews = map[lab.ID]int{}
		}
		ev.stateViews[from] = max(ev.stateViews[from], m.View)
		if ev.states == nil {
			ev.states = map[lab.ID][2]int{}
		}
		ev.states[from] = [2]int{m.Checkpoint.Seq, m.Checkpoint.Seq + len(m.Committed)}
		for i := range m.Committed {
			pp := &m.Committed[i]
			d := lab.NullDigest // an entry decided aborted, or the null request
			if pp.Digest != lab.NullDigest {
				d = pp.ContentDigest()
			}
			ev.note(pp.Seq, heard{lab.KindStateReply, true, pp.View, d, from})
		}
	}
}

func (ev *evidence) note(seq int, h heard) {
	i := seq - ev.pruned - 1
	if i < 0 || i >= maxAhead || h.from < 0 || h.from >= 64 { // a set of senders is a 64-bit mask
		return
	}
	for i >= len(ev.bySeq) {
		ev.bySeq = append(ev.bySeq, nil)
	}
	if ev.bySeq[i] == nil {
		if k := len(ev.free); k > 0 {
			ev.bySeq[i], ev.free = ev.free[k-1], ev.free[:k-1]
		} else {
			// Room for what one replica of four hears of a request: a
			// pre-prepare, four prepares and four commit acks.
			ev.bySeq[i] = make([]heard, 0, 10)
		}
		ev.bySeq[i] = append(ev.bySeq[i], heard{kind: kindBegun, view: ev.progress})
	}
	ev.bySeq[i] = append(ev.bySeq[i], h)
}

// at returns what was heard about seq.
func (ev *evidence) at(seq int) []heard {
	if i := seq - ev.pruned - 1; i >= 0 && i < len(ev.bySeq) {
		return ev.bySeq[i]
	}
	return nil
}

// prune drops what was heard at or below a stable checkpoint.
func (ev *evidence) prune(stable int) {
	if stable <= ev.pruned {
		return
	}
	k := min(stable-ev.pruned, len(ev.bySeq))
	for _, hs := range ev.bySeq[:k] {
		if hs != nil {
			clear(hs) // no digest kept alive
			ev.free = append(ev.free, hs[:0])
		}
	}
	n := copy(ev.bySeq, ev.bySeq[k:])
	clear(ev.bySeq[n:])
	ev.bySeq = ev.bySeq[:n]
	ev.pruned = stable
}

// senders is the set of replicas, as a bit mask, that sent seq's messages
// match selects.
func (ev *evidence) senders(seq int, match func(h *heard) bool) uint64 {
	hs := ev.at(seq)
	var set uint64
	for i := range hs {
		if h := &hs[i]; match(h) {
			set |= 1 << uint(h.from)
		}
	}
	return set
}

func count(set uint64) int { return bits.OnesCount64(set) }

// idList names the replicas of a set.
func idList(set uint64) string {
	if set == 0 {
		return "none"
	}
	var s []string
	for id := 0; set != 0; id, set = id+1, set>>1 {
		if set&1 == 1 {
			s = append(s, lab.ID(id).String())
		}
	}
	return "only " + strings.Join(s, " ")
}

// check says why replica id of n may not have executed digest at seq, or
// returns nil. A request (or the null request) runs on 2f+1 commit acks
// for it, itself included, or on f+1 replicas reporting it executed; an
// abort runs on more than f no votes, on "progress", or on f+1 reports.
func (ev *evidence) check(id lab.ID, n, seq int, digest string, name func(digest string) string) error {
	if seq <= ev.pruned {
		return nil
	}
	// A certificate is 2f+1 acks in one view: acks of several views
	// were given for different pre-prepares.
	var acks uint64
	counted := -1 // the view counted last: acks mostly come in one view
	for _, h := range ev.at(seq) {
		if h.kind != lab.KindCommit || !h.yes || h.digest != digest || h.view == counted {
			continue
		}
		v := h.view
		counted = v
		inView := ev.senders(seq, func(h *heard) bool {
			return h.kind == lab.KindCommit && h.yes && h.digest == digest && h.view == v
		})
		if count(inView) > count(acks) {
			acks = inView
		}
	}
	reports := ev.senders(seq, func(h *heard) bool { return h.kind == lab.KindStateReply && h.digest == digest })
	if count(acks) >= lab.Quorum(n) || count(reports) >= lab.Weak(n) {
		return nil
	}
	if digest != lab.NullDigest {
		return fmt.Errorf("%s executed n%d, %s, with no commit certificate: COMMIT acks for it came from %s, and it needs 2f+1 = %d from distinct replicas, its own included (or f+1 = %d replicas reporting it executed, in STATE-REPLY)",
			id, seq, name(digest), idList(acks), lab.Quorum(n), lab.Weak(n))
	}
	noes := ev.senders(seq, func(h *heard) bool { return h.kind == lab.KindPrepare && !h.yes })
	progressed := false
	if hs := ev.at(seq); len(hs) > 0 && hs[0].kind == kindBegun {
		progressed = ev.progress > hs[0].view
	}
	if lab.Blocking(n, count(noes)) || progressed {
		return nil
	}
	return fmt.Errorf("%s decided n%d aborted (or ran the null request there) with nothing that decides it: \"no\" prepare votes from %s, where more than f = %d abort it; COMMIT acks from %s, where 2f+1 = %d commit the null request; no \"progress\" typed since its request came up; no f+1 = %d replicas reporting it in STATE-REPLY",
		id, seq, strings.TrimPrefix(idList(noes), "only "), lab.Faulty(n), idList(acks), lab.Quorum(n), lab.Weak(n))
}

// checkAck says why replica id of n may not ack commit on c, or returns
// nil: an ack commits the replica to a prepared request, so it needs the
// pre-prepare from the primary of c's view and 2f yes votes of backups on
// the same digest in that view, its own included.
func (ev *evidence) checkAck(id lab.ID, n int, c *lab.Commit, name func(digest string) string) error {
	if c.Seq <= ev.pruned {
		return nil
	}
	primary := lab.Primary(c.View, n)
	pp := ev.senders(c.Seq, func(h *heard) bool {
		return h.kind == lab.KindPrePrepare && h.view == c.View && h.digest == c.Digest && h.from == primary
	}) != 0
	backups := ev.senders(c.Seq, func(h *heard) bool {
		return h.kind == lab.KindPrepare && h.yes && h.view == c.View && h.digest == c.Digest && h.from != primary
	})
	if !ev.inView(c.View, n) {
		return fmt.Errorf("%s acked commit on n%d in view %d, which it has no grounds to be in: no NEW-VIEW for view %d sent or received, and no f+1 state replies naming it", id, c.Seq, c.View, c.View)
	}
	if pp && count(backups) >= lab.Quorum(n)-1 {
		return nil
	}
	has := "the pre-prepare from " + primary.String()
	if !pp {
		has = "no pre-prepare for it from " + primary.String() + ", the primary of view " + fmt.Sprint(c.View)
	}
	return fmt.Errorf("%s acked commit on n%d in view %d, %s, without a prepared certificate: it holds %s, and yes PREPAREs from backups %s, where it needs 2f = %d (its own included) on that digest in that view",
		id, c.Seq, c.View, name(c.Digest), has, idList(backups), lab.Quorum(n)-1)
}
