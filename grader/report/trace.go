package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"pbftlab/lab"
)

// TraceEntry is the name of the report entry under which the grader
// attaches a case's Trace to its spec. The suite runs in its own process;
// the entry is how the run's messages reach the driver, through the
// progress file.
const TraceEntry = "pbftlab-trace"

// Bounds on what a trace carries, so that a case that runs long (thousands
// of requests, a replica that floods the network) cannot blow up the
// reports: the diagram and the transcript are for reading, and nobody reads
// past a few hundred messages.
const (
	MaxEvents          = 1500 // events kept for the diagram
	MaxTranscriptLines = 600  // transcript lines kept, head and tail
	MaxLineLen         = 400  // characters kept of one transcript line
	// MaxTraceBytes bounds one trace as JSON. The reference's largest is
	// about 300 KB; a replica that fills its messages or its status with
	// long strings would otherwise make a trace, and the reports that
	// embed a hundred of them, as large as it likes (see Fit).
	MaxTraceBytes = 2 << 20
	maxLabelName  = 40 // characters of a client's name on an arrow
)

// Trace is one simulated run of a case, in a form that survives JSON: the
// seed, what went wrong, the transcript in the lab's format and the events
// the diagram is drawn from.
type Trace struct {
	Seed       uint64   `json:"seed"`
	Passed     bool     `json:"passed"`
	Replicas   int      `json:"replicas"`
	Byzantine  []string `json:"byzantine,omitempty"`
	Failures   []string `json:"failures,omitempty"` // expect lines that did not hold
	Error      string   `json:"error,omitempty"`    // what stopped the run, if anything
	Replay     string   `json:"replay,omitempty"`   // the command that reruns this seed
	Transcript string   `json:"transcript"`
	Events     []Event  `json:"events"`
	Omitted    int      `json:"omitted,omitempty"` // events left out past MaxEvents
	// Gap is where in Events the omitted ones were: a long run keeps its
	// beginning and its end, which holds its last steps and checkpoints.
	Gap   int    `json:"gap,omitempty"`
	Steps *Steps `json:"steps,omitempty"` // the step-through, for a failing run
	Cut   string `json:"cut,omitempty"`   // what Fit left out, and why
}

// Fit makes t at most max bytes as JSON: it drops the step-through first,
// then the events, and says so in Cut; what went wrong and the bounded
// transcript stay.
func (t *Trace) Fit(max int) {
	size := func() int {
		data, err := json.Marshal(t)
		if err != nil {
			return 0
		}
		return len(data)
	}
	n := size()
	if n <= max {
		return
	}
	if t.Steps != nil {
		t.Steps = nil
		t.Cut = fmt.Sprintf("the step-through is left out: the trace came to %d KB, more than the %d KB a trace may take", n>>10, max>>10)
		if n = size(); n <= max {
			return
		}
	}
	t.Events, t.Omitted, t.Gap = nil, 0, 0
	t.Cut = fmt.Sprintf("the diagram and step-through are left out: the trace came to %d KB, more than the %d KB a trace may take", n>>10, max>>10)
	for i := range t.Failures {
		t.Failures[i] = clip(t.Failures[i], max/(4*len(t.Failures)))
	}
	t.Error = clip(t.Error, max/4)
	t.Transcript = clip(t.Transcript, max/4)
}

// String keeps Ginkgo's console and report from printing the whole trace a
// second time as the entry's text form.
func (t *Trace) String() string {
	if t == nil {
		return "no trace"
	}
	return fmt.Sprintf("trace of seed %d: %d events", t.Seed, len(t.Events))
}

// Event is one thing that happened in the run.
type Event struct {
	Kind  string `json:"kind"` // one of the Kind constants
	Index int    `json:"i"`    // position in the full trace
	Time  int    `json:"t"`    // simulator tick
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
	// Send is, for a delivery, the Index of the send it completes, or -1
	// when it is not in the trace.
	Send   int    `json:"send"`
	Dup    bool   `json:"dup,omitempty"`    // a second delivery of one send
	Forged bool   `json:"forged,omitempty"` // a vote the kit sent in a Byzantine replica's name
	Msg    *Msg   `json:"msg,omitempty"`
	Text   string `json:"text,omitempty"`
}

// Event kinds.
const (
	KindStep       = "step"    // a script line
	KindSend       = "send"    // a message put on the network
	KindDeliver    = "deliver" // a message handed to its receiver
	KindLost       = "lost"    // a message that reached a crashed replica
	KindDrop       = "drop"    // a message the network lost
	KindCrash      = "crash"
	KindRecover    = "recover"
	KindNote       = "note" // something the simulator said
	KindCheckpoint = "checkpoint"
)

// Msg is a message as the diagram labels it.
type Msg struct {
	Kind  string `json:"kind"` // PREPARE, COMMIT, ...
	View  int    `json:"view"`
	Seq   int    `json:"seq"`
	Vote  string `json:"vote,omitempty"` // yes, no, commit, abort, committed, aborted
	Label string `json:"label"`          // what the arrow says: "v0 n1 no"
	Text  string `json:"text"`           // the transcript's one-line rendering
}

// MsgOf describes m for the diagram: its kind, view, sequence number and
// vote, and the label its arrow carries.
func MsgOf(m lab.Message) Msg {
	// A message's strings are the replica's to choose: a text or label
	// keeps a line's worth of them.
	out := Msg{Kind: lab.KindOf(m).String(), Text: clip(lab.Describe(m), MaxLineLen)}
	switch m := m.(type) {
	case *lab.Request:
		out.Label = fmt.Sprintf("%s#%d", clip(m.Client, maxLabelName), m.Timestamp)
	case *lab.PrePrepare:
		out.View, out.Seq = m.View, m.Seq
		out.Label = fmt.Sprintf("v%d n%d", m.View, m.Seq)
	case *lab.Prepare:
		out.View, out.Seq, out.Vote = m.View, m.Seq, pick(m.Yes, "yes", "no")
		out.Label = fmt.Sprintf("v%d n%d %s", m.View, m.Seq, out.Vote)
	case *lab.Commit:
		out.View, out.Seq, out.Vote = m.View, m.Seq, pick(m.Yes, "commit", "abort")
		out.Label = fmt.Sprintf("v%d n%d %s", m.View, m.Seq, out.Vote)
	case *lab.Reply:
		out.View, out.Seq, out.Vote = m.View, m.Seq, pick(m.Committed, "committed", "aborted")
		out.Label = fmt.Sprintf("v%d n%d %s", m.View, m.Seq, out.Vote)
	case *lab.Checkpoint:
		out.Seq = m.Seq
		out.Label = fmt.Sprintf("n%d", m.Seq)
	case *lab.ViewChange:
		out.View, out.Seq = m.View, m.StableSeq
		out.Label = fmt.Sprintf("v%d", m.View)
	case *lab.NewView:
		out.View = m.View
		out.Label = fmt.Sprintf("v%d", m.View)
	case *lab.StateRequest:
		out.Label = fmt.Sprintf("#%d", m.Nonce)
	case *lab.StateReply:
		out.View, out.Seq = m.View, m.Checkpoint.Seq
		out.Label = fmt.Sprintf("v%d n%d", m.View, m.Checkpoint.Seq)
	}
	return out
}

func pick(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// BoundLines keeps the first and last lines of s when it has more than
// max, and cuts lines longer than width, saying what it left out.
func BoundLines(s string, max, width int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if len(l) > width {
			cut := width
			for cut > 0 && !utf8.RuneStart(l[cut]) {
				cut--
			}
			lines[i] = l[:cut] + fmt.Sprintf(" ... (%d more bytes)", len(l)-cut)
		}
	}
	if len(lines) > max {
		head, tail := max/4, max-max/4
		cut := len(lines) - head - tail
		lines = append(append(lines[:head:head], fmt.Sprintf("... %d lines left out ...", cut)), lines[len(lines)-tail:]...)
	}
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}
