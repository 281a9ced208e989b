package console

import (
	"fmt"
	"slices"
	"strings"

	"pbftlab/lab"
	"pbftlab/script"
)

// dataWait is what a bare tx leaves open for the next line. In the
// original lab, tx at the primary opens a data> prompt and the next line is
// the operation, so every transcript has the operation on a line of its
// own. In the kit, tx orders the request the client sent; the operation
// line that follows is then checked against it (ordered), or, when no
// request was waiting, it is the operation to order (propose). With
// automatic votes the primary has ordered the client's request as it
// arrived, before the tx of the transcript: the line is checked against
// that request (ordered, with already set), never ordered a second time.
type dataWait struct {
	propose bool
	ordered *lab.Request
	seq     int
	already bool
}

// looksLikeOperation reports whether a line is a bank operation written
// alone, "account=alice,amount=100,operation=deposit", rather than a
// command.
func looksLikeOperation(line string) bool {
	w := strings.Fields(line)
	if len(w) != 1 || !strings.Contains(w[0], "=") {
		return false
	}
	l := strings.ToLower(w[0])
	return strings.Contains(l, "account=") || strings.Contains(l, "operation=") || strings.Contains(l, "amount=")
}

// tx orders a request: "tx OPERATION" a new one, a bare "tx" the oldest
// one waiting; a bare tx with nothing waiting names the request the
// primary ordered by itself (automatic votes), or else opens the data>
// prompt.
func (c *ReplicaConsole) tx(st script.Step) (string, bool, error) {
	before, serr := c.r.Status()
	err := c.ev.Typed(func() error { return c.r.Do(st.Cmd) })
	if st.Cmd.Arg != "" {
		if err != nil {
			return "", false, err
		}
		if after, err := c.r.Status(); err == nil && serr == nil {
			if e, ok := newestEntry(before, after); ok {
				c.named = e.Request
			}
		}
		return okLine(st), false, nil
	}
	if err != nil {
		if serr != nil || before.Primary != c.r.ID() || before.ViewChanging || c.r.Crashed() {
			return "", false, err
		}
		if e, ok := lastOrdered(before); ok && !c.r.Manual() && !sameRequest(e.Request, c.named) {
			c.data = &dataWait{ordered: e.Request, seq: e.Seq, already: true}
			c.named = e.Request
			return fmt.Sprintf("ok: tx: %s (client %s, timestamp %d) was already ordered as n%d when it arrived (automatic votes); the operation line that follows is checked against it, not sent again",
				e.Request.Op, e.Request.Client, e.Request.Timestamp, e.Seq), false, nil
		}
		c.data = &dataWait{propose: true}
		why := oneLine(err)
		if strings.HasPrefix(why, "no client request is waiting") {
			why = ""
		} else {
			why = " (" + why + ")"
		}
		return fmt.Sprintf("ok: tx: no client request is waiting%s; type the operation on the next line (data>), as account=alice,amount=100,operation=deposit", why), false, nil
	}
	after, aerr := c.r.Status()
	if serr != nil || aerr != nil {
		return okLine(st), false, nil
	}
	e, ok := newestEntry(before, after)
	if !ok || e.Request == nil {
		return okLine(st), false, nil
	}
	c.data = &dataWait{ordered: e.Request, seq: e.Seq}
	c.named = e.Request
	return fmt.Sprintf("ok: tx: ordering n%d: %s (client %s, timestamp %d)", e.Seq, e.Request.Op, e.Request.Client, e.Request.Timestamp), false, nil
}

// lastOrdered is the request at the highest sequence number the replica
// holds, in its log or its history; null requests do not count.
func lastOrdered(st lab.Status) (lab.Entry, bool) {
	var found lab.Entry
	ok := false
	newer := func(seq, view int) bool { return !ok || seq > found.Seq || seq == found.Seq && view > found.View }
	for _, e := range st.Log {
		if e.Request != nil && newer(e.Seq, e.View) {
			found, ok = e, true
		}
	}
	for _, o := range st.History {
		if newer(o.Seq, o.View) {
			r := o.Request
			found, ok = lab.Entry{Seq: o.Seq, View: o.View, Request: &r}, true
		}
	}
	return found, ok
}

// sameRequest reports whether a and b are one client's same request.
func sameRequest(a, b *lab.Request) bool {
	return a != nil && b != nil && a.Client == b.Client && a.Timestamp == b.Timestamp
}

// newestEntry finds the entry of after's log that before did not have,
// the highest such sequence number.
func newestEntry(before, after lab.Status) (lab.Entry, bool) {
	type key struct{ view, seq int }
	had := map[key]bool{}
	for _, e := range before.Log {
		had[key{e.View, e.Seq}] = true
	}
	var found lab.Entry
	ok := false
	for _, e := range after.Log {
		if !had[key{e.View, e.Seq}] && (!ok || e.Seq > found.Seq) {
			found, ok = e, true
		}
	}
	return found, ok
}

// dataLine is the operation typed after a bare tx.
func (c *ReplicaConsole) dataLine(wait *dataWait, op string) (string, bool, error) {
	if wait.propose {
		if err := lab.CheckOperation(op); err != nil {
			return "", false, fmt.Errorf("data> %v: nothing ordered", err)
		}
		st := script.Step{Action: script.Do, Cmd: lab.Command{Op: lab.OpPropose, Arg: op}, Text: "tx " + op}
		return c.tx(st)
	}
	want := wait.ordered.Op
	being := "being ordered"
	if wait.already {
		being = "ordered"
	}
	if diff := operationDiff(want, op); diff != "" {
		return "", false, fmt.Errorf("data> this is not the request %s at n%d: that one is %s from client %s (%s). The kit orders what the client sent; to order this operation too, type tx %s", being, wait.seq, want, wait.ordered.Client, diff, op)
	}
	if wait.already {
		return fmt.Sprintf("ok: data> %s: the request ordered at n%d (client %s) when it arrived; not sent again", op, wait.seq, wait.ordered.Client), false, nil
	}
	return fmt.Sprintf("ok: data> %s: the request being ordered at n%d (client %s)", op, wait.seq, wait.ordered.Client), false, nil
}

// operationDiff says how typed differs from want, "" when they are the
// same operation (fields in any order).
func operationDiff(want, typed string) string {
	w, werr := lab.ParseOperation(want)
	t, terr := lab.ParseOperation(typed)
	switch {
	case terr != nil:
		return terr.Error()
	case werr != nil:
		if strings.EqualFold(strings.TrimSpace(want), strings.TrimSpace(typed)) {
			return ""
		}
		return "the texts differ"
	}
	var d []string
	if w.Account != t.Account {
		d = append(d, fmt.Sprintf("account %s, not %s", t.Account, w.Account))
	}
	if w.Amount != t.Amount {
		d = append(d, fmt.Sprintf("amount %d, not %d", t.Amount, w.Amount))
	}
	if w.Kind != t.Kind {
		d = append(d, fmt.Sprintf("operation %s, not %s", t.Kind, w.Kind))
	}
	if len(d) == 0 {
		return ""
	}
	return "you typed " + strings.Join(d, ", ")
}

// viewChange asks for the next view, unless the replica has already moved
// to it by itself: typing the seed's Case 6 one replica at a time, the
// third replica has joined the first two (f+1 asked) before its line comes,
// and asking again would overshoot to the view after.
func (c *ReplicaConsole) viewChange(st script.Step) (string, bool, error) {
	now, err := c.r.Status()
	if err == nil && !c.r.Crashed() && c.ev.AskedByItself(now.View) {
		where := fmt.Sprintf("is now in view %d, led by %s", now.View, now.Primary)
		if now.ViewChanging {
			where = fmt.Sprintf("is waiting for view %d, to be led by %s", now.View, now.Primary)
		}
		return fmt.Sprintf("ok: view change: %s already asked for view %d by itself (it joined the replicas that asked) and %s; not asking for view %d (type view change again for that)",
			c.r.ID(), now.View, where, now.View+1), false, nil
	}
	if err := c.ev.Typed(func() error { return c.r.Do(st.Cmd) }); err != nil {
		return "", false, err
	}
	after, err := c.r.Status()
	switch {
	case err != nil:
		return okLine(st), false, nil
	case !after.ViewChanging && after.View > now.View && after.Primary == after.ID:
		// The new primary asked last: its own view change made the 2f+1,
		// and it started the view in the same step.
		return fmt.Sprintf("ok: view change: asked for view %d, which this replica leads; with its own, 2f+1 replicas had asked, so it sent NEW-VIEW and the view has started", after.View), false, nil
	case !after.ViewChanging && after.View > now.View:
		return fmt.Sprintf("ok: view change: asked for view %d and entered it (led by %s)", after.View, after.Primary), false, nil
	case !after.ViewChanging:
		return okLine(st), false, nil
	}
	return fmt.Sprintf("ok: view change: asked for view %d (to be led by %s)", after.View, after.Primary), false, nil
}

// checkpoint is the original's checkpoint: a snapshot of this replica's
// state is written at once, whatever the protocol says. At the primary it
// also starts a checkpoint of the protocol, which becomes stable only once
// 2f+1 replicas report the same digest.
func (c *ReplicaConsole) checkpoint(st script.Step) (string, bool, error) {
	err := c.ev.Typed(func() error { return c.r.Do(st.Cmd) })
	if c.Snapshot == nil {
		if err != nil {
			return "", false, err
		}
		return okLine(st), false, nil
	}
	where, serr := c.Snapshot()
	if serr != nil {
		return "", false, fmt.Errorf("checkpoint: the snapshot could not be written: %v", serr)
	}
	line := "ok: checkpoint: snapshot written to " + where
	if err != nil {
		line += "; no protocol checkpoint: " + oneLine(err)
	} else {
		line += "; a protocol checkpoint is under way (stable once 2f+1 replicas report the same digest)"
	}
	return line, false, nil
}

// vote casts a typed PREPARE or COMMIT vote. A replica votes on the oldest
// request awaiting its vote; after a view change, the oldest are the
// entries the new view re-issues for sequence numbers this replica has
// executed already, which the person at the console does not see (their
// events are summed up) and does not mean. The console votes yes on those
// first, says so, then casts the typed vote on the request it was meant for.
func (c *ReplicaConsole) vote(st script.Step) (string, bool, error) {
	var reissued []int
	for range maxReissued {
		s, err := c.r.Status()
		if err != nil {
			break
		}
		e, ok := awaitingVote(s, st.Cmd.Op)
		if !ok || e.Seq > s.LastExecuted {
			break
		}
		if err := c.ev.Typed(func() error { return c.r.Do(lab.Command{Op: st.Cmd.Op, Vote: true}) }); err != nil {
			break
		}
		reissued = append(reissued, e.Seq)
	}
	var target *lab.Entry
	if s, err := c.r.Status(); err == nil {
		if e, ok := awaitingVote(s, st.Cmd.Op); ok {
			target = &e
		}
	}
	if err := c.ev.Typed(func() error { return c.r.Do(st.Cmd) }); err != nil {
		if len(reissued) > 0 {
			return "", false, fmt.Errorf("%v (after voting yes on the re-issued %s, executed here already)", err, seqRanges(reissued))
		}
		return "", false, err
	}
	line := okLine(st)
	if target != nil {
		line += fmt.Sprintf(" on n%d %s", target.Seq, requestLabel(target.Request))
	}
	if len(reissued) > 0 {
		line += fmt.Sprintf(" (after voting yes on the re-issued %s, executed here already)", seqRanges(reissued))
	}
	return line, false, nil
}

// maxReissued bounds the re-issued entries voted on before a typed vote:
// a new view re-issues at most a window's worth.
const maxReissued = 2 * lab.DefaultWindow

// awaitingVote is the oldest entry of the current view that awaits this
// replica's prepare (op OpPrepare) or commit ack (OpAck).
func awaitingVote(s lab.Status, op lab.Op) (lab.Entry, bool) {
	var found lab.Entry
	ok := false
	for _, e := range s.Log {
		if e.View != s.View {
			continue
		}
		var waiting bool
		if op == lab.OpPrepare {
			waiting = e.Phase == lab.PhasePrePrepared && !slices.Contains(e.PrepareYes, s.ID) && !slices.Contains(e.PrepareNo, s.ID)
		} else {
			waiting = e.Phase == lab.PhasePrepared && !slices.Contains(e.CommitYes, s.ID) && !slices.Contains(e.CommitNo, s.ID)
		}
		if waiting && (!ok || e.Seq < found.Seq) {
			found, ok = e, true
		}
	}
	return found, ok
}

// DataReport is what data prints: the transactions in progress at the
// replica, with their data and votes, or the last one decided.
func DataReport(r Replica) string {
	st, err := r.Status()
	if err != nil {
		return fmt.Sprintf("%s: no data: %v", r.ID(), err)
	}
	var b strings.Builder
	for _, e := range st.Log {
		if e.Executed {
			continue
		}
		fmt.Fprintf(&b, "\n  n%d v%d %s: %s; prepare yes %s, no %s; commit %s, abort %s", e.Seq, e.View, requestLabel(e.Request), e.Phase,
			idList(e.PrepareYes), idList(e.PrepareNo), idList(e.CommitYes), idList(e.CommitNo))
	}
	if b.Len() > 0 {
		return fmt.Sprintf("%s: transactions in progress:%s", r.ID(), b.String())
	}
	if n := len(st.History); n > 0 {
		o := st.History[n-1]
		return fmt.Sprintf("%s: no transaction in progress; the last one decided: n%d v%d %s#%d %s: %s", r.ID(), o.Seq, o.View, o.Request.Client, o.Request.Timestamp, o.Request.Op, OutcomeText(o.Committed, o.Result))
	}
	return fmt.Sprintf("%s: no transaction yet", r.ID())
}

// joinLines joins non-empty texts with newlines.
func joinLines(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, "\n")
}
