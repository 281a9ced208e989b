package console

import (
	"fmt"
	"slices"
	"strings"

	"pbftlab/lab"
	"pbftlab/lab/tcp"
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
}

var _ tcp.Observer = (*Events)(nil)

// NewEvents prints the events of replica id of an n-replica cluster, each
// line behind prefix.
func NewEvents(out *Out, prefix string, id lab.ID, n int) *Events {
	return &Events{out: out, prefix: prefix, Logs: true, prev: lab.Status{ID: id, Primary: lab.Primary(0, n)}}
}

// Delivered prints a message handed to the replica.
func (e *Events) Delivered(from lab.ID, m lab.Message) {
	if line := describeDelivery(from, m); line != "" {
		e.out.Print(e.prefix, line)
	}
}

// Stepped prints what changed in the replica's status.
func (e *Events) Stepped(st lab.Status) {
	lines := statusChanges(e.prev, st)
	e.prev = st
	if len(lines) > 0 {
		e.out.Print(e.prefix, strings.Join(lines, "\n"))
	}
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
		return fmt.Sprintf("ack %s from %s on n%d v%d", word(m.Commit, "commit", "abort"), from, m.Seq, m.View)
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

// statusChanges lists, as console lines, what differs from prev to st.
func statusChanges(prev, st lab.Status) []string {
	var out []string
	if st.View != prev.View || st.Primary != prev.Primary {
		line := fmt.Sprintf("view changed: view %d, primary %s", st.View, st.Primary)
		if st.Primary == st.ID {
			line += " (this replica leads it)"
		}
		out = append(out, line)
	} else if st.ViewChanging && !prev.ViewChanging {
		out = append(out, fmt.Sprintf("view change under way: leaving view %d", st.View))
	}
	type key struct{ view, seq int }
	before := map[key]lab.Entry{}
	for _, e := range prev.Log {
		before[key{e.View, e.Seq}] = e
	}
	for _, e := range st.Log {
		old, seen := before[key{e.View, e.Seq}]
		if seen && old.Phase == e.Phase {
			continue
		}
		switch e.Phase {
		case lab.PhasePrePrepared:
			if !seen && st.Primary == st.ID {
				out = append(out, fmt.Sprintf("n%d pre-prepared: %s", e.Seq, requestText(e.Request)))
			}
		case lab.PhasePrepared:
			out = append(out, fmt.Sprintf("n%d prepared: prepare yes from %s, no from %s", e.Seq, idList(e.PrepareYes), idList(e.PrepareNo)))
		case lab.PhaseCommitted:
			out = append(out, fmt.Sprintf("n%d committed: commit from %s, abort from %s", e.Seq, idList(e.CommitYes), idList(e.CommitNo)))
		case lab.PhaseAborted:
			out = append(out, fmt.Sprintf("n%d aborted: prepare yes %s, no %s; commit %s, abort %s", e.Seq,
				idList(e.PrepareYes), idList(e.PrepareNo), idList(e.CommitYes), idList(e.CommitNo)))
		}
	}
	if len(st.History) > len(prev.History) {
		for _, o := range st.History[len(prev.History):] {
			out = append(out, fmt.Sprintf("executed n%d: %s#%d %s %s (%s)", o.Seq, o.Request.Client, o.Request.Timestamp, o.Request.Op, word(o.Committed, "committed", "aborted"), o.Result))
		}
	}
	if st.StableSeq > prev.StableSeq {
		out = append(out, fmt.Sprintf("stable checkpoint now n%d: watermarks (%d, %d]", st.StableSeq, st.Low, st.High))
	}
	return out
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
