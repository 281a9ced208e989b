package sim

import (
	"fmt"
	"slices"
	"strings"

	"pbftlab/lab"
)

// EventKind tells trace events apart.
type EventKind int

const (
	EventStep       EventKind = iota + 1 // a script or console line
	EventSend                            // a message put on the network
	EventDeliver                         // a message handed to its receiver
	EventLost                            // a message addressed to a crashed replica
	EventDrop                            // a message the network lost
	EventLog                             // a replica's Logf line
	EventNote                            // something the simulator says
	EventCrash                           // a replica crashed
	EventRecover                         // a replica recovered
	EventCheckpoint                      // a replica reported a checkpoint
)

// Event is one entry of the trace. Reports draw their diagrams from it.
type Event struct {
	Kind     EventKind
	Time     int    // the tick it happened in
	Index    int    // its position in the trace
	SendIdx  int    // for a delivery: the index of its send event, or -1
	From, To lab.ID // sender and receiver; the actor for one-party events
	Msg      lab.Message
	Forged   bool // a vote the kit sent in a Byzantine replica's name
	Seq      int
	Stable   bool
	Text     string
}

// Trace is the record of a run: every step, message and log line, in the
// order they happened. The same seed gives the same trace, byte for byte.
type Trace struct {
	quiet  bool
	now    int
	events []Event
	// sends waiting for delivery, per link, for pairing deliveries with sends
	inflight map[[2]lab.ID][]pending
	// the replicas' states after each delivery, for the step-through
	snapshots []Snapshot
}

// pending is a send not yet delivered: its event and the first byte of its
// encoding, which identifies it. The network hands the same bytes back when
// it delivers the message (copies times, when it duplicated it), and no
// other message on the link shares them. An encoding is never empty: it
// starts with the message's kind.
type pending struct {
	idx    int
	data   *byte
	copies int
}

// Events returns the trace's events.
func (t *Trace) Events() []Event { return t.events }

func (t *Trace) event(e Event) {
	e.Index = len(t.events)
	e.Time = t.now
	if e.Kind != EventDeliver && e.Kind != EventLost {
		e.SendIdx = -1
	}
	t.add(e)
}

// add appends e to the events. Their slice doubles when full: a long run
// records tens of thousands of events (case7 some 64,000 besides its log
// lines), and append, which grows a large slice by a quarter at a time,
// copied each of them several times over: close to half of what such a
// run cost.
func (t *Trace) add(e Event) {
	if len(t.events) == cap(t.events) {
		t.events = slices.Grow(t.events, max(len(t.events), 256))
	}
	t.events = append(t.events, e)
}

func (t *Trace) send(from, to lab.ID, m lab.Message, forged bool, data []byte) {
	if t.quiet {
		return
	}
	if t.inflight == nil {
		t.inflight = map[[2]lab.ID][]pending{}
	}
	k := [2]lab.ID{from, to}
	t.inflight[k] = append(t.inflight[k], pending{idx: len(t.events), data: &data[0], copies: 1})
	t.event(Event{Kind: EventSend, From: from, To: to, Msg: m, Forged: forged})
}

// duplicate records that the network carries the last send from → to twice.
func (t *Trace) duplicate(from, to lab.ID) {
	if t.quiet {
		return
	}
	if q := t.inflight[[2]lab.ID{from, to}]; len(q) > 0 {
		q[len(q)-1].copies++
	}
}

// deliver records a delivery and pairs it with its send: the send on the
// same link with the same encoding. A duplicate pairs with the same send.
func (t *Trace) deliver(from, to lab.ID, m lab.Message, lost bool, data []byte) {
	if t.quiet {
		return
	}
	kind := EventDeliver
	if lost {
		kind = EventLost
	}
	sendIdx := -1
	k := [2]lab.ID{from, to}
	q := t.inflight[k]
	for i := range q {
		if q[i].data != &data[0] {
			continue
		}
		sendIdx = q[i].idx
		if q[i].copies--; q[i].copies == 0 {
			copy(q[i:], q[i+1:])
			t.inflight[k] = q[:len(q)-1]
		}
		break
	}
	e := Event{Kind: kind, From: from, To: to, Msg: m}
	e.Index = len(t.events)
	e.Time = t.now
	e.SendIdx = sendIdx
	t.add(e)
}

func (t *Trace) log(id lab.ID, line string) {
	t.event(Event{Kind: EventLog, From: id, To: id, Text: line})
}

func (t *Trace) note(format string, args ...any) {
	t.event(Event{Kind: EventNote, From: lab.Client, To: lab.Client, Text: fmt.Sprintf(format, args...)})
}

// Step records a script or console line, as written in the transcript.
func (t *Trace) Step(line string) {
	t.event(Event{Kind: EventStep, Text: line})
}

// Transcript renders the trace as text: script lines as the lab prints
// them ("P1 (replica): prepare yes"), and under each the messages it set
// moving and what the replicas logged. detail false keeps the steps and the
// simulator's notes only.
func (t *Trace) Transcript(detail bool) string {
	var b strings.Builder
	for _, e := range t.events {
		switch e.Kind {
		case EventStep:
			b.WriteString(e.Text)
			b.WriteByte('\n')
		case EventNote:
			fmt.Fprintf(&b, "    ! %s\n", e.Text)
		case EventCrash:
			fmt.Fprintf(&b, "    %s crashed\n", e.From)
		case EventRecover:
			fmt.Fprintf(&b, "    %s recovered\n", e.From)
		}
		if !detail {
			continue
		}
		switch e.Kind {
		case EventDeliver:
			fmt.Fprintf(&b, "    %s -> %s  %s\n", e.From, e.To, lab.Describe(e.Msg))
		case EventLost:
			fmt.Fprintf(&b, "    %s -> %s  %s  (lost: %s is down)\n", e.From, e.To, lab.Describe(e.Msg), e.To)
		case EventDrop:
			fmt.Fprintf(&b, "    %s -> %s  %s  (dropped by the network)\n", e.From, e.To, lab.Describe(e.Msg))
		case EventLog:
			fmt.Fprintf(&b, "    %s: %s\n", e.From, e.Text)
		case EventCheckpoint:
			state := "taken"
			if e.Stable {
				state = "stable"
			}
			fmt.Fprintf(&b, "    %s: checkpoint n%d %s d=%s\n", e.From, e.Seq, state, e.Text)
		}
	}
	return b.String()
}
