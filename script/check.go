package script

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"pbftlab/ckptfile"
	"pbftlab/lab"
)

// Failure is an expectation that did not hold at one replica.
type Failure struct {
	Line     int
	Expect   string // the expect line's text
	Replica  lab.ID // lab.Client for the client
	View     int
	Seq      int // 0 when no sequence number is involved
	Expected string
	Found    string
}

// missedCheckpoints says, for the first checkpoints other replicas made
// stable and id did not, what id did there: whether it took the
// checkpoint at all, and with the digest the others agreed on. "Found 9"
// alone does not say which rule failed.
func missedCheckpoints(cl Cluster, id lab.ID, own []int) string {
	missed := map[int][]lab.ID{}
	for r := range cl.N() {
		if lab.ID(r) == id {
			continue
		}
		for _, seq := range cl.StableCheckpoints(lab.ID(r)) {
			if !slices.Contains(own, seq) && !slices.Contains(missed[seq], lab.ID(r)) {
				missed[seq] = append(missed[seq], lab.ID(r))
			}
		}
	}
	adv, _ := cl.(Adversary)
	var notes []string
	for _, seq := range slices.Sorted(maps.Keys(missed)) {
		if len(notes) == 3 {
			notes = append(notes, fmt.Sprintf("%d more", len(missed)-3))
			break
		}
		note := fmt.Sprintf("n%d is stable at %s", seq, lab.JoinIDs(missed[seq], " "))
		if adv != nil {
			mine, took := adv.CheckpointDigest(id, seq)
			theirs, _ := adv.CheckpointDigest(missed[seq][0], seq)
			switch {
			case !took:
				note += fmt.Sprintf(", and %s took no checkpoint there", id)
			case mine != theirs:
				note += fmt.Sprintf(", where %s took one with another digest", id)
			default:
				note += fmt.Sprintf(", where %s took the same checkpoint but did not make it stable", id)
			}
		}
		notes = append(notes, note)
	}
	if len(notes) == 0 {
		return ""
	}
	return " (" + strings.Join(notes, "; ") + ")"
}

// viewChangeStory is a cluster that can say what a replica got of a view
// change still under way (sim.Cluster.ViewChangeStory).
type viewChangeStory interface {
	ViewChangeStory(id lab.ID, view int) string
}

func (f Failure) Error() string {
	where := f.Replica.String()
	if f.Replica != lab.Client {
		where = fmt.Sprintf("%s (view %d", f.Replica, f.View)
		if f.Seq > 0 {
			where += fmt.Sprintf(", seq %d", f.Seq)
		}
		where += ")"
	}
	return fmt.Sprintf("line %d, %s: expected %s, found %s", f.Line, where, f.Expected, f.Found)
}

// Check evaluates c's expect lines against cl and returns every one that
// does not hold, at each replica it names.
func Check(c *Case, cl Cluster) []Failure {
	var out []Failure
	for _, e := range c.Expects {
		out = append(out, checkExpect(cl, e)...)
	}
	return out
}

// checkExpect evaluates one expect or check line at each replica it names.
func checkExpect(cl Cluster, e Expect) []Failure {
	if e.Client {
		if f, ok := checkClient(cl, e); !ok {
			return []Failure{f}
		}
		return nil
	}
	var out []Failure
	for _, id := range e.Targets {
		if f, ok := checkReplica(cl, e, id); !ok {
			out = append(out, f)
		}
	}
	return out
}

// ReplyLister is implemented by clusters whose client can say which
// replies it holds for a request it has no outcome for.
type ReplyLister interface {
	Replies(n int) []lab.Reply
}

// repliesText says which replicas replied what, or that none did.
func repliesText(replies []lab.Reply) string {
	if len(replies) == 0 {
		return "no replica replied"
	}
	var parts []string
	for _, r := range replies {
		word := "committed"
		if !r.Committed {
			word = "aborted"
		}
		parts = append(parts, fmt.Sprintf("%s replied %s%s", r.Replica, word, resultNote(r.Committed, r.Result)))
	}
	return "only " + strings.Join(parts, ", ")
}

// CheckpointFiles is implemented by clusters that keep the lab's
// checkpoint files where a case can read them back.
type CheckpointFiles interface {
	// FinalCheckpoint reads the newest final checkpoint file.
	FinalCheckpoint() (name string, f ckptfile.Final, err error)
}

func checkClient(cl Cluster, e Expect) (Failure, bool) {
	f := Failure{Line: e.Line, Expect: e.Text, Replica: lab.Client, Expected: fmt.Sprintf("request %d %s", e.Request, e.Want)}
	done, committed := cl.Outcome(e.Request)
	f.Found = fmt.Sprintf("no outcome: fewer than f+1 = %d replicas replied alike", lab.Weak(cl.N()))
	if rl, ok := cl.(ReplyLister); ok && !done {
		f.Found = fmt.Sprintf("no outcome: %s, and f+1 = %d alike decide it", repliesText(rl.Replies(e.Request)), lab.Weak(cl.N()))
	}
	if done {
		f.Found = outcomeWord(committed)
	}
	switch e.Want {
	case WantCommitted, WantAborted:
		return f, done && committed == (e.Want == WantCommitted)
	case WantNotCommitted:
		return f, !done || !committed
	case WantUndecided:
		return f, !done
	}
	return f, false
}

func checkReplica(cl Cluster, e Expect, id lab.ID) (Failure, bool) {
	f := Failure{Line: e.Line, Expect: e.Text, Replica: id}
	st, err := cl.Status(id)
	if err != nil {
		f.Expected = e.Text
		f.Found = "no status: " + err.Error()
		return f, false
	}
	f.View = st.View
	switch e.Kind {
	case ExpectOutcome:
		return checkOutcome(f, cl.Request(e.Request), e, st, cl.N())
	case ExpectNull:
		return checkNull(f, e, st)
	case ExpectSentAtMost:
		adv, ok := cl.(Adversary)
		bound := "most"
		if e.Not {
			bound = "least"
		}
		f.Expected = fmt.Sprintf("at %s %d %smessages sent", bound, e.N, kindWord(e.Msg))
		if !ok {
			f.Found = "a cluster that does not count messages"
			return f, false
		}
		sent := adv.Sent(id, e.Msg)
		f.Found = fmt.Sprintf("%d sent", sent)
		if e.Not {
			return f, sent >= e.N
		}
		return f, sent <= e.N
	case ExpectBalance:
		got := cl.Balances(id)
		var want, have []string
		for _, k := range slices.Sorted(maps.Keys(e.Balances)) {
			want = append(want, fmt.Sprintf("%s=%d", k, e.Balances[k]))
			have = append(have, fmt.Sprintf("%s=%d", k, got[k]))
		}
		f.Expected, f.Found = "balance "+strings.Join(want, " "), "balance "+strings.Join(have, " ")
		if f.Expected == f.Found {
			return f, true
		}
		f.Found += fmt.Sprintf(" (executed up to n%d)", st.LastExecuted)
	case ExpectView:
		if e.Not {
			f.Expected = fmt.Sprintf("not in view %d (or still changing to it)", e.View)
			f.Found = fmt.Sprintf("in view %d led by %s", st.View, st.Primary)
			return f, st.View != e.View || st.ViewChanging
		}
		f.Expected = fmt.Sprintf("view %d led by %s", e.View, e.Primary)
		f.Found = fmt.Sprintf("view %d led by %s", st.View, st.Primary)
		if st.ViewChanging {
			f.Found += " with a view change under way"
			if vs, ok := cl.(viewChangeStory); ok {
				f.Found += " (" + vs.ViewChangeStory(id, st.View) + ")"
			}
		}
		if st.View == e.View && st.Primary == e.Primary && !st.ViewChanging {
			return f, true
		}
	case ExpectExecuted:
		f.Expected = fmt.Sprintf("executed up to n%d", e.N)
		f.Found = fmt.Sprintf("executed up to n%d", st.LastExecuted)
		if st.LastExecuted == e.N {
			return f, true
		}
	case ExpectStable:
		f.Seq = st.StableSeq
		f.Expected = fmt.Sprintf("stable checkpoint at n%d", e.N)
		f.Found = fmt.Sprintf("stable checkpoint at n%d", st.StableSeq)
		if st.StableSeq == e.N {
			return f, true
		}
	case ExpectStableCount:
		seqs := cl.StableCheckpoints(id)
		distinct := len(slices.Compact(slices.Sorted(slices.Values(seqs))))
		f.Seq = st.StableSeq
		f.Expected = fmt.Sprintf("%d stable checkpoints", e.N)
		f.Found = fmt.Sprintf("%d stable checkpoints %v", distinct, seqs)
		if distinct == e.N {
			return f, true
		}
		f.Found += missedCheckpoints(cl, id, seqs)
	case ExpectLogAtMost:
		f.Expected = fmt.Sprintf("at most %d log entries", e.N)
		f.Found = fmt.Sprintf("%d log entries", len(st.Log))
		if len(st.Log) <= e.N {
			return f, true
		}
		f.Seq = st.Log[0].Seq
		f.Found += fmt.Sprintf(" from n%d to n%d (stable checkpoint n%d)", st.Log[0].Seq, st.Log[len(st.Log)-1].Seq, st.StableSeq)
	case ExpectLogAfter:
		f.Expected = fmt.Sprintf("no log entry at or below n%d", e.N)
		f.Found = "an empty log"
		if len(st.Log) == 0 {
			return f, true
		}
		f.Seq = st.Log[0].Seq
		f.Found = fmt.Sprintf("a log from n%d to n%d (stable checkpoint n%d)", st.Log[0].Seq, st.Log[len(st.Log)-1].Seq, st.StableSeq)
		return f, st.Log[0].Seq > e.N
	case ExpectHistoryAgrees, ExpectLogAgrees:
		other, err := cl.Status(e.Other)
		if err != nil {
			f.Expected = e.Text
			f.Found = fmt.Sprintf("no status of %s: %v", e.Other, err)
			return f, false
		}
		if e.Kind == ExpectLogAgrees {
			return checkLogAgrees(f, e.Other, st, other)
		}
		return checkHistoryAgrees(f, e.Other, st, other)
	case ExpectInFinalCheckpoint:
		return checkFinal(f, cl, e, id, st)
	case ExpectVotes:
		return checkVotes(f, e, st)
	}
	return f, false
}

// checkHistoryAgrees compares two histories over the sequence numbers
// both cover: a replica that restored a checkpoint has no history below
// it, and one behind has none above what it executed.
func checkHistoryAgrees(f Failure, other lab.ID, st, ot lab.Status) (Failure, bool) {
	f.Expected = fmt.Sprintf("the decisions of %s where both histories reach", other)
	f.Found = "the same decisions"
	if len(st.History) == 0 || len(ot.History) == 0 {
		return f, true
	}
	from := max(st.History[0].Seq, ot.History[0].Seq)
	to := min(st.History[len(st.History)-1].Seq, ot.History[len(ot.History)-1].Seq)
	within := func(h []lab.Outcome) []lab.Outcome {
		var out []lab.Outcome
		for _, o := range h {
			if o.Seq >= from && o.Seq <= to {
				out = append(out, o)
			}
		}
		return out
	}
	mine, theirs := within(st.History), within(ot.History)
	for i := range max(len(mine), len(theirs)) {
		switch {
		case i >= len(mine):
			f.Seq = theirs[i].Seq
			f.Found = fmt.Sprintf("nothing where %s has %s", other, describeOutcome(theirs[i]))
		case i >= len(theirs):
			f.Seq = mine[i].Seq
			f.Found = fmt.Sprintf("%s, where %s has nothing", describeOutcome(mine[i]), other)
		case mine[i] != theirs[i]:
			f.Seq = mine[i].Seq
			f.Found = fmt.Sprintf("%s, where %s has %s", describeOutcome(mine[i]), other, describeOutcome(theirs[i]))
		default:
			continue
		}
		return f, false
	}
	return f, true
}

func describeOutcome(o lab.Outcome) string {
	return fmt.Sprintf("%s#%d %s %s at n%d in view %d%s", o.Request.Client, o.Request.Timestamp, o.Request.Op, outcomeWord(o.Committed), o.Seq, o.View, resultNote(o.Committed, o.Result))
}

// checkLogAgrees compares the entries both logs hold, sequence number by
// sequence number: the request and digest, the phase and whether it was
// executed. Votes are left out, since each replica counts those it
// received.
func checkLogAgrees(f Failure, other lab.ID, st, ot lab.Status) (Failure, bool) {
	f.Expected = fmt.Sprintf("the log entries of %s where both logs hold one", other)
	f.Found = "the same entries"
	theirs := map[int]lab.Entry{}
	for _, le := range ot.Log {
		theirs[le.Seq] = le
	}
	for _, le := range st.Log {
		te, ok := theirs[le.Seq]
		if !ok || describeEntry(le) == describeEntry(te) {
			continue
		}
		f.Seq = le.Seq
		f.Found = fmt.Sprintf("n%d %s, where %s has %s", le.Seq, describeEntry(le), other, describeEntry(te))
		return f, false
	}
	return f, true
}

func describeEntry(le lab.Entry) string {
	phase := "not pre-prepared"
	if le.Phase != 0 {
		phase = le.Phase.String()
	}
	executed := "not executed"
	if le.Executed {
		executed = "executed"
	}
	return fmt.Sprintf("%s (digest %s), %s, %s", describeRequest(le.Request), le.Digest, phase, executed)
}

// checkFinal looks for the replica's snapshot in the newest final
// checkpoint file, read back from the cluster.
func checkFinal(f Failure, cl Cluster, e Expect, id lab.ID, st lab.Status) (Failure, bool) {
	f.Seq = st.StableSeq
	f.Expected = fmt.Sprintf("a snapshot of %s matching the stable digest in the final checkpoint file", id)
	files, ok := cl.(CheckpointFiles)
	if !ok {
		f.Found = "a cluster that keeps no checkpoint files"
		return f, false
	}
	name, final, err := files.FinalCheckpoint()
	if e.Not {
		f.Expected = fmt.Sprintf("no snapshot of %s matching the stable digest in the final checkpoint file", id)
		if err != nil {
			return f, true // no file at all holds none
		}
		f.Seq = final.Seq
		if snap, ok := final.Has(id); ok && snap.Match {
			f.Found = fmt.Sprintf("%s (n%d) holds %s's snapshot with the stable digest %s", name, final.Seq, id, final.Digest)
			return f, false
		}
		return f, true
	}
	if err != nil {
		f.Found = err.Error()
		return f, false
	}
	f.Seq = final.Seq
	snap, ok := final.Has(id)
	switch {
	case !ok:
		f.Found = fmt.Sprintf("%s (n%d) lists %s as missing", name, final.Seq, id)
	case !snap.Match:
		f.Found = fmt.Sprintf("%s (n%d) holds digest %s for %s, the stable one is %s", name, final.Seq, snap.Digest, id, final.Digest)
	default:
		return f, true
	}
	return f, false
}

// checkOutcome looks for the request in the replica's history, and when it
// is not decided there explains where it stands in the log.
func checkOutcome(f Failure, req lab.Request, e Expect, st lab.Status, n int) (Failure, bool) {
	f.Expected = fmt.Sprintf("request %d (%s) %s", e.Request, req.Op, e.Want)
	if e.AtSeq > 0 {
		f.Expected += fmt.Sprintf(" at n%d", e.AtSeq)
	}
	if e.InView >= 0 {
		f.Expected += fmt.Sprintf(" in view %d", e.InView)
	}
	for _, o := range st.History {
		if o.Request.Client != req.Client || o.Request.Timestamp != req.Timestamp {
			continue
		}
		f.Seq = o.Seq
		f.Found = fmt.Sprintf("%s at n%d in view %d%s", outcomeWord(o.Committed), o.Seq, o.View, resultNote(o.Committed, o.Result))
		if le, ok := logEntry(st, o.Seq); ok {
			f.Found += "; in its log: " + describeVotes(le)
		}
		switch e.Want {
		case WantCommitted, WantAborted:
			return f, o.Committed == (e.Want == WantCommitted) && (e.AtSeq == 0 || o.Seq == e.AtSeq) && (e.InView < 0 || o.View == e.InView)
		case WantNotCommitted:
			return f, !o.Committed
		case WantPrePrepared:
			return f, true
		case WantPrepared, WantNotPrepared:
			// A committed request prepared on the way; an aborted one
			// counts as not prepared, since its outcome does not say
			// whether it got that far.
			return f, o.Committed == (e.Want == WantPrepared)
		}
		return f, false // decided: not undecided, and pre-prepared
	}
	for _, le := range st.Log {
		if le.Request != nil && le.Request.Client == req.Client && le.Request.Timestamp == req.Timestamp {
			f.Seq = le.Seq
			f.Found = fmt.Sprintf("not decided: %s (a quorum is %d)", describeVotes(le), lab.Quorum(n))
			if le.Phase == lab.PhaseCommitted || le.Phase == lab.PhaseAborted {
				// Decided in the log, but no outcome in the history: the
				// replica never recorded how the request ended.
				f.Found = fmt.Sprintf("no outcome in the history, though the log has it %s (%s): the outcome of an executed request goes into the history (lab.Outcome in Status)", le.Phase, describeVotes(le))
			}
			prepared := le.Phase == lab.PhasePrepared || le.Phase == lab.PhaseCommitted
			switch e.Want {
			case WantNotCommitted, WantUndecided:
				return f, true
			case WantPrepared:
				return f, prepared
			case WantNotPrepared:
				return f, !prepared
			case WantPrePrepared:
				return f, le.Phase != 0
			case WantNotPrePrepared:
				return f, le.Phase == 0
			}
			return f, false
		}
	}
	f.Found = "the request is in neither the history nor the log (no pre-prepare for it arrived)"
	switch e.Want {
	case WantNotCommitted, WantUndecided, WantNotPrepared, WantNotPrePrepared:
		return f, true
	}
	return f, false
}

// checkVotes compares the votes the log entry at e.N counts with the
// line's, sender by sender, in the parts the line names.
func checkVotes(f Failure, e Expect, st lab.Status) (Failure, bool) {
	f.Seq = e.N
	f.Expected = fmt.Sprintf("votes at n%d: %s", e.N, e.Votes)
	le, ok := logEntry(st, e.N)
	if !ok {
		f.Found = fmt.Sprintf("no log entry at n%d (stable checkpoint n%d, executed up to n%d)", e.N, st.StableSeq, st.LastExecuted)
		return f, false
	}
	f.Found = describeVotes(le)
	got := &Tally{Prepare: e.Votes.Prepare, Commit: e.Votes.Commit,
		PrepareYes: sortedIDs(le.PrepareYes), PrepareNo: sortedIDs(le.PrepareNo),
		CommitYes: sortedIDs(le.CommitYes), CommitNo: sortedIDs(le.CommitNo)}
	return f, got.String() == e.Votes.String()
}

// sortedIDs is a sorted copy of ids, repeats kept: a sender counted twice
// shows.
func sortedIDs(ids []lab.ID) []lab.ID {
	return slices.Sorted(slices.Values(ids))
}

// checkNull looks for the null request at e.N: in the log, or executed
// there with nothing in the history.
func checkNull(f Failure, e Expect, st lab.Status) (Failure, bool) {
	f.Seq = e.N
	f.Expected = fmt.Sprintf("the null request at n%d", e.N)
	if le, ok := logEntry(st, e.N); ok {
		f.Found = fmt.Sprintf("%s at n%d: %s", describeRequest(le.Request), e.N, describeVotes(le))
		return f, le.Request == nil && le.Phase != 0
	}
	for _, o := range st.History {
		if o.Seq == e.N {
			f.Found = fmt.Sprintf("%s#%d %s %s at n%d", o.Request.Client, o.Request.Timestamp, o.Request.Op, outcomeWord(o.Committed), e.N)
			return f, false
		}
	}
	f.Found = fmt.Sprintf("nothing at n%d (executed up to n%d)", e.N, st.LastExecuted)
	return f, st.LastExecuted >= e.N && st.StableSeq >= e.N
}

func kindWord(k lab.Kind) string {
	if k == 0 {
		return ""
	}
	return k.String() + " "
}

func logEntry(st lab.Status, seq int) (lab.Entry, bool) {
	for _, e := range st.Log {
		if e.Seq == seq {
			return e, true
		}
	}
	return lab.Entry{}, false
}
