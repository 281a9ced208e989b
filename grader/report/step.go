package report

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"pbftlab/lab"
	"pbftlab/lab/sim"
)

// Bounds on a step-through, so that report.html stays small: a case that
// delivers thousands of messages shows its first MaxSteps, and says so.
const (
	MaxSteps        = sim.MaxSnapshots // deliveries one case's step-through embeds: all the simulator records
	maxStepLines    = 12               // lines of what a delivery led to (sends and log lines)
	maxStepLineLen  = 200              // characters kept of one such line
	maxStepFailLen  = 300              // characters kept of why a replica's state is unknown
	maxStepEntryLen = 120              // characters kept of a log entry's request
)

// Steps is a run as a step-through shows it: after each delivery, the
// message just delivered and what each replica's Status said. Replica
// states and log entries repeat from step to step (a delivery changes one
// replica, and usually one entry of it), so each distinct one is stored
// once and named by its index: a few hundred steps of a four-replica run
// take tens of kilobytes, not megabytes.
type Steps struct {
	Replicas int         `json:"replicas"`
	Steps    []Step      `json:"steps"`
	States   []StepState `json:"states"`  // distinct replica states
	Entries  []StepEntry `json:"entries"` // distinct log entries
	Scripts  []string    `json:"scripts"` // the script lines the steps fall under
	Total    int         `json:"total"`   // deliveries in the whole run; more than len(Steps) when cut
}

// Step is one delivery and the cluster right after it.
type Step struct {
	Event  int    `json:"i"` // the delivery's Index in the trace
	Time   int    `json:"t"` // simulator tick
	From   string `json:"from"`
	To     string `json:"to"`
	Msg    Msg    `json:"msg"`
	Lost   bool   `json:"lost,omitempty"`   // its receiver was down
	Dup    bool   `json:"dup,omitempty"`    // a second delivery of one send
	Forged bool   `json:"forged,omitempty"` // a vote the kit sent in a Byzantine replica's name
	// Script is the index in Scripts of the last script line before the
	// delivery, or -1 before the first.
	Script int `json:"script"`
	// Then is what the delivery led to before anything else happened: the
	// messages its receiver sent and the lines it logged, and the
	// simulator's notes.
	Then   []string `json:"then,omitempty"`
	States []int    `json:"states"` // per replica, an index into States
}

// StepState is one replica's state: its Status, cut down, with the bank's
// balances.
type StepState struct {
	View         int    `json:"view"`
	Primary      string `json:"primary"`
	ViewChanging bool   `json:"vc,omitempty"`
	Crashed      bool   `json:"crashed,omitempty"`
	Failure      string `json:"failure,omitempty"` // why there is no state to show
	LastExecuted int    `json:"exec"`
	StableSeq    int    `json:"stable"`
	Low          int    `json:"low"`
	High         int    `json:"high"`
	Log          []int  `json:"log"`               // indexes into Entries, in the replica's order
	Omitted      int    `json:"omitted,omitempty"` // entries with lower sequence numbers left out
	Balances     string `json:"bal,omitempty"`     // "alice=80 bob=5"
}

// StepEntry is one log entry: its phase and the votes the replica counted,
// by sender, so that a vote counted twice or a quorum one short shows.
type StepEntry struct {
	Seq        int      `json:"seq"`
	View       int      `json:"view"`
	Phase      string   `json:"phase"`
	Request    string   `json:"req"`
	PrepareYes []string `json:"py,omitempty"`
	PrepareNo  []string `json:"pn,omitempty"`
	CommitYes  []string `json:"cy,omitempty"`
	CommitNo   []string `json:"cn,omitempty"`
	Executed   bool     `json:"done,omitempty"`
}

// StepsOf turns the states the simulator recorded after each delivery into
// a step-through, or nil when it recorded none (a quiet run).
func StepsOf(s *sim.Sim) *Steps {
	snaps := s.Trace().Snapshots()
	if len(snaps) == 0 {
		return nil
	}
	out := &Steps{Replicas: s.N(), Total: s.Delivered()}
	b := stepBuilder{out: out, states: map[*sim.ReplicaState]int{}, entries: map[string]int{}}
	events := s.Trace().Events()
	delivered := map[int]bool{}
	script := -1
	next := 0 // the next snapshot to match
	for i, e := range events {
		if next == len(snaps) || len(out.Steps) == MaxSteps {
			break
		}
		switch e.Kind {
		case sim.EventStep:
			out.Scripts = append(out.Scripts, bound(e.Text, maxStepLineLen))
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
		st := Step{Event: i, Time: e.Time, From: e.From.String(), To: e.To.String(), Msg: MsgOf(e.Msg),
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
	out     *Steps
	states  map[*sim.ReplicaState]int // the simulator shares unchanged states
	entries map[string]int
}

func (b *stepBuilder) state(r *sim.ReplicaState) int {
	if i, ok := b.states[r]; ok {
		return i
	}
	st := StepState{
		View: r.View, Primary: r.Primary.String(), ViewChanging: r.ViewChanging, Crashed: r.Crashed,
		Failure: bound(r.Failure, maxStepFailLen), LastExecuted: r.LastExecuted, StableSeq: r.StableSeq,
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
	se := StepEntry{Seq: e.Seq, View: e.View, Phase: e.Phase.String(), Request: bound(e.Request, maxStepEntryLen),
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
		lines[i] = bound(l, maxStepLineLen)
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

// bound cuts s to width bytes, never inside a character, saying how much
// it left out.
func bound(s string, width int) string {
	if len(s) <= width {
		return s
	}
	cut := width
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf(" ... (%d more bytes)", len(s)-cut)
}

// MarshalJSON leaves a passed run's steps out: report.html steps through
// failing runs only, and a trace travels through the suite's JSON report
// and progress file for every spec.
func (t *Trace) MarshalJSON() ([]byte, error) {
	type plain Trace // without this method
	if t.Passed && t.Steps != nil {
		c := *t
		c.Steps = nil
		return json.Marshal((*plain)(&c))
	}
	return json.Marshal((*plain)(t))
}
