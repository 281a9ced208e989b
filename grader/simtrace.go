package grader

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"pbftlab/grader/report"
	"pbftlab/lab"
	"pbftlab/sim"
)

// What the reports show of a simulated run: the events the diagram is
// drawn from, the transcript and, after each delivery, each replica's
// state for the step-through. The reports know nothing of the simulator;
// this is where its trace becomes theirs.

// Bounds on a step-through, so that report.html stays small: a case that
// delivers thousands of messages shows its first maxSteps, and says so.
const (
	maxSteps        = sim.MaxSnapshots // deliveries one case's step-through embeds: all the simulator records
	maxStepLines    = 12               // lines of what a delivery led to (sends and log lines)
	maxStepLineLen  = 200              // characters kept of one such line
	maxStepFailLen  = 300              // characters kept of why a replica's state is unknown
	maxStepEntryLen = 120              // characters kept of a log entry's request
)

// simTrace captures a finished run of s for the reports. The caller fills in the seed, the
// outcome and the replay command, which the simulator does not know.
func simTrace(s *sim.Cluster) *report.Trace {
	t := &report.Trace{Replicas: s.N(), Steps: stepsOf(s)}
	t.Transcript = report.BoundLines(s.Trace().Transcript(true), report.MaxTranscriptLines, report.MaxLineLen)
	all := s.Trace().Events()
	// The diagram keeps the first and the last events of a long run; the
	// others are only counted. Every event still takes part in the pairing
	// below, which is cheap, but only those kept become report events.
	var shown []int // the events the report has, by index in all
	for i, e := range all {
		if _, ok := simKind(e); ok {
			shown = append(shown, i)
		}
	}
	keep := func(int) bool { return true }
	if n := len(shown); n > report.MaxEvents {
		head, tail := report.MaxEvents-report.MaxEvents/3, report.MaxEvents/3
		t.Omitted, t.Gap = n-report.MaxEvents, head
		keep = func(k int) bool { return k < head || k >= n-tail }
	}
	// A delivery the simulator could not pair with its send is paired with
	// the last matching send on its link, so the diagram can draw it; a
	// second delivery of one send is marked as a duplicate. Matching sends
	// are looked up by their text only when such a delivery exists.
	unpaired := slices.ContainsFunc(all, func(e sim.Event) bool {
		return (e.Kind == sim.EventDeliver || e.Kind == sim.EventLost) && e.SendIdx < 0
	})
	lastSend := map[string]int{}
	forged := map[int]bool{}    // sends the kit made in a Byzantine replica's name
	delivered := map[int]bool{} // sends delivered once already
	if len(shown) > 0 {
		t.Events = make([]report.Event, 0, min(len(shown), report.MaxEvents))
	}
	for k, i := range shown {
		e := all[i]
		kind, _ := simKind(e)
		send, dup, forgedSend := -1, false, false
		if kind == report.KindSend {
			if unpaired {
				lastSend[linkKey(e)] = e.Index
			}
			forged[e.Index] = e.Forged
		}
		if kind == report.KindDeliver || kind == report.KindLost {
			send = e.SendIdx
			if send < 0 {
				if j, ok := lastSend[linkKey(e)]; ok {
					send = j
				}
			}
			dup = send >= 0 && delivered[send]
			if send >= 0 {
				delivered[send] = true
				forgedSend = forged[send]
			}
		}
		if !keep(k) {
			continue
		}
		ev := simEvent(e, kind)
		if kind == report.KindDeliver || kind == report.KindLost {
			ev.Send, ev.Dup, ev.Forged = send, dup, ev.Forged || forgedSend
		}
		t.Events = append(t.Events, ev)
	}
	return t
}

func linkKey(e sim.Event) string {
	return e.From.String() + ">" + e.To.String() + " " + lab.Describe(e.Msg)
}

// reportKinds maps each simulator event kind the report draws to the
// report's kind; log lines are left to the transcript.
var reportKinds = map[sim.EventKind]string{
	sim.EventStep:       report.KindStep,
	sim.EventNote:       report.KindNote,
	sim.EventCrash:      report.KindCrash,
	sim.EventRecover:    report.KindRecover,
	sim.EventCheckpoint: report.KindCheckpoint,
	sim.EventSend:       report.KindSend,
	sim.EventDeliver:    report.KindDeliver,
	sim.EventLost:       report.KindLost,
	sim.EventDrop:       report.KindDrop,
}

// simKind is the report's kind of a simulator event, and false for the
// events the report leaves to the transcript.
func simKind(e sim.Event) (string, bool) {
	k, ok := reportKinds[e.Kind]
	return k, ok
}

// simEvent turns a simulator event of the given report kind (simKind)
// into a report event.
func simEvent(e sim.Event, kind string) report.Event {
	ev := report.Event{Index: e.Index, Time: e.Time, Send: -1, Forged: e.Forged, Kind: kind}
	switch e.Kind {
	case sim.EventStep, sim.EventNote:
		ev.Text = e.Text
		return ev
	case sim.EventCrash, sim.EventRecover:
		ev.From, ev.To = e.From.String(), e.From.String()
		return ev
	case sim.EventCheckpoint:
		ev.From, ev.To = e.From.String(), e.From.String()
		state := "taken"
		if e.Stable {
			state = "stable"
		}
		ev.Text = fmt.Sprintf("checkpoint n%d %s", e.Seq, state)
		return ev
	case sim.EventDeliver, sim.EventLost:
		ev.Send = e.SendIdx
	}
	ev.From, ev.To = e.From.String(), e.To.String()
	if e.Msg != nil {
		m := report.MsgOf(e.Msg)
		ev.Msg = &m
	}
	return ev
}

// stepsOf turns the states the simulator recorded after each delivery into
// a step-through, or nil when it recorded none (a quiet run).
func stepsOf(s *sim.Cluster) *report.Steps {
	snaps := s.Trace().Snapshots()
	if len(snaps) == 0 {
		return nil
	}
	out := &report.Steps{Replicas: s.N(), Total: s.Delivered()}
	b := stepBuilder{out: out, states: map[*sim.ReplicaState]int{}, entries: map[string]int{}}
	events := s.Trace().Events()
	delivered := map[int]bool{}
	script := -1
	next := 0 // the next snapshot to match
	for i, e := range events {
		if next == len(snaps) || len(out.Steps) == maxSteps {
			break
		}
		switch e.Kind {
		case sim.EventStep:
			out.Scripts = append(out.Scripts, report.Bound(e.Text, maxStepLineLen))
			script = len(out.Scripts) - 1
			continue
		case sim.EventDeliver, sim.EventLost:
		default:
			continue
		}
		// Every delivery counts here, recorded or not, so that the second
		// delivery of a send is known as a duplicate.
		dup := e.SendIdx >= 0 && delivered[e.SendIdx]
		if e.SendIdx >= 0 {
			delivered[e.SendIdx] = true
		}
		if snaps[next].Event != i {
			continue
		}
		st := report.Step{Event: i, Time: e.Time, From: e.From.String(), To: e.To.String(), Msg: report.MsgOf(e.Msg),
			Lost: e.Kind == sim.EventLost, Dup: dup, Script: script, Then: then(events[i+1:])}
		if e.SendIdx >= 0 {
			st.Forged = events[e.SendIdx].Forged
		}
		for _, r := range snaps[next].Replicas {
			st.States = append(st.States, b.state(r))
		}
		out.Steps = append(out.Steps, st)
		next++
	}
	return out
}

// stepBuilder gives each distinct state and entry one index.
type stepBuilder struct {
	out     *report.Steps
	states  map[*sim.ReplicaState]int // the simulator shares unchanged states
	entries map[string]int
}

func (b *stepBuilder) state(r *sim.ReplicaState) int {
	if i, ok := b.states[r]; ok {
		return i
	}
	st := report.StepState{
		View: r.View, Primary: r.Primary.String(), ViewChanging: r.ViewChanging, Crashed: r.Crashed,
		Failure: report.Bound(r.Failure, maxStepFailLen), LastExecuted: r.LastExecuted, StableSeq: r.StableSeq,
		Low: r.Low, High: r.High, Omitted: r.Omitted, Log: []int{}, Balances: balances(r.Balances),
	}
	for _, e := range r.Log {
		st.Log = append(st.Log, b.entry(e))
	}
	b.out.States = append(b.out.States, st)
	b.states[r] = len(b.out.States) - 1
	return len(b.out.States) - 1
}

func (b *stepBuilder) entry(e sim.EntryState) int {
	se := report.StepEntry{Seq: e.Seq, View: e.View, Phase: e.Phase.String(), Request: report.Bound(e.Request, maxStepEntryLen),
		PrepareYes: names(e.PrepareYes), PrepareNo: names(e.PrepareNo),
		CommitYes: names(e.CommitYes), CommitNo: names(e.CommitNo), Executed: e.Executed}
	key, _ := json.Marshal(se) // plain data: it cannot fail
	if i, ok := b.entries[string(key)]; ok {
		return i
	}
	b.out.Entries = append(b.out.Entries, se)
	b.entries[string(key)] = len(b.out.Entries) - 1
	return len(b.out.Entries) - 1
}

// then is what a delivery led to: the events after it up to the next
// delivery, script line, crash or recovery. Sends of one message to
// several replicas make one line.
func then(events []sim.Event) []string {
	var lines []string
	sent := map[string]int{} // a message's text to its line
	more := 0
	add := func(s string) {
		if len(lines) == maxStepLines {
			more++
			return
		}
		lines = append(lines, s)
	}
	for _, e := range events {
		switch e.Kind {
		case sim.EventDeliver, sim.EventLost, sim.EventStep, sim.EventCrash, sim.EventRecover:
			return finish(lines, more)
		case sim.EventSend, sim.EventDrop:
			text := e.From.String() + " sent " + lab.Describe(e.Msg) + " to"
			if i, ok := sent[text]; ok {
				lines[i] += " " + e.To.String() + dropped(e)
				continue
			}
			if len(lines) < maxStepLines {
				sent[text] = len(lines)
			}
			add(text + " " + e.To.String() + dropped(e))
		case sim.EventLog:
			add(e.From.String() + ": " + e.Text)
		case sim.EventNote:
			add("! " + e.Text)
		case sim.EventCheckpoint:
			state := "taken"
			if e.Stable {
				state = "stable"
			}
			add(fmt.Sprintf("%s: checkpoint n%d %s", e.From, e.Seq, state))
		}
	}
	return finish(lines, more)
}

func dropped(e sim.Event) string {
	if e.Kind == sim.EventDrop {
		return " (dropped)"
	}
	return ""
}

func finish(lines []string, more int) []string {
	for i, l := range lines {
		lines[i] = report.Bound(l, maxStepLineLen)
	}
	if more > 0 {
		lines = append(lines, fmt.Sprintf("... %d more", more))
	}
	return lines
}

func names(ids []lab.ID) []string {
	if len(ids) == 0 {
		return nil
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

func balances(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}
