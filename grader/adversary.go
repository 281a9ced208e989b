package grader

import (
	"fmt"
	"strings"

	"pbftlab/lab"
	"pbftlab/lab/sim"
)

// The adversary specs put a replica under attacks the lab's cases do not
// script: a primary split in two (twins), votes repeated, forged or
// replayed from an old view, proposals outside the watermarks or with a
// digest that does not match, a wrong checkpoint digest, a lying state
// reply, a gap in the sequence, and too many crashed replicas. Each
// builds its situation step by step, checks it before going on, and says
// which replica, view and sequence number went wrong. The simulator
// checks safety after every delivery besides.
var adversaries = []Scenario{
	{
		Name:   "robust3_twin_primary",
		Title:  "Robustness - a primary split into twins proposes two requests at n1; the backups agree on at most one",
		Points: 4,
		Phases: []string{"pre-prepare", "prepare", "commit"},
		Run:    twinPrimary,
		Drops:  true,
	},
	{
		Name:   "robust4_duplicate_votes",
		Title:  "Robustness - a vote repeated, and the primary's own PREPARE, are counted once",
		Points: 3,
		Phases: []string{"prepare", "commit"},
		Run:    duplicateVotes,
	},
	{
		Name:   "robust5_forged_sender",
		Title:  "Robustness - a vote that names another replica as its sender is not that replica's vote",
		Points: 3,
		Phases: []string{"prepare", "commit"},
		Run:    forgedSender,
	},
	{
		Name:   "robust6_old_view_votes",
		Title:  "Robustness - prepares and commits from view 0 delivered in view 1 do not count",
		Points: 3,
		Phases: []string{"prepare", "commit", "view-change"},
		Run:    oldViewVotes,
	},
	{
		Name:   "robust7_outside_watermarks",
		Title:  "Robustness - pre-prepares and commits outside the watermarks are refused",
		Points: 3,
		Phases: []string{"pre-prepare", "checkpoint"},
		Run:    outsideWatermarks,
		Drops:  true,
	},
	{
		Name:   "robust8_wrong_checkpoint_digest",
		Title:  "Robustness - a replica reporting wrong checkpoint digests cannot make a checkpoint stable",
		Points: 3,
		Phases: []string{"checkpoint", "recovery"},
		Run:    wrongCheckpointDigest,
		Drops:  true,
	},
	{
		Name:   "robust9_f_crashed",
		Title:  "Robustness - with f replicas crashed, requests still commit",
		Points: 2,
		Phases: []string{"prepare", "commit"},
		Run:    fCrashed,
		Drops:  true,
	},
	{
		Name:   "robust10_f_plus_one_crashed",
		Title:  "Robustness - with f+1 replicas crashed, nothing executes, whatever the timers do",
		Points: 3,
		Phases: []string{"prepare", "commit", "view-change"},
		Run:    fPlusOneCrashed,
		Drops:  true,
	},
	{
		Name:   "robust11_pre_prepare_digest",
		Title:  "Robustness - a pre-prepare whose digest is not its request's is refused",
		Points: 2,
		Phases: []string{"pre-prepare"},
		Run:    prePrepareDigest,
		Drops:  true,
	},
	{
		Name:   "robust12_execution_waits_for_gap",
		Title:  "Robustness - a backup that missed n1 commits n2 but does not execute it",
		Points: 3,
		Phases: []string{"commit"},
		Run:    executionWaitsForGap,
	},
	{
		Name:   "robust13_null_request_fills_gap",
		Title:  "Robustness - a new primary fills a gap below a prepared request with a null request",
		Points: 3,
		Phases: []string{"view-change"},
		Run:    nullRequestFillsGap,
	},
	{
		Name:   "robust14_state_needs_f_plus_one",
		Title:  "Robustness - a recovering replica does not adopt state that only one replica reports",
		Points: 3,
		Phases: []string{"recovery"},
		Run:    stateNeedsWeakQuorum,
		Drops:  true,
	},
	{
		Name:   "robust15_forged_new_view",
		Title:  "Robustness - a NEW-VIEW that drops a prepared request is refused, and the next primary re-issues it",
		Points: 3,
		Phases: []string{"view-change"},
		Run:    forgedNewView,
	},
	{
		Name:   "robust16_lone_view_change",
		Title:  "Robustness - one replica asking for a view change does not move the others",
		Points: 2,
		Phases: []string{"view-change"},
		Run:    loneViewChange,
		Drops:  true,
	},
}

func init() { Scenarios = append(Scenarios, adversaries...) }

// at names a replica, its view and a sequence number, as every failure
// message starts.
func at(id lab.ID, st lab.Status, seq int) string {
	return fmt.Sprintf("%s (view %d, seq %d)", id, st.View, seq)
}

// inject has Byzantine replica from send m to each of to, noting it in
// the trace as a step.
func (d driver) inject(from lab.ID, to []lab.ID, what string, m lab.Message) {
	d.s.Trace().Step(fmt.Sprintf("%s (Byzantine): send %s to %s", from, what, lab.JoinIDs(to, ", ")))
	for _, id := range to {
		_ = d.s.Inject(from, id, m) // the scenarios inject only as Byzantine replicas
	}
}

// statuses reads the status of each replica, or says why one has none.
func (d driver) statuses(ids ...lab.ID) (map[lab.ID]lab.Status, string) {
	out := map[lab.ID]lab.Status{}
	for _, id := range ids {
		st, msg := d.status(id)
		if msg != "" {
			return nil, msg
		}
		out[id] = st
	}
	return out, ""
}

// outcomeAt returns how the replica decided seq, from its history.
func outcomeAt(st lab.Status, seq int) (lab.Outcome, bool) {
	for _, o := range st.History {
		if o.Seq == seq {
			return o, true
		}
	}
	return lab.Outcome{}, false
}

// phaseAt describes where seq stands at a replica, for a failure message.
func phaseAt(st lab.Status, seq int) string {
	if o, ok := outcomeAt(st, seq); ok {
		return fmt.Sprintf("%s#%d %s, executed %s in view %d", o.Request.Client, o.Request.Timestamp, o.Request.Op, outcomeWord(o.Committed), o.View)
	}
	if e, ok := entryAt(st, seq); ok {
		return describeEntry(e)
	}
	if seq <= st.LastExecuted {
		return "executed (nothing in the history or log)"
	}
	return "nothing in the history or log"
}

// decidedAs checks that each replica decided seq as want ("committed" or
// "aborted"), with a reason appended to each complaint.
func decidedAs(sts map[lab.ID]lab.Status, ids []lab.ID, seq int, want, why string) []string {
	var problems []string
	for _, id := range ids {
		st := sts[id]
		if o, ok := outcomeAt(st, seq); ok && outcomeWord(o.Committed) == want {
			continue
		}
		problems = append(problems, fmt.Sprintf("%s: expected %s, found %s: %s", at(id, st, seq), want, phaseAt(st, seq), why))
	}
	return problems
}

func newSim(newReplica lab.New, st Settings, seed uint64, opts sim.Options) (*sim.Sim, driver) {
	opts.Seed, opts.Duplicate = seed, st.Duplicate
	opts.Reorder, opts.Drop = opts.Reorder || st.Reorder, st.Drop
	s := sim.New(newReplica, opts)
	return s, driver{s}
}

// twinPrimary: P0 is two honest copies of the tree's replica; copy 0 talks
// to P1 and P2, copy 1 to P2 and P3. Both are told at once to order a
// request of their own, so both propose n1 in view 0: P1 hears a deposit,
// P3 a withdrawal, and P2 both, in an order the seed picks. P2 must keep
// the first and refuse the second; then the side P2 joined has 2f+1
// replicas (P2, its partner and a twin) and commits, and the other side
// cannot prepare. A replica that counts votes for another digest, or lets
// a second pre-prepare replace the first, breaks this.
func twinPrimary(newReplica lab.New, st Settings, seed uint64) (string, *sim.Sim) {
	build, twins := sim.NewTwins(newReplica, 0, [2][]lab.ID{{1, 2}, {2, 3}})
	// Both copies send on the links of P0, so the links must not keep
	// order: which proposal reaches P2 first is then the seed's choice.
	s, d := newSim(build, st, seed, sim.Options{Byzantine: []lab.ID{0}, Reorder: true, Balances: map[string]int{"alice": 100}})
	if err := s.Err(); err != nil {
		return err.Error(), s
	}
	deposit, withdraw := "account=alice,amount=40,operation=deposit", "account=alice,amount=30,operation=withdraw"
	s.Trace().Step("P0 (primary, Byzantine) is twins: copy 0 talks to P1 and P2, copy 1 to P2 and P3")
	twins.DoBoth(lab.Command{Op: lab.OpPropose, Arg: withdraw})
	d.step([]lab.ID{0}, "tx "+deposit+" (copy 0), tx "+withdraw+" (copy 1)")
	_ = s.Do(0, lab.Command{Op: lab.OpPropose, Arg: deposit})
	if msg := d.stopped("after the twins proposed at n1"); msg != "" {
		return msg, s
	}
	sts, msg := d.statuses(1, 2, 3)
	if msg != "" {
		return msg, s
	}
	o, ok := outcomeAt(sts[2], 1)
	if !ok {
		return fmt.Sprintf("%s: expected the request it accepted first committed, with its side of the cluster (P2, a twin and P1 or P3: 2f+1 replicas), found %s", at(2, sts[2], 1), phaseAt(sts[2], 1)), s
	}
	partner, other, kept := lab.ID(1), lab.ID(3), deposit
	if o.Request.Op == withdraw {
		partner, other, kept = 3, 1, withdraw
	}
	var problems []string
	if !o.Committed {
		problems = append(problems, fmt.Sprintf("%s: expected %s committed, found it aborted", at(2, sts[2], 1), kept))
	}
	if e, ok := entryAt(sts[2], 1); ok && e.Request != nil && e.Request.Op != kept {
		problems = append(problems, fmt.Sprintf("%s: executed %s, but its log now holds %s: a second pre-prepare for v0 n1 replaced the first", at(2, sts[2], 1), kept, describeEntry(e)))
	}
	if po, ok := outcomeAt(sts[partner], 1); !ok || po.Request.Op != kept || !po.Committed {
		problems = append(problems, fmt.Sprintf("%s: expected %s committed at n1, as at P2 (the pre-prepare, P2's and %s's prepares and commits make 2f+1), found %s", at(partner, sts[partner], 1), kept, partner, phaseAt(sts[partner], 1)))
	}
	if oo, ok := outcomeAt(sts[other], 1); ok {
		problems = append(problems, fmt.Sprintf("%s: executed %s#%d %s at n1, although only it and one twin stood for that proposal (2 of the 2f+1 = 3 needed)", at(other, sts[other], 1), oo.Request.Client, oo.Request.Timestamp, oo.Request.Op))
	}
	return strings.Join(problems, "\n"), s
}

// duplicateVotes: a vote counts once per sender however often it arrives.
// P2 is down, so P0, P1 and Byzantine P3 are all there is. P1 votes no and
// P3 sends its yes five times: P1 sees two distinct yes votes, short of
// 2f+1 = 3, and aborts on progress. Then the same in the commit phase.
// Last, with P0 Byzantine and P3 down, P0 sends a PREPARE of its own on
// top of its pre-prepare: the primary's vote is already counted, so P1
// (no) and P2 (yes) still see only two yes votes.
func duplicateVotes(newReplica lab.New, st Settings, seed uint64) (string, *sim.Sim) {
	s, d := newSim(newReplica, st, seed, sim.Options{Manual: true, Byzantine: []lab.ID{3}, Balances: map[string]int{"alice": 100}})
	if err := s.Err(); err != nil {
		return err.Error(), s
	}
	d.crash(2)
	req := s.Request(d.send("account=alice,amount=40,operation=deposit"))
	d.do(lab.Command{Op: lab.OpPropose}, 0)
	d.do(lab.Command{Op: lab.OpPrepare, Yes: false}, 1)
	yes := &lab.Prepare{View: 0, Seq: 1, Digest: lab.Digest(&req), Replica: 3, Yes: true}
	for range 5 {
		d.inject(3, []lab.ID{1}, "PREPARE v0 n1 yes (again)", yes)
	}
	d.do(lab.Command{Op: lab.OpProgress}, 0, 1)
	if msg := d.stopped("in the prepare phase of n1"); msg != "" {
		return msg, s
	}
	sts, msg := d.statuses(0, 1)
	if msg != "" {
		return msg, s
	}
	if p := decidedAs(sts, []lab.ID{0, 1}, 1, "aborted", "the yes votes come from P0 and P3 only (P3's five times), and 2f+1 = 3 distinct replicas are needed"); len(p) > 0 {
		return strings.Join(p, "\n"), s
	}

	req = s.Request(d.send("account=alice,amount=30,operation=withdraw"))
	d.do(lab.Command{Op: lab.OpPropose}, 0)
	d.do(lab.Command{Op: lab.OpPrepare, Yes: true}, 1)
	d.inject(3, []lab.ID{0, 1}, "PREPARE v0 n2 yes", &lab.Prepare{View: 0, Seq: 2, Digest: lab.Digest(&req), Replica: 3, Yes: true})
	d.do(lab.Command{Op: lab.OpProgress}, 0, 1)
	sts, msg = d.statuses(0, 1)
	if msg != "" {
		return msg, s
	}
	for _, id := range []lab.ID{0, 1} {
		if e, ok := entryAt(sts[id], 2); !ok || e.Phase != lab.PhasePrepared {
			return fmt.Sprintf("%s: setting up, expected the withdrawal prepared with the yes votes of P0, P1 and P3, found %s", at(id, sts[id], 2), phaseAt(sts[id], 2)), s
		}
	}
	d.do(lab.Command{Op: lab.OpAck, Yes: true}, 0)
	d.do(lab.Command{Op: lab.OpAck, Yes: false}, 1)
	ack := &lab.Commit{View: 0, Seq: 2, Digest: lab.Digest(&req), Replica: 3, Commit: true}
	for range 5 {
		d.inject(3, []lab.ID{0, 1}, "COMMIT v0 n2 commit (again)", ack)
	}
	d.do(lab.Command{Op: lab.OpProgress}, 0, 1)
	if msg := d.stopped("in the commit phase of n2"); msg != "" {
		return msg, s
	}
	sts, msg = d.statuses(0, 1)
	if msg != "" {
		return msg, s
	}
	if p := decidedAs(sts, []lab.ID{0, 1}, 2, "aborted", "the commit acks come from P0 and P3 only (P3's five times), and 2f+1 = 3 distinct replicas are needed"); len(p) > 0 {
		return strings.Join(p, "\n"), s
	}

	// The primary's PREPARE.
	s, d = newSim(newReplica, st, seed, sim.Options{Manual: true, Byzantine: []lab.ID{0}, Balances: map[string]int{"alice": 100}})
	if err := s.Err(); err != nil {
		return err.Error(), s
	}
	d.crash(3)
	req = s.Request(d.send("account=alice,amount=40,operation=deposit"))
	d.do(lab.Command{Op: lab.OpPropose}, 0)
	d.do(lab.Command{Op: lab.OpPrepare, Yes: false}, 1)
	d.do(lab.Command{Op: lab.OpPrepare, Yes: true}, 2)
	d.inject(0, []lab.ID{1, 2}, "PREPARE v0 n1 yes in its own name", &lab.Prepare{View: 0, Seq: 1, Digest: lab.Digest(&req), Replica: 0, Yes: true})
	d.do(lab.Command{Op: lab.OpProgress}, 1, 2)
	if msg := d.stopped("in the prepare phase of n1"); msg != "" {
		return msg, s
	}
	sts, msg = d.statuses(1, 2)
	if msg != "" {
		return msg, s
	}
	return strings.Join(decidedAs(sts, []lab.ID{1, 2}, 1, "aborted", "the yes votes are P0's pre-prepare and P2's prepare; the primary's PREPARE is a second vote from P0, not a third replica"), "\n"), s
}

// forgedSender: P3 is Byzantine and P2 down. P3 sends P0 and P1 a yes
// vote naming P2 as its sender, besides its own; P1 votes no. Only P0 and
// P3 really voted yes, so both abort on progress. Then the same with
// commit acks.
func forgedSender(newReplica lab.New, st Settings, seed uint64) (string, *sim.Sim) {
	s, d := newSim(newReplica, st, seed, sim.Options{Manual: true, Byzantine: []lab.ID{3}, Balances: map[string]int{"alice": 100}})
	if err := s.Err(); err != nil {
		return err.Error(), s
	}
	both := []lab.ID{0, 1}
	d.crash(2)
	req := s.Request(d.send("account=alice,amount=40,operation=deposit"))
	d.do(lab.Command{Op: lab.OpPropose}, 0)
	d.do(lab.Command{Op: lab.OpPrepare, Yes: false}, 1)
	dg := lab.Digest(&req)
	d.inject(3, both, "PREPARE v0 n1 yes naming P2 as its sender", &lab.Prepare{View: 0, Seq: 1, Digest: dg, Replica: 2, Yes: true})
	d.inject(3, both, "PREPARE v0 n1 yes", &lab.Prepare{View: 0, Seq: 1, Digest: dg, Replica: 3, Yes: true})
	d.do(lab.Command{Op: lab.OpProgress}, both...)
	if msg := d.stopped("in the prepare phase of n1"); msg != "" {
		return msg, s
	}
	sts, msg := d.statuses(both...)
	if msg != "" {
		return msg, s
	}
	if p := decidedAs(sts, both, 1, "aborted", "P2 is down and never voted: the PREPARE naming it came from P3, so the yes votes are P0's and P3's, short of 2f+1 = 3"); len(p) > 0 {
		return strings.Join(p, "\n"), s
	}

	req = s.Request(d.send("account=alice,amount=30,operation=withdraw"))
	dg = lab.Digest(&req)
	d.do(lab.Command{Op: lab.OpPropose}, 0)
	d.do(lab.Command{Op: lab.OpPrepare, Yes: true}, 1)
	d.inject(3, both, "PREPARE v0 n2 yes", &lab.Prepare{View: 0, Seq: 2, Digest: dg, Replica: 3, Yes: true})
	d.do(lab.Command{Op: lab.OpProgress}, both...)
	sts, msg = d.statuses(both...)
	if msg != "" {
		return msg, s
	}
	for _, id := range both {
		if e, ok := entryAt(sts[id], 2); !ok || e.Phase != lab.PhasePrepared {
			return fmt.Sprintf("%s: setting up, expected the withdrawal prepared with the yes votes of P0, P1 and P3, found %s", at(id, sts[id], 2), phaseAt(sts[id], 2)), s
		}
	}
	d.do(lab.Command{Op: lab.OpAck, Yes: true}, 0)
	d.do(lab.Command{Op: lab.OpAck, Yes: false}, 1)
	d.inject(3, both, "COMMIT v0 n2 commit naming P2 as its sender", &lab.Commit{View: 0, Seq: 2, Digest: dg, Replica: 2, Commit: true})
	d.inject(3, both, "COMMIT v0 n2 commit", &lab.Commit{View: 0, Seq: 2, Digest: dg, Replica: 3, Commit: true})
	d.do(lab.Command{Op: lab.OpProgress}, both...)
	if msg := d.stopped("in the commit phase of n2"); msg != "" {
		return msg, s
	}
	sts, msg = d.statuses(both...)
	if msg != "" {
		return msg, s
	}
	return strings.Join(decidedAs(sts, both, 2, "aborted", "the COMMIT naming P2 came from P3, so the commit acks are P0's and P3's, short of 2f+1 = 3"), "\n"), s
}

// oldViewVotes: a request is pre-prepared at n1 in view 0, P0 crashes and
// the others move to view 1, where P1 orders the same request at n1
// again. P2 votes yes; Byzantine P3 stays silent in view 1 but sends its
// yes from view 0. Votes count only in the view they were cast in (PBFT
// §4.2), so P1 and P2 hold two yes votes and abort on progress. Then, for
// a second request that prepares in view 1, P3 sends a view-0 commit ack
// beside P1's and P2's: again two acks of view 1, and an abort.
func oldViewVotes(newReplica lab.New, st Settings, seed uint64) (string, *sim.Sim) {
	s, d := newSim(newReplica, st, seed, sim.Options{Manual: true, Byzantine: []lab.ID{3}, Balances: map[string]int{"alice": 100}})
	if err := s.Err(); err != nil {
		return err.Error(), s
	}
	pair := []lab.ID{1, 2}
	req := s.Request(d.send("account=alice,amount=40,operation=deposit"))
	dg := lab.Digest(&req)
	d.do(lab.Command{Op: lab.OpPropose}, 0)
	d.crash(0)
	d.do(lab.Command{Op: lab.OpViewChange}, 1, 2, 3)
	if msg := d.stopped("during the view change"); msg != "" {
		return msg, s
	}
	sts, msg := d.statuses(1, 2, 3)
	if msg != "" {
		return msg, s
	}
	for _, id := range []lab.ID{1, 2, 3} {
		if st := sts[id]; st.View != 1 || st.ViewChanging {
			return fmt.Sprintf("%s: setting up, expected view 1 led by P1 once P1, P2 and P3 asked for it, found view %d%s", at(id, st, 1), st.View, underWay(st)), s
		}
	}
	d.do(lab.Command{Op: lab.OpPropose}, 1)
	sts, msg = d.statuses(1, 2)
	if msg != "" {
		return msg, s
	}
	for _, id := range pair {
		if e, ok := entryAt(sts[id], 1); !ok || e.Phase != lab.PhasePrePrepared || e.Digest != dg {
			return fmt.Sprintf("%s: setting up, expected P1 to order the deposit again at n1 in view 1, found %s", at(id, sts[id], 1), phaseAt(sts[id], 1)), s
		}
	}
	d.do(lab.Command{Op: lab.OpPrepare, Yes: true}, 2)
	d.inject(3, pair, "PREPARE v0 n1 yes, from view 0", &lab.Prepare{View: 0, Seq: 1, Digest: dg, Replica: 3, Yes: true})
	d.do(lab.Command{Op: lab.OpProgress}, pair...)
	if msg := d.stopped("in view 1, n1"); msg != "" {
		return msg, s
	}
	sts, msg = d.statuses(pair...)
	if msg != "" {
		return msg, s
	}
	if p := decidedAs(sts, pair, 1, "aborted", "in view 1 only P1 (its pre-prepare) and P2 voted yes; P3's PREPARE is from view 0 and does not count in view 1"); len(p) > 0 {
		return strings.Join(p, "\n"), s
	}

	req = s.Request(d.send("account=alice,amount=30,operation=withdraw"))
	dg = lab.Digest(&req)
	d.do(lab.Command{Op: lab.OpPropose}, 1)
	d.do(lab.Command{Op: lab.OpPrepare, Yes: true}, 2)
	sts, msg = d.statuses(pair...)
	if msg != "" {
		return msg, s
	}
	e, ok := findEntry(sts[2], req)
	if !ok {
		return fmt.Sprintf("%s: setting up, expected P1 to order the withdrawal in view 1, found it in neither the history nor the log", at(2, sts[2], 2)), s
	}
	seq := e.Seq
	d.inject(3, pair, fmt.Sprintf("PREPARE v1 n%d yes", seq), &lab.Prepare{View: 1, Seq: seq, Digest: dg, Replica: 3, Yes: true})
	d.do(lab.Command{Op: lab.OpProgress}, pair...)
	sts, msg = d.statuses(pair...)
	if msg != "" {
		return msg, s
	}
	for _, id := range pair {
		if e, ok := entryAt(sts[id], seq); !ok || e.Phase != lab.PhasePrepared || e.View != 1 {
			return fmt.Sprintf("%s: setting up, expected the withdrawal prepared in view 1 with the votes of P1, P2 and P3, found %s", at(id, sts[id], seq), phaseAt(sts[id], seq)), s
		}
	}
	d.do(lab.Command{Op: lab.OpAck, Yes: true}, pair...)
	d.inject(3, pair, fmt.Sprintf("COMMIT v0 n%d commit, from view 0", seq), &lab.Commit{View: 0, Seq: seq, Digest: dg, Replica: 3, Commit: true})
	d.do(lab.Command{Op: lab.OpProgress}, pair...)
	if msg := d.stopped(fmt.Sprintf("in view 1, n%d", seq)); msg != "" {
		return msg, s
	}
	sts, msg = d.statuses(pair...)
	if msg != "" {
		return msg, s
	}
	return strings.Join(decidedAs(sts, pair, seq, "aborted", "in view 1 only P1 and P2 acked commit; P3's COMMIT is from view 0 and does not count in view 1"), "\n"), s
}

func describeEntryOr(e lab.Entry, ok bool) string {
	if !ok {
		return "nothing in the log"
	}
	return describeEntry(e)
}

// intruder is the client of requests that only a Byzantine primary ever
// proposed.
const intruder = "intruder"

// outsideWatermarks: with K = 2 and L = 4, once n2 is stable the
// watermarks are (2, 6]. Byzantine P0 then sends a pre-prepare and a
// commit for n7, above the window, and a pre-prepare for n2, at h, each
// for a request no client sent. The backups refuse all three. Six more
// deposits then take n3 to n8 everywhere, n7 included: a backup that
// took the early n7 could not accept the real one.
func outsideWatermarks(newReplica lab.New, st Settings, seed uint64) (string, *sim.Sim) {
	s, d := newSim(newReplica, st, seed, sim.Options{Byzantine: []lab.ID{0}, CheckpointInterval: 2, Window: 4})
	if err := s.Err(); err != nil {
		return err.Error(), s
	}
	backups := []lab.ID{1, 2, 3}
	op := "account=alice,amount=1,operation=deposit"
	d.send(op)
	d.send(op)
	sts, msg := d.statuses(backups...)
	if msg != "" {
		return msg, s
	}
	for _, id := range backups {
		if st := sts[id]; st.LastExecuted != 2 || st.StableSeq != 2 {
			return fmt.Sprintf("%s: setting up, expected two deposits executed and the checkpoint at n2 stable (K = 2), found executed up to n%d and stable checkpoint n%d", at(id, st, 2), st.LastExecuted, st.StableSeq), s
		}
	}
	high := lab.Request{Client: intruder, Timestamp: 1, Op: "account=mallory,amount=1000,operation=deposit"}
	low := lab.Request{Client: intruder, Timestamp: 2, Op: "account=mallory,amount=2000,operation=deposit"}
	d.inject(0, backups, "PRE-PREPARE v0 n7 (above the high watermark 6)", &lab.PrePrepare{View: 0, Seq: 7, Digest: lab.Digest(&high), Request: &high})
	d.inject(0, backups, "COMMIT v0 n7 commit (above the high watermark 6)", &lab.Commit{View: 0, Seq: 7, Digest: lab.Digest(&high), Replica: 0, Commit: true})
	d.inject(0, backups, "PRE-PREPARE v0 n2 (at the low watermark 2)", &lab.PrePrepare{View: 0, Seq: 2, Digest: lab.Digest(&low), Request: &low})
	if msg := d.stopped("after the pre-prepares outside the watermarks"); msg != "" {
		return msg, s
	}
	sts, msg = d.statuses(backups...)
	if msg != "" {
		return msg, s
	}
	var problems []string
	for _, id := range backups {
		st := sts[id]
		for _, e := range st.Log {
			if e.Request != nil && e.Request.Client == intruder {
				problems = append(problems, fmt.Sprintf("%s: accepted a PRE-PREPARE for n%d outside the watermarks (%d, %d]: %s", at(id, st, e.Seq), e.Seq, st.StableSeq, st.StableSeq+4, describeEntry(e)))
			}
		}
	}
	if len(problems) > 0 {
		return strings.Join(problems, "\n"), s
	}
	for range 6 {
		d.send(op)
	}
	if msg := d.stopped("ordering n3 to n8"); msg != "" {
		return msg, s
	}
	sts, msg = d.statuses(backups...)
	if msg != "" {
		return msg, s
	}
	for _, id := range backups {
		st := sts[id]
		for _, o := range st.History {
			if o.Request.Client == intruder {
				problems = append(problems, fmt.Sprintf("%s: executed %s#%d, which only came in a PRE-PREPARE outside the watermarks", at(id, st, o.Seq), o.Request.Client, o.Request.Timestamp))
			}
		}
		if st.LastExecuted < 8 {
			problems = append(problems, fmt.Sprintf("%s: expected the eight deposits executed, up to n8, found executed up to n%d; n%d: %s", at(id, st, st.LastExecuted+1), st.LastExecuted, st.LastExecuted+1, phaseAt(st, st.LastExecuted+1)))
		}
	}
	return strings.Join(problems, "\n"), s
}

// forgedPrefix marks the digests a lying replica puts in its checkpoints.
const forgedPrefix = "forged-"

// wrongCheckpointDigest: P3 runs the tree's code but every CHECKPOINT it
// sends carries a wrong digest. With K = 2 the honest three make n2
// stable on their own. With P2 down, the checkpoint at n4 has two
// matching digests (P0 and P1) and P3's wrong one: f+1, not 2f+1, so it
// must not become stable. Once P2 is back and has caught up, its own
// checkpoint at n4 makes three at P0 and P1 (P2 missed theirs while it
// was down), and n6 becomes stable at all three.
func wrongCheckpointDigest(newReplica lab.New, st Settings, seed uint64) (string, *sim.Sim) {
	liar := sim.Liar(newReplica, 3, func(to lab.ID, m lab.Message) lab.Message {
		if c, ok := m.(*lab.Checkpoint); ok {
			c.Digest = forgedPrefix + c.Digest
		}
		return m
	})
	s, d := newSim(liar, st, seed, sim.Options{Byzantine: []lab.ID{3}, CheckpointInterval: 2, Window: 4})
	if err := s.Err(); err != nil {
		return err.Error(), s
	}
	op := "account=alice,amount=5,operation=deposit"
	stableAt := func(seq int, ids ...lab.ID) string {
		sts, msg := d.statuses(ids...)
		if msg != "" {
			return msg
		}
		var problems []string
		for _, id := range ids {
			st := sts[id]
			switch {
			case st.StableSeq != seq:
				problems = append(problems, fmt.Sprintf("%s: expected the stable checkpoint at n%d, found n%d (executed up to n%d)", at(id, st, seq), seq, st.StableSeq, st.LastExecuted))
			case strings.HasPrefix(st.StableDigest, forgedPrefix):
				problems = append(problems, fmt.Sprintf("%s: the stable checkpoint has P3's forged digest %s", at(id, st, seq), st.StableDigest))
			}
		}
		return strings.Join(problems, "\n")
	}
	d.send(op)
	d.send(op)
	if msg := d.stopped("n1 and n2"); msg != "" {
		return msg, s
	}
	if msg := stableAt(2, 0, 1, 2); msg != "" {
		return msg + "\n(P0, P1 and P2 took matching checkpoints at n2: 2f+1 of them)", s
	}
	d.crash(2)
	d.send(op)
	d.send(op)
	if msg := d.stopped("n3 and n4 with P2 down"); msg != "" {
		return msg, s
	}
	if msg := stableAt(2, 0, 1); msg != "" {
		return msg + "\n(at n4 only P0 and P1 took matching checkpoints; P3's digest is forged: f+1 = 2 matching is not 2f+1)", s
	}
	d.step([]lab.ID{2}, "recover")
	_ = s.Recover(2)
	if msg := d.stopped("after P2 recovered"); msg != "" {
		return msg, s
	}
	if msg := stableAt(4, 0, 1); msg != "" {
		return msg + "\n(once P2 caught up and took its checkpoint at n4, P0, P1 and P2 matched: 2f+1)", s
	}
	d.send(op)
	d.send(op)
	if msg := d.stopped("n5 and n6"); msg != "" {
		return msg, s
	}
	return stableAt(6, 0, 1, 2), s
}

// fCrashed: with f = 1 backup down, the other three are 2f+1 and every
// request commits, automatic votes throughout.
func fCrashed(newReplica lab.New, st Settings, seed uint64) (string, *sim.Sim) {
	s, d := newSim(newReplica, st, seed, sim.Options{Balances: map[string]int{"alice": 0}})
	if err := s.Err(); err != nil {
		return err.Error(), s
	}
	d.crash(3)
	var sent []int
	for range 5 {
		sent = append(sent, d.send("account=alice,amount=10,operation=deposit"))
	}
	if msg := d.stopped("with P3 down"); msg != "" {
		return msg, s
	}
	sts, msg := d.statuses(0, 1, 2)
	if msg != "" {
		return msg, s
	}
	var problems []string
	for _, id := range []lab.ID{0, 1, 2} {
		st := sts[id]
		if st.LastExecuted < 5 {
			problems = append(problems, fmt.Sprintf("%s: expected five deposits executed with P0, P1 and P2 up (2f+1 of them), found executed up to n%d; n%d: %s", at(id, st, st.LastExecuted+1), st.LastExecuted, st.LastExecuted+1, phaseAt(st, st.LastExecuted+1)))
		}
	}
	for _, n := range sent {
		if done, committed := s.Outcome(n); len(problems) == 0 && (!done || !committed) {
			problems = append(problems, fmt.Sprintf("client (view 0, seq %d): expected request %d committed, found %s", n, n, clientOutcome(done, committed)))
		}
	}
	return strings.Join(problems, "\n"), s
}

// fPlusOneTicks is how long the f+1 scenario lets the timers run: enough
// for several view changes to be asked for and fail.
const fPlusOneTicks = 150

// fPlusOneCrashed: a first deposit commits with everyone up. Then P2 and
// P3 crash: P0 and P1 are f+1 = 2 replicas, short of any quorum. A second
// deposit arrives and the clocks run: the client resends, P1's timer asks
// for view changes that cannot complete. Nothing more may execute, and the
// client must get no answer.
func fPlusOneCrashed(newReplica lab.New, st Settings, seed uint64) (string, *sim.Sim) {
	s, d := newSim(newReplica, st, seed, sim.Options{Balances: map[string]int{"alice": 0}})
	if err := s.Err(); err != nil {
		return err.Error(), s
	}
	first := d.send("account=alice,amount=10,operation=deposit")
	sts, msg := d.statuses(0, 1, 2, 3)
	if msg != "" {
		return msg, s
	}
	for id, st := range sts {
		if st.LastExecuted != 1 {
			return fmt.Sprintf("%s: setting up, expected the first deposit executed with all four replicas up, found %s", at(id, st, 1), phaseAt(st, 1)), s
		}
	}
	if done, committed := s.Outcome(first); !done || !committed {
		return fmt.Sprintf("client (view 0, seq 1): setting up, expected the first deposit committed, found %s", clientOutcome(done, committed)), s
	}
	d.crash(2)
	d.crash(3)
	n := d.send("account=alice,amount=10,operation=deposit")
	s.Trace().Step(fmt.Sprintf("tick %d", fPlusOneTicks))
	for range fPlusOneTicks {
		s.Tick()
		if msg := d.stopped(fmt.Sprintf("at tick %d", s.Now())); msg != "" {
			return msg, s
		}
	}
	sts, msg = d.statuses(0, 1)
	if msg != "" {
		return msg, s
	}
	var problems []string
	for _, id := range []lab.ID{0, 1} {
		st := sts[id]
		if st.LastExecuted > 1 || len(st.History) > 1 {
			problems = append(problems, fmt.Sprintf("%s: executed up to n%d (%s) with only P0 and P1 up: f+1 = 2 replicas, and 2f+1 = 3 are needed to commit", at(id, st, 2), st.LastExecuted, phaseAt(st, 2)))
		}
		for _, e := range st.Log {
			if e.Seq > 1 && (e.Phase == lab.PhasePrepared || e.Phase == lab.PhaseCommitted) {
				problems = append(problems, fmt.Sprintf("%s: %s with only P0 and P1 up", at(id, st, e.Seq), describeEntry(e)))
			}
		}
	}
	if done, committed := s.Outcome(n); done {
		problems = append(problems, fmt.Sprintf("client (view %d, seq 2): expected no answer to the second deposit with two replicas up, found it %s", sts[0].View, outcomeWord(committed)))
	}
	return strings.Join(problems, "\n"), s
}

// prePrepareDigest: Byzantine P0 sends P1 a pre-prepare for n1 whose
// digest is its request's, and P2 and P3 one with the same digest but
// another request. P1 accepts its own; P2 and P3 must refuse theirs: had
// they accepted, all three would vote on one digest and then execute
// different requests.
func prePrepareDigest(newReplica lab.New, st Settings, seed uint64) (string, *sim.Sim) {
	s, d := newSim(newReplica, st, seed, sim.Options{Byzantine: []lab.ID{0}, Balances: map[string]int{"alice": 100}})
	if err := s.Err(); err != nil {
		return err.Error(), s
	}
	real := lab.Request{Client: intruder, Timestamp: 1, Op: "account=alice,amount=10,operation=deposit"}
	swapped := lab.Request{Client: intruder, Timestamp: 1, Op: "account=alice,amount=90,operation=withdraw"}
	dg := lab.Digest(&real)
	d.inject(0, []lab.ID{1}, "PRE-PREPARE v0 n1 for a deposit", &lab.PrePrepare{View: 0, Seq: 1, Digest: dg, Request: &real})
	d.inject(0, []lab.ID{2, 3}, "PRE-PREPARE v0 n1 with the deposit's digest and a withdrawal", &lab.PrePrepare{View: 0, Seq: 1, Digest: dg, Request: &swapped})
	if msg := d.stopped("after the pre-prepares"); msg != "" {
		return msg, s
	}
	sts, msg := d.statuses(1, 2, 3)
	if msg != "" {
		return msg, s
	}
	var problems []string
	if e, ok := entryAt(sts[1], 1); !ok || e.Request == nil || e.Digest != dg || e.Phase == 0 {
		problems = append(problems, fmt.Sprintf("%s: expected the pre-prepare for the deposit accepted (its digest is its request's), found %s", at(1, sts[1], 1), describeEntryOr(e, ok)))
	}
	for _, id := range []lab.ID{2, 3} {
		st := sts[id]
		if e, ok := entryAt(st, 1); ok && e.Request != nil && e.Phase != 0 {
			problems = append(problems, fmt.Sprintf("%s: accepted a PRE-PREPARE whose digest %s is not its request's (%s): %s", at(id, st, 1), dg, lab.Digest(&swapped), describeEntry(e)))
		}
		if o, ok := outcomeAt(st, 1); ok {
			problems = append(problems, fmt.Sprintf("%s: executed %s at n1, from a PRE-PREPARE whose digest is not its request's", at(id, st, 1), o.Request.Op))
		}
	}
	return strings.Join(problems, "\n"), s
}

// dropFirstPrePrepare makes Byzantine P0 leave the pre-prepare for n1 out
// of what it sends to the listed replicas.
func dropFirstPrePrepare(newReplica lab.New, to ...lab.ID) lab.New {
	return sim.Liar(newReplica, 0, func(dest lab.ID, m lab.Message) lab.Message {
		if pp, ok := m.(*lab.PrePrepare); ok && pp.Seq == 1 && pp.View == 0 && containsID(to, dest) {
			return nil
		}
		return m
	})
}

func containsID(ids []lab.ID, id lab.ID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// executionWaitsForGap: Byzantine P0 orders two deposits but never sends
// P1 the pre-prepare for n1. Everyone votes and acks on what they have;
// P1 commits n2 and must not execute it, since n1 has not executed
// there (PBFT §4.2: in sequence order). P2 and P3 execute both.
func executionWaitsForGap(newReplica lab.New, st Settings, seed uint64) (string, *sim.Sim) {
	s, d := newSim(dropFirstPrePrepare(newReplica, 1), st, seed, sim.Options{Manual: true, Byzantine: []lab.ID{0}, Balances: map[string]int{"alice": 0}})
	if err := s.Err(); err != nil {
		return err.Error(), s
	}
	s.Trace().Step("P0 (primary, Byzantine) sends P1 no pre-prepare for n1")
	all := []lab.ID{0, 1, 2, 3}
	d.send("account=alice,amount=10,operation=deposit")
	d.do(lab.Command{Op: lab.OpPropose}, 0)
	second := s.Request(d.send("account=alice,amount=20,operation=deposit"))
	d.do(lab.Command{Op: lab.OpPropose}, 0)
	d.do(lab.Command{Op: lab.OpPrepare, Yes: true}, 1, 2, 3)
	d.do(lab.Command{Op: lab.OpPrepare, Yes: true}, 2, 3)
	d.do(lab.Command{Op: lab.OpProgress}, all...)
	d.do(lab.Command{Op: lab.OpAck, Yes: true}, all...)
	d.do(lab.Command{Op: lab.OpAck, Yes: true}, 0, 2, 3)
	d.do(lab.Command{Op: lab.OpProgress}, all...)
	if msg := d.stopped("with n1 missing at P1 (view 0, seq 2)"); msg != "" {
		return msg, s
	}
	sts, msg := d.statuses(1, 2, 3)
	if msg != "" {
		return msg, s
	}
	var problems []string
	p1 := sts[1]
	e, ok := findEntry(p1, second)
	switch o, done := outcomeAt(p1, 2); {
	case done:
		problems = append(problems, fmt.Sprintf("%s: executed %s#%d at n2 without n1: a replica executes in sequence order", at(1, p1, 2), o.Request.Client, o.Request.Timestamp))
	case p1.LastExecuted != 0:
		problems = append(problems, fmt.Sprintf("%s: executed up to n%d without ever receiving the pre-prepare for n1", at(1, p1, 1), p1.LastExecuted))
	case !ok || e.Seq != 2 || e.Phase != lab.PhaseCommitted:
		problems = append(problems, fmt.Sprintf("%s: expected the second deposit committed at n2 (all four voted and acked it) and waiting for n1, found %s", at(1, p1, 2), describeEntryOr(e, ok)))
	}
	for _, id := range []lab.ID{2, 3} {
		if st := sts[id]; st.LastExecuted != 2 {
			problems = append(problems, fmt.Sprintf("%s: expected both deposits executed, found executed up to n%d; n%d: %s", at(id, st, st.LastExecuted+1), st.LastExecuted, st.LastExecuted+1, phaseAt(st, st.LastExecuted+1)))
		}
	}
	return strings.Join(problems, "\n"), s
}

// nullRequestFillsGap: Byzantine P0 sends the pre-prepare for n1 to P1
// only, and the one for n2 to everyone. n2 prepares at P1, P2 and P3; n1
// prepares nowhere. P0 crashes and the others change view: NEW-VIEW must
// re-issue n2's request at n2 and fill n1 with a null request (PBFT
// §4.4), or P2 and P3, which never had n1, could never execute n2.
func nullRequestFillsGap(newReplica lab.New, st Settings, seed uint64) (string, *sim.Sim) {
	s, d := newSim(dropFirstPrePrepare(newReplica, 2, 3), st, seed, sim.Options{Manual: true, Byzantine: []lab.ID{0}, Balances: map[string]int{"alice": 0}})
	if err := s.Err(); err != nil {
		return err.Error(), s
	}
	s.Trace().Step("P0 (primary, Byzantine) sends the pre-prepare for n1 to P1 only")
	backups := []lab.ID{1, 2, 3}
	d.send("account=alice,amount=10,operation=deposit")
	d.do(lab.Command{Op: lab.OpPropose}, 0)
	second := s.Request(d.send("account=alice,amount=20,operation=deposit"))
	d.do(lab.Command{Op: lab.OpPropose}, 0)
	d.do(lab.Command{Op: lab.OpPrepare, Yes: true}, backups...)
	d.do(lab.Command{Op: lab.OpPrepare, Yes: true}, 1)
	d.do(lab.Command{Op: lab.OpProgress}, backups...)
	sts, msg := d.statuses(backups...)
	if msg != "" {
		return msg, s
	}
	for _, id := range backups {
		if e, ok := entryAt(sts[id], 2); !ok || e.Phase != lab.PhasePrepared {
			return fmt.Sprintf("%s: setting up, expected the second deposit prepared at n2 with the votes of P1, P2 and P3, found %s", at(id, sts[id], 2), phaseAt(sts[id], 2)), s
		}
	}
	d.crash(0)
	d.do(lab.Command{Op: lab.OpViewChange}, backups...)
	if msg := d.stopped("during the view change"); msg != "" {
		return msg, s
	}
	sts, msg = d.statuses(backups...)
	if msg != "" {
		return msg, s
	}
	var problems []string
	for _, id := range backups {
		st := sts[id]
		if st.View != 1 || st.ViewChanging {
			problems = append(problems, fmt.Sprintf("%s: expected view 1 led by P1 once P1, P2 and P3 asked for it, found view %d%s", at(id, st, 1), st.View, underWay(st)))
			continue
		}
		if id == 1 {
			continue // P1 decided n1 in view 0 on progress
		}
		e, ok := entryAt(st, 1)
		if !ok || e.Phase == 0 || e.Request != nil {
			problems = append(problems, fmt.Sprintf("%s: expected NEW-VIEW to fill n1, which prepared nowhere, with a null request below the prepared n2, found %s", at(id, st, 1), describeEntryOr(e, ok)))
		}
	}
	if len(problems) > 0 {
		return strings.Join(problems, "\n"), s
	}
	d.do(lab.Command{Op: lab.OpPrepare, Yes: true}, 2, 3)
	d.do(lab.Command{Op: lab.OpPrepare, Yes: true}, 2, 3)
	d.do(lab.Command{Op: lab.OpProgress}, backups...)
	d.do(lab.Command{Op: lab.OpAck, Yes: true}, backups...)
	d.do(lab.Command{Op: lab.OpAck, Yes: true}, backups...)
	d.do(lab.Command{Op: lab.OpProgress}, backups...)
	if msg := d.stopped("in view 1"); msg != "" {
		return msg, s
	}
	sts, msg = d.statuses(backups...)
	if msg != "" {
		return msg, s
	}
	for _, id := range backups {
		st := sts[id]
		o, ok := findOutcome(st, second)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: expected the second deposit executed at n2 in view 1, found executed up to n%d; n2: %s", at(id, st, 2), st.LastExecuted, phaseAt(st, 2)))
		case !o.Committed || o.Seq != 2:
			problems = append(problems, fmt.Sprintf("%s: expected the second deposit committed at n2, found it %s at n%d", at(id, st, 2), outcomeWord(o.Committed), o.Seq))
		}
	}
	return strings.Join(problems, "\n"), s
}

// lieOp is what the lying replica claims was executed.
const lieOp = "account=alice,amount=999,operation=deposit"

// stateNeedsWeakQuorum: P2 is down while three deposits commit. Byzantine
// P3 then lies in its state replies: every request it reports executed
// becomes a deposit of 999. When P2 recovers, the honest replies are held
// up on the network, so P3's lie is the only answer: one reply, where
// f+1 = 2 matching are needed, so P2 adopts nothing. Once the honest
// replies arrive, P2 adopts what they agree on.
func stateNeedsWeakQuorum(newReplica lab.New, st Settings, seed uint64) (string, *sim.Sim) {
	liar := sim.Liar(newReplica, 3, func(to lab.ID, m lab.Message) lab.Message {
		rep, ok := m.(*lab.StateReply)
		if !ok {
			return m
		}
		for i := range rep.Committed {
			if pp := &rep.Committed[i]; pp.Request != nil {
				pp.Request.Op = lieOp
				pp.Digest = lab.Digest(pp.Request)
			}
		}
		return rep
	})
	build, delay := sim.NewDelay(liar, func(from, to lab.ID, m lab.Message) bool {
		_, ok := m.(*lab.StateReply)
		return ok && from != 3
	})
	s, d := newSim(build, st, seed, sim.Options{Byzantine: []lab.ID{3}, Balances: map[string]int{"alice": 0}})
	if err := s.Err(); err != nil {
		return err.Error(), s
	}
	d.crash(2)
	for range 3 {
		d.send("account=alice,amount=10,operation=deposit")
	}
	if msg := d.stopped("with P2 down"); msg != "" {
		return msg, s
	}
	if st, msg := d.status(0); msg != "" || st.LastExecuted != 3 {
		if msg != "" {
			return msg, s
		}
		return fmt.Sprintf("%s: setting up, expected three deposits executed by P0, P1 and P3, found executed up to n%d", at(0, st, 3), st.LastExecuted), s
	}
	s.Trace().Step("the network holds up the state replies of P0 and P1")
	delay.Start()
	d.step([]lab.ID{2}, "recover")
	_ = s.Recover(2)
	if msg := d.stopped("with only P3's state reply delivered"); msg != "" {
		return msg, s
	}
	st2, msg := d.status(2)
	if msg != "" {
		return msg, s
	}
	if st2.LastExecuted != 0 || s.Bank(2).Balance("alice") != 0 {
		return fmt.Sprintf("%s: adopted state that only P3 reported (alice=%d, executed up to n%d): f+1 = 2 matching replies are needed, so that one comes from an honest replica", at(2, st2, 1), s.Bank(2).Balance("alice"), st2.LastExecuted), s
	}
	s.Trace().Step(fmt.Sprintf("the network delivers the %d state replies it held up", delay.Held()))
	delay.Release()
	s.Settle()
	if msg := d.stopped("after the honest state replies arrived"); msg != "" {
		return msg, s
	}
	st2, msg = d.status(2)
	if msg != "" {
		return msg, s
	}
	if st2.LastExecuted != 3 || s.Bank(2).Balance("alice") != 30 {
		return fmt.Sprintf("%s: expected the state P0 and P1 report (three deposits, alice=30), found executed up to n%d and alice=%d", at(2, st2, 3), st2.LastExecuted, s.Bank(2).Balance("alice")), s
	}
	return "", s
}

// forgedNewView: a deposit prepares at every replica in view 0 and P0
// crashes. P1, the primary of view 1, is Byzantine: its NEW-VIEW carries
// the view changes it received, but re-issues n1 as a null request,
// although they hold a prepared certificate for the deposit there. P2
// and P3 recompute the pre-prepares from the view changes (PBFT §4.4),
// see the difference and refuse to enter view 1. They ask for view 2,
// whose primary P2 re-issues the deposit at n1, and it commits.
func forgedNewView(newReplica lab.New, st Settings, seed uint64) (string, *sim.Sim) {
	liar := sim.Liar(newReplica, 1, func(to lab.ID, m lab.Message) lab.Message {
		if nv, ok := m.(*lab.NewView); ok {
			for i := range nv.PrePrepares {
				if pp := &nv.PrePrepares[i]; pp.Seq == 1 {
					pp.Request, pp.Digest = nil, lab.NullDigest
				}
			}
		}
		return m
	})
	s, d := newSim(liar, st, seed, sim.Options{Manual: true, Byzantine: []lab.ID{1}, Balances: map[string]int{"alice": 100}})
	if err := s.Err(); err != nil {
		return err.Error(), s
	}
	honest := []lab.ID{2, 3}
	backups := []lab.ID{1, 2, 3}
	req := s.Request(d.send(robustOp))
	d.do(lab.Command{Op: lab.OpPropose}, 0)
	d.do(lab.Command{Op: lab.OpPrepare, Yes: true}, backups...)
	d.do(lab.Command{Op: lab.OpProgress}, 0, 1, 2, 3)
	sts, msg := d.statuses(honest...)
	if msg != "" {
		return msg, s
	}
	for _, id := range honest {
		if e, ok := entryAt(sts[id], 1); !ok || e.Phase != lab.PhasePrepared {
			return fmt.Sprintf("%s: setting up, expected the deposit prepared after every backup voted yes and everyone typed progress, found %s", at(id, sts[id], 1), phaseAt(sts[id], 1)), s
		}
	}
	d.crash(0)
	s.Trace().Step("P1 (Byzantine) will send a NEW-VIEW with the null request at n1")
	d.do(lab.Command{Op: lab.OpViewChange}, backups...)
	if msg := d.stopped("after the forged NEW-VIEW"); msg != "" {
		return msg, s
	}
	sts, msg = d.statuses(honest...)
	if msg != "" {
		return msg, s
	}
	var problems []string
	for _, id := range honest {
		if st := sts[id]; st.View == 1 && !st.ViewChanging {
			problems = append(problems, fmt.Sprintf("%s: entered view 1 on P1's NEW-VIEW, which re-issues the null request at n1 where the view changes it carries hold a prepared certificate for the deposit: %s", at(id, st, 1), phaseAt(st, 1)))
		}
	}
	if len(problems) > 0 {
		return strings.Join(problems, "\n"), s
	}
	d.do(lab.Command{Op: lab.OpViewChange}, backups...)
	if msg := d.stopped("changing to view 2"); msg != "" {
		return msg, s
	}
	sts, msg = d.statuses(honest...)
	if msg != "" {
		return msg, s
	}
	for _, id := range honest {
		st := sts[id]
		if st.View != 2 || st.ViewChanging {
			problems = append(problems, fmt.Sprintf("%s: expected view 2 led by P2 once P1, P2 and P3 asked for it, found view %d%s", at(id, st, 1), st.View, underWay(st)))
			continue
		}
		if e, ok := entryAt(st, 1); !ok || e.Request == nil || e.Request.Timestamp != req.Timestamp || e.Request.Client != req.Client {
			problems = append(problems, fmt.Sprintf("%s: expected the deposit re-issued at n1 in view 2, found %s", at(id, st, 1), describeEntryOr(e, ok)))
		}
	}
	if len(problems) > 0 {
		return strings.Join(problems, "\n"), s
	}
	d.do(lab.Command{Op: lab.OpPrepare, Yes: true}, 1, 3)
	d.do(lab.Command{Op: lab.OpProgress}, backups...)
	d.do(lab.Command{Op: lab.OpAck, Yes: true}, backups...)
	d.do(lab.Command{Op: lab.OpProgress}, backups...)
	if msg := d.stopped("in view 2"); msg != "" {
		return msg, s
	}
	sts, msg = d.statuses(honest...)
	if msg != "" {
		return msg, s
	}
	return strings.Join(decidedAs(sts, honest, 1, "committed", "P1, P2 and P3 voted and acked it in view 2"), "\n"), s
}

// loneViewChange: Byzantine P3 asks for view 1 on its own. A replica joins
// a view change it did not start only when f+1 others ask for it (PBFT
// §4.5.2), so that no single faulty replica can push the others out of a
// working view. P0, P1 and P2 stay in view 0 and a deposit commits there.
func loneViewChange(newReplica lab.New, st Settings, seed uint64) (string, *sim.Sim) {
	s, d := newSim(newReplica, st, seed, sim.Options{Byzantine: []lab.ID{3}, Balances: map[string]int{"alice": 0}})
	if err := s.Err(); err != nil {
		return err.Error(), s
	}
	honest := []lab.ID{0, 1, 2}
	d.inject(3, honest, "VIEW-CHANGE for view 1", &lab.ViewChange{View: 1, Replica: 3})
	n := d.send("account=alice,amount=10,operation=deposit")
	if msg := d.stopped("after P3's view change"); msg != "" {
		return msg, s
	}
	sts, msg := d.statuses(honest...)
	if msg != "" {
		return msg, s
	}
	var problems []string
	for _, id := range honest {
		st := sts[id]
		switch {
		case st.View != 0 || st.ViewChanging:
			problems = append(problems, fmt.Sprintf("%s: left view 0 for view %d%s because P3 alone asked for it: a replica joins only when f+1 = 2 others ask", at(id, st, 1), st.View, underWay(st)))
		case st.LastExecuted < 1:
			problems = append(problems, fmt.Sprintf("%s: expected the deposit executed in view 0, found %s", at(id, st, 1), phaseAt(st, 1)))
		}
	}
	if done, committed := s.Outcome(n); len(problems) == 0 && (!done || !committed) {
		problems = append(problems, fmt.Sprintf("client (view 0, seq 1): expected the deposit committed, found %s", clientOutcome(done, committed)))
	}
	return strings.Join(problems, "\n"), s
}
