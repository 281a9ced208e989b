package report

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
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

// Bound cuts s to width bytes, never inside a character, saying how much
// it left out.
func Bound(s string, width int) string {
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
// failing runs only, and a trace travels through the progress file for
// every spec.
func (t *Trace) MarshalJSON() ([]byte, error) {
	type plain Trace // without this method
	if t.Passed && t.Steps != nil {
		c := *t
		c.Steps = nil
		return json.Marshal((*plain)(&c))
	}
	return json.Marshal((*plain)(t))
}
