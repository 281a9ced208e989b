package console

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"pbftlab/lab"
	"pbftlab/runtime/tcp"
)

// Events prints what happens at one replica as it happens. It implements
// tcp.Observer: the protocol events come from the messages handed to the
// replica (a pre-prepare received, another replica's vote) and from the
// differences between the replica's status before and after each step
// (prepared, committed or aborted, executed, a new view, a stable
// checkpoint), so they are printed whatever the replica's own code logs.
type Events struct {
	out    *Out
	prefix string
	// Logs prints the replica's own Logf lines too, marked "log:".
	Logs bool
	prev lab.Status

	// cause is the message handed to the replica in the step under way,
	// nil for a tick or a command; typed is set while a command typed at
	// the console runs. Together they say why a view changed.
	cause     lab.Message
	causeFrom lab.ID
	typed     atomic.Bool
	// acted is set for a step that is a command the node hands the replica
	// of its own accord (see Acted).
	acted bool
	// lastDelivery is the last delivery told, to mark an exact repeat.
	lastDelivery string
	// reissue sums up the votes on the entries a new view re-issues for
	// sequence numbers this replica executed already; quiet is set while
	// the step under way handles one of them.
	reissue reissue
	quiet   bool

	mu sync.Mutex
	// ownView is the view the replica asked for without being told to
	// (it joined f+1 replicas that asked, or its timer expired), until a
	// view change is typed at it; -1 when there is none.
	ownView int
}

var _ tcp.Observer = (*Events)(nil)

// NewEvents prints the events of replica id of an n-replica cluster, each
// line behind prefix.
func NewEvents(out *Out, prefix string, id lab.ID, n int) *Events {
	return &Events{out: out, prefix: prefix, Logs: true, prev: lab.Status{ID: id, Primary: lab.Primary(0, n)}, ownView: -1}
}

// Typed runs a command typed at the console, so that what it changes is
// told apart from what the replica does by itself.
func (e *Events) Typed(f func() error) error {
	if e == nil {
		return f()
	}
	e.typed.Store(true)
	defer e.typed.Store(false)
	return f()
}

// AskedByItself reports whether the replica, in view, is there (or on its
// way there) because it asked for that view by itself since the last view
// change typed at it, and forgets it: a person who types view change at a
// replica that has already moved past the failed primary means the change
// that happened, not one more.
func (e *Events) AskedByItself(view int) bool {
	if e == nil {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	own := e.ownView == view
	e.ownView = -1
	return own
}

// Delivered prints a message handed to the replica. A vote on an entry
// that a new view re-issues, for a sequence number this replica executed
// already, is counted, not printed: a view change after a thousand
// requests would otherwise bury the console in votes that change nothing
// here.
func (e *Events) Delivered(from lab.ID, m lab.Message) {
	e.cause, e.causeFrom = m, from
	if view, seq, ok := ordered(m); ok && e.aboutReissued(view, seq) {
		if lines := e.reissue.count(view, voteKind(m), seq, from); len(lines) > 0 {
			e.out.Print(e.prefix, strings.Join(lines, "\n"))
		}
		e.quiet = true
		return
	}
	line := describeDelivery(from, m)
	if line == "" {
		return
	}
	// A replica drops these without a word: the line says why nothing
	// follows (a backup that fell a window behind catches up by state
	// transfer once a checkpoint above it is stable; a primary restarted
	// into a later view proposes in its old one until it learns the view).
	if view, seq, ok := ordered(m); ok {
		switch {
		case view < e.prev.View:
			line += fmt.Sprintf(" (of view %d, before this replica's view %d: dropped)", view, e.prev.View)
		case e.prev.High > 0 && (seq <= e.prev.Low || seq > e.prev.High):
			line += fmt.Sprintf(" (outside the watermarks (%d, %d]: dropped)", e.prev.Low, e.prev.High)
		}
	}
	if summary := e.reissue.summary(); len(summary) > 0 {
		e.out.Print(e.prefix, strings.Join(summary, "\n"))
	}
	if line == e.lastDelivery {
		// A Byzantine replica's typed vote goes twice, as in the cases,
		// to test that it counts once: said so, not shown as a second vote.
		e.out.Print(e.prefix, line+" (the same message again: it counts once)")
		return
	}
	e.lastDelivery = line
	e.out.Print(e.prefix, line)
}

// aboutReissued reports whether a message of the three phases is about
// an entry that a new view re-issues for a sequence number executed here
// already: one the view re-issued, or, while this replica waits for the
// view's NEW-VIEW (the others' votes can come first), one executed above
// its stable checkpoint, which it holds no entry of the view for.
func (e *Events) aboutReissued(view, seq int) bool {
	if e.reissue.has(view, seq) {
		return true
	}
	p := e.prev
	if !p.ViewChanging || view != p.View || seq <= p.Low || seq > p.LastExecuted {
		return false
	}
	for _, en := range p.Log {
		if en.View == view && en.Seq == seq {
			return false
		}
	}
	return true
}

// voteKind names a message of the three phases as the console does.
func voteKind(m lab.Message) string {
	switch m := m.(type) {
	case *lab.Prepare:
		return "prepare " + word(m.Yes, "yes", "no")
	case *lab.Commit:
		return "ack " + word(m.Yes, "commit", "abort")
	}
	return "pre-prepare"
}

// ordered is the view and sequence number of a message of the three
// phases.
func ordered(m lab.Message) (view, seq int, ok bool) {
	switch m := m.(type) {
	case *lab.PrePrepare:
		return m.View, m.Seq, true
	case *lab.Prepare:
		return m.View, m.Seq, true
	case *lab.Commit:
		return m.View, m.Seq, true
	}
	return 0, 0, false
}

// Acted prints why the node hands the replica a command of its own. The
// step that follows is told as a command typed here would be: the replica
// did not move by itself.
func (e *Events) Acted(_ lab.Command, why string) {
	e.acted = true
	e.out.Print(e.prefix, "-- "+why)
}

// Stepped prints what changed in the replica's status.
func (e *Events) Stepped(st lab.Status) {
	typed := e.typed.Load() || e.acted
	e.acted = false
	why := stepCause{typed: typed, msg: e.cause, from: e.causeFrom}
	e.cause = nil
	switch {
	case asked(e.prev, st) || st.View > e.prev.View:
		// A view asked for, or entered at once (a new primary that joins
		// the f+1 replicas asking has its 2f+1 and starts the view in the
		// same step), without a command: the replica moved by itself. A
		// view learnt by state transfer is not one it moved to: typing
		// view change there asks for the next.
		e.mu.Lock()
		e.ownView = -1
		if !typed && !why.by(lab.KindStateReply) {
			e.ownView = st.View
		}
		e.mu.Unlock()
	case !st.ViewChanging && len(st.History) > len(e.prev.History):
		// Requests run in the view: a view change typed from now on is
		// about this view's primary, not about the change that led here.
		e.mu.Lock()
		e.ownView = -1
		e.mu.Unlock()
	}
	quiet := e.quiet
	e.quiet = false
	lines := statusChanges(e.prev, st, why)
	fresh := reissuedSeqs(e.prev, st)
	e.prev = st
	lines = append(e.reissue.add(st.View, fresh), lines...)
	// What was counted is told at the first step that is not the handling
	// of a counted vote: a tick (every 100ms by default), a command, any
	// other message.
	if !quiet || len(lines) > 0 {
		lines = append(lines, e.reissue.summary()...)
	}
	if len(lines) > 0 {
		e.out.Print(e.prefix, strings.Join(lines, "\n"))
	}
}

// reissue is what Events keeps of the entries a new view re-issues for
// sequence numbers the replica executed already, and of the votes on them
// not yet told.
type reissue struct {
	view   int
	seqs   map[int]bool // the view's re-issued entries
	told   bool         // the view's re-issue has been told
	untold []int        // entries re-issued and not told yet
	kinds  []string     // kinds of vote counted, in the order first seen
	votes  map[string]*tally
}

// tally counts the votes of one kind.
type tally struct {
	n    int
	seqs map[int]bool
	from map[lab.ID]bool
}

// has reports whether seq is an entry of view re-issued and executed here.
func (r *reissue) has(view, seq int) bool { return view == r.view && r.seqs[seq] }

// to makes view the one whose re-issued entries are kept, and returns
// what was still to tell of the one before.
func (r *reissue) to(view int) []string {
	if r.seqs != nil && view == r.view {
		return nil
	}
	told := r.summary()
	*r = reissue{view: view, seqs: map[int]bool{}}
	return told
}

// add records the entries view re-issued in one step, and returns what
// was still to tell of an earlier view.
func (r *reissue) add(view int, seqs []int) []string {
	if len(seqs) == 0 {
		return nil
	}
	told := r.to(view)
	for _, s := range seqs {
		r.seqs[s] = true
	}
	r.untold = append(r.untold, seqs...)
	return told
}

// count adds a vote of kind on entry seq of view from a replica, and
// returns what was still to tell of an earlier view.
func (r *reissue) count(view int, kind string, seq int, from lab.ID) []string {
	told := r.to(view)
	if r.votes == nil {
		r.votes = map[string]*tally{}
	}
	t := r.votes[kind]
	if t == nil {
		t = &tally{seqs: map[int]bool{}, from: map[lab.ID]bool{}}
		r.votes[kind] = t
		r.kinds = append(r.kinds, kind)
	}
	t.n++
	t.seqs[seq] = true
	t.from[from] = true
	return told
}

// summary is the lines that tell the entries re-issued and the votes
// counted since the last summary, and forgets them.
func (r *reissue) summary() []string {
	var out []string
	switch {
	case len(r.untold) > 0 && !r.told:
		out = append(out, fmt.Sprintf("view %d re-issues %s, executed here already: their votes are summed up, a line per kind, not shown one by one", r.view, seqRanges(r.untold)))
		r.told = true
	case len(r.untold) > 0:
		out = append(out, fmt.Sprintf("view %d also re-issues %s, executed here already: their votes are summed up too", r.view, seqRanges(r.untold)))
	}
	for _, kind := range r.kinds {
		t := r.votes[kind]
		out = append(out, fmt.Sprintf("re-issued %s of view %d: %d %s, from %s", seqRanges(slices.Collect(maps.Keys(t.seqs))), r.view, t.n, kind, idList(slices.Collect(maps.Keys(t.from)))))
	}
	r.untold, r.kinds, r.votes = nil, nil, nil
	return out
}

// Logged prints a line the replica logged.
func (e *Events) Logged(line string) {
	if e.Logs {
		e.out.Print(e.prefix, "log: "+line)
	}
}

// Checkpointed prints a checkpoint the replica took or saw become stable.
func (e *Events) Checkpointed(s lab.Snapshot, stable bool) {
	if stable {
		e.out.Printf(e.prefix, "checkpoint n%d is stable (digest %s)", s.Seq, s.Digest)
		return
	}
	e.out.Printf(e.prefix, "checkpoint taken at n%d (digest %s)", s.Seq, s.Digest)
}

// Noted prints what the runtime says.
func (e *Events) Noted(line string) { e.out.Print(e.prefix, "-- "+line) }

// describeDelivery renders a message received, from the receiver's side.
func describeDelivery(from lab.ID, m lab.Message) string {
	switch m := m.(type) {
	case *lab.Request:
		if from == lab.Client {
			return fmt.Sprintf("request from the client: %s (client %s, timestamp %d)", m.Op, m.Client, m.Timestamp)
		}
		return fmt.Sprintf("request passed on by %s: %s (client %s, timestamp %d)", from, m.Op, m.Client, m.Timestamp)
	case *lab.PrePrepare:
		op := "null request"
		if m.Request != nil {
			op = m.Request.Op
		}
		return fmt.Sprintf("pre-prepare received from %s: n%d v%d %s", from, m.Seq, m.View, op)
	case *lab.Prepare:
		return fmt.Sprintf("prepare %s from %s on n%d v%d", word(m.Yes, "yes", "no"), from, m.Seq, m.View)
	case *lab.Commit:
		return fmt.Sprintf("ack %s from %s on n%d v%d", word(m.Yes, "commit", "abort"), from, m.Seq, m.View)
	case *lab.Checkpoint:
		return fmt.Sprintf("checkpoint from %s: n%d digest %s", from, m.Seq, m.Digest)
	case *lab.ViewChange:
		return fmt.Sprintf("view change from %s: asks for view %d (stable n%d, %d prepared)", from, m.View, m.StableSeq, len(m.Prepared))
	case *lab.NewView:
		return fmt.Sprintf("new view from %s: view %d, on %d view changes, re-issuing %d pre-prepares", from, m.View, len(m.ViewChanges), len(m.PrePrepares))
	case *lab.StateRequest:
		return fmt.Sprintf("state request from %s", from)
	case *lab.StateReply:
		return fmt.Sprintf("state from %s: view %d, checkpoint n%d, %d committed above it", from, m.View, m.Checkpoint.Seq, len(m.Committed))
	}
	return fmt.Sprintf("%s from %s", lab.Describe(m), from)
}

// stepCause is what made a replica step: a command typed at its console,
// a message (msg, from from), or, with neither, a tick.
type stepCause struct {
	typed bool
	msg   lab.Message
	from  lab.ID
}

// by reports whether the step was the handling of a message of kind k.
func (c stepCause) by(k lab.Kind) bool { return c.msg != nil && lab.KindOf(c.msg) == k }

// asked reports whether, from prev to st, the replica asked for a new view.
func asked(prev, st lab.Status) bool {
	return st.ViewChanging && (!prev.ViewChanging || st.View != prev.View)
}

// viewLine tells a view change as it is: asking for a view is not being
// in it. A replica in the kit reports the view it asked for at once, with
// ViewChanging set until the view starts.
func viewLine(prev, st lab.Status, why stepCause) string {
	switch {
	case asked(prev, st):
		line := fmt.Sprintf("asked for view %d (to be led by %s); it starts when %s sends NEW-VIEW", st.View, st.Primary, st.Primary)
		if st.Primary == st.ID {
			line = fmt.Sprintf("asked for view %d, which this replica is to lead: it starts once 2f+1 replicas ask for it", st.View)
		}
		switch {
		case why.typed:
		case why.by(lab.KindViewChange):
			line += " (joined the replicas that asked for it)"
		case why.msg == nil:
			line += " (its view-change timer expired)"
		}
		return line
	case st.View == prev.View && st.Primary == prev.Primary && !(prev.ViewChanging && !st.ViewChanging):
		return ""
	}
	line := fmt.Sprintf("entered view %d, led by %s", st.View, st.Primary)
	leads := st.Primary == st.ID
	switch {
	case leads && prev.ViewChanging && prev.View == st.View:
		line += " (this replica leads it: it sent NEW-VIEW)"
	case why.by(lab.KindNewView):
		line += fmt.Sprintf(" (NEW-VIEW from %s)", why.from)
	case why.by(lab.KindStateReply) && leads:
		// A restarted primary learns its view from the others: it sent
		// no NEW-VIEW, and the view's requests wait for the next one.
		line += " (state transfer: f+1 replicas report it; this replica leads it, but it sent no NEW-VIEW in this run)"
	case why.by(lab.KindStateReply):
		line += " (state transfer: f+1 replicas report it)"
	case leads:
		line += " (this replica leads it)"
	}
	return line
}

// statusChanges lists, as console lines, what differs from prev to st.
// Entries a new view re-issues for sequence numbers this replica had
// executed already are left out: Events sums them up (reissuedSeqs).
func statusChanges(prev, st lab.Status, why stepCause) []string {
	var out []string
	if line := viewLine(prev, st, why); line != "" {
		out = append(out, line)
	}
	type key struct{ view, seq int }
	before := map[key]lab.Entry{}
	for _, e := range prev.Log {
		before[key{e.View, e.Seq}] = e
	}
	for _, e := range st.Log {
		old, seen := before[key{e.View, e.Seq}]
		if seen && old.Phase == e.Phase || e.Seq <= prev.LastExecuted {
			continue
		}
		switch e.Phase {
		case lab.PhasePrePrepared:
			if !seen && st.Primary == st.ID {
				out = append(out, fmt.Sprintf("n%d pre-prepared: %s", e.Seq, requestText(e.Request)))
			}
		case lab.PhasePrepared:
			out = append(out, fmt.Sprintf("n%d prepared: prepare yes from %s, no from %s", e.Seq, idList(e.PrepareYes), idList(e.PrepareNo)))
		case lab.PhaseCommitted, lab.PhaseAborted:
			if why.by(lab.KindStateReply) {
				// Decided elsewhere: the votes this replica holds are not
				// what decided it.
				out = append(out, fmt.Sprintf("n%d %s by state transfer: f+1 replicas report it", e.Seq, e.Phase))
				continue
			}
			if e.Phase == lab.PhaseCommitted {
				out = append(out, fmt.Sprintf("n%d committed: commit from %s, abort from %s", e.Seq, idList(e.CommitYes), idList(e.CommitNo)))
				continue
			}
			out = append(out, fmt.Sprintf("n%d aborted: prepare yes %s, no %s; commit %s, abort %s", e.Seq,
				idList(e.PrepareYes), idList(e.PrepareNo), idList(e.CommitYes), idList(e.CommitNo)))
		}
	}
	if len(st.History) > len(prev.History) {
		for _, o := range st.History[len(prev.History):] {
			out = append(out, fmt.Sprintf("executed n%d: %s#%d %s %s", o.Seq, o.Request.Client, o.Request.Timestamp, o.Request.Op, OutcomeText(o.Committed, o.Result)))
		}
	}
	if st.StableSeq > prev.StableSeq {
		out = append(out, fmt.Sprintf("stable checkpoint now n%d: watermarks (%d, %d]", st.StableSeq, st.Low, st.High))
	}
	return out
}

// reissuedSeqs lists the entries that appear in st's log, from prev, for
// sequence numbers the replica had executed already: those a new view
// re-issues.
func reissuedSeqs(prev, st lab.Status) []int {
	type key struct{ view, seq int }
	before := map[key]bool{}
	for _, e := range prev.Log {
		before[key{e.View, e.Seq}] = true
	}
	var seqs []int
	for _, e := range st.Log {
		if e.Seq <= prev.LastExecuted && !before[key{e.View, e.Seq}] {
			seqs = append(seqs, e.Seq)
		}
	}
	return seqs
}

// seqRanges writes sequence numbers as "n1", "n1-n3" or "n1-n3, n5".
func seqRanges(seqs []int) string {
	slices.Sort(seqs)
	var parts []string
	for i := 0; i < len(seqs); {
		j := i
		for j+1 < len(seqs) && seqs[j+1] == seqs[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, fmt.Sprintf("n%d", seqs[i]))
		} else {
			parts = append(parts, fmt.Sprintf("n%d-n%d", seqs[i], seqs[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

func requestText(r *lab.Request) string {
	if r == nil {
		return "null request"
	}
	return fmt.Sprintf("%s (client %s, timestamp %d)", r.Op, r.Client, r.Timestamp)
}

func idList(ids []lab.ID) string {
	if len(ids) == 0 {
		return "none"
	}
	return lab.JoinIDs(slices.Sorted(slices.Values(ids)), " ")
}

func word(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}
