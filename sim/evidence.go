package sim

import (
	"fmt"
	"maps"
	"slices"
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
type evidence struct {
	commits     map[int]map[string]map[lab.ID]bool // seq, digest: replicas that acked commit
	noes        map[int]map[lab.ID]bool            // seq: replicas that voted no
	transferred map[int]map[string]map[lab.ID]bool // seq, digest: replicas that report it executed
	progress    bool                               // the replica was told "progress"

	// For a commit ack: the pre-prepares, directly or in a NEW-VIEW, by
	// their sender, and the yes votes, by view and sequence number.
	prePrepares map[viewSeq]map[string]map[lab.ID]bool
	yeses       map[viewSeq]map[string]map[lab.ID]bool
}

type viewSeq struct{ view, seq int }

// add records one message from replica from (the replica itself for what
// it sent).
func (ev *evidence) add(from lab.ID, m lab.Message) {
	switch m := m.(type) {
	case *lab.Commit:
		if m.Yes {
			ev.commits = mark2(ev.commits, m.Seq, m.Digest, from)
		}
	case *lab.PrePrepare:
		ev.prePrepares = mark3(ev.prePrepares, viewSeq{m.View, m.Seq}, m.Digest, from)
	case *lab.NewView:
		for _, pp := range m.PrePrepares {
			ev.prePrepares = mark3(ev.prePrepares, viewSeq{pp.View, pp.Seq}, pp.Digest, from)
		}
	case *lab.Prepare:
		if m.Yes {
			ev.yeses = mark3(ev.yeses, viewSeq{m.View, m.Seq}, m.Digest, from)
		}
		if !m.Yes {
			if ev.noes == nil {
				ev.noes = map[int]map[lab.ID]bool{}
			}
			if ev.noes[m.Seq] == nil {
				ev.noes[m.Seq] = map[lab.ID]bool{}
			}
			ev.noes[m.Seq][from] = true
		}
	case *lab.StateReply:
		for i := range m.Committed {
			pp := &m.Committed[i]
			d := lab.NullDigest // an entry decided aborted, or the null request
			if pp.Digest != lab.NullDigest {
				d = pp.ContentDigest()
			}
			ev.transferred = mark2(ev.transferred, pp.Seq, d, from)
		}
	}
}

func mark3(m map[viewSeq]map[string]map[lab.ID]bool, vs viewSeq, digest string, id lab.ID) map[viewSeq]map[string]map[lab.ID]bool {
	if m == nil {
		m = map[viewSeq]map[string]map[lab.ID]bool{}
	}
	if m[vs] == nil {
		m[vs] = map[string]map[lab.ID]bool{}
	}
	if m[vs][digest] == nil {
		m[vs][digest] = map[lab.ID]bool{}
	}
	m[vs][digest][id] = true
	return m
}

// checkAck says why replica id of n may not ack commit on c, or returns
// nil: an ack commits the replica to a prepared request, so it needs the
// pre-prepare from the primary of c's view and 2f yes votes of backups on
// the same digest in that view, its own included.
func (ev *evidence) checkAck(id lab.ID, n int, c *lab.Commit, name func(digest string) string) error {
	vs := viewSeq{c.View, c.Seq}
	primary := lab.Primary(c.View, n)
	pp := ev.prePrepares[vs][c.Digest][primary]
	backups := map[lab.ID]bool{}
	for v := range ev.yeses[vs][c.Digest] {
		if v != primary {
			backups[v] = true
		}
	}
	if pp && len(backups) >= lab.Quorum(n)-1 {
		return nil
	}
	has := "the pre-prepare from " + primary.String()
	if !pp {
		has = "no pre-prepare for it from " + primary.String() + ", the primary of view " + fmt.Sprint(c.View)
	}
	yes := "none"
	if len(backups) > 0 {
		yes = "only " + idList(backups)
	}
	return fmt.Errorf("%s acked commit on n%d in view %d, %s, without a prepared certificate: it holds %s, and yes PREPAREs from backups %s, where it needs 2f = %d (its own included) on that digest in that view",
		id, c.Seq, c.View, name(c.Digest), has, yes, lab.Quorum(n)-1)
}

func mark2(m map[int]map[string]map[lab.ID]bool, seq int, digest string, id lab.ID) map[int]map[string]map[lab.ID]bool {
	if m == nil {
		m = map[int]map[string]map[lab.ID]bool{}
	}
	if m[seq] == nil {
		m[seq] = map[string]map[lab.ID]bool{}
	}
	if m[seq][digest] == nil {
		m[seq][digest] = map[lab.ID]bool{}
	}
	m[seq][digest][id] = true
	return m
}

// check says why replica id of n may not have executed digest at seq, or
// returns nil. A request (or the null request) runs on 2f+1 commit acks
// for it, itself included, or on f+1 replicas reporting it executed; an
// abort runs on more than f no votes, on "progress", or on f+1 reports.
func (ev *evidence) check(id lab.ID, n, seq int, digest string, name func(digest string) string) error {
	if len(ev.commits[seq][digest]) >= lab.Quorum(n) || len(ev.transferred[seq][digest]) >= lab.Weak(n) {
		return nil
	}
	acks := "none"
	if ids := ev.commits[seq][digest]; len(ids) > 0 {
		acks = "only " + idList(ids)
	}
	if digest != lab.NullDigest {
		return fmt.Errorf("%s executed n%d, %s, with no commit certificate: COMMIT acks for it came from %s, and it needs 2f+1 = %d from distinct replicas, its own included (or f+1 = %d replicas reporting it executed, in STATE-REPLY)",
			id, seq, name(digest), acks, lab.Quorum(n), lab.Weak(n))
	}
	if lab.Blocking(n, len(ev.noes[seq])) || ev.progress {
		return nil
	}
	noes := "none"
	if ids := ev.noes[seq]; len(ids) > 0 {
		noes = "only " + idList(ids)
	}
	return fmt.Errorf("%s decided n%d aborted (or ran the null request there) with nothing that decides it: \"no\" prepare votes from %s, where more than f = %d abort it; COMMIT acks from %s, where 2f+1 = %d commit the null request; no \"progress\" typed; no f+1 = %d replicas reporting it in STATE-REPLY",
		id, seq, noes, lab.Faulty(n), acks, lab.Quorum(n), lab.Weak(n))
}

func idList(ids map[lab.ID]bool) string {
	var s []string
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		s = append(s, id.String())
	}
	return strings.Join(s, " ")
}
