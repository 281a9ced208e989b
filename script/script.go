// Package script reads the case language: the lab's console transcripts made
// executable. A case file has header lines, then one console line per step
// in the form "targets: command", then expect lines that say what must hold
// at the end:
//
//	title: Case 1 - deposit
//	points: 10
//	phases: pre-prepare, prepare, commit
//	balances: alice=0
//	votes: manual
//
//	client: send account=alice,amount=100,operation=deposit
//	P0 (primary): tx
//	P1, P2: prepare yes
//	P3: prepare to P0 yes
//	P0, P1, P2, P3: progress
//
//	expect P0, P1, P2: request 1 committed
//	expect P0, P1, P2: balance alice=100
//
// A "check" line among the steps is an expect line evaluated at that point
// of the case, for outcomes that later steps change, such as the view:
//
//	check P1, P2, P3: view 1 primary P1
//
// An operation alone at a replica, after a bare "tx", is the line the
// lab's transcripts show typed at the primary's data> prompt; it sends
// nothing, and checks that the replica is ordering that operation:
//
//	P0 (primary): account=alice,amount=100,operation=deposit
//
// Text in parentheses after a replica's name, "(primary)" or "(replica,
// Byzantine)", is a note for the reader and is ignored, so a transcript can
// be pasted as it was printed. Blank lines are skipped, and so is a
// comment: from a "#" that starts a line, or follows a space or a tab, to
// the end of the line (see stripComment). The same command parser serves
// the cluster console.
package script

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"pbftlab/lab"
	"pbftlab/sim"
)

// Case is a parsed case file.
type Case struct {
	File      string
	Title     string
	Points    int
	Phases    []string
	Balances  map[string]int
	Manual    bool // votes are typed (the lab's way) rather than automatic
	N         int  // replicas; 4 unless the header says otherwise
	Byzantine []lab.ID
	// Checkpoint interval K and log window L; zero means the kit's default.
	CheckpointInterval int
	Window             int
	// Explore asks the grader to play, besides its seeds, every order of
	// deliveries that makes messages overtake older ones at most Delays
	// times in all, within the first Deliveries deliveries (a bounded
	// systematic search; zero values: none).
	Explore Explore
	Steps   []Step
	Expects []Expect
}

// Honest reports whether id is not among the case's Byzantine replicas.
func (c *Case) Honest(id lab.ID) bool { return !slices.Contains(c.Byzantine, id) }

// Action is what a step does.
type Action int

const (
	// Send: the client sends Op, Times times (each a new request).
	Send Action = iota + 1
	// Do: the targets carry out Cmd.
	Do
	// VoteTo: a Byzantine target sends one vote (Cmd.Op is OpPrepare or
	// OpAck, Cmd.Yes the vote) to the single replica To.
	VoteTo
	// Crash: the targets stop; nothing is delivered to them until recover.
	Crash
	// Recover: the targets come back and catch up.
	Recover
	// Show: "status" or "list"; changes nothing, prints the replica's state.
	Show
	// Tick: every live replica's clock advances Ticks times, the network
	// settling after each.
	Tick
	// Assert: a check line; Expect is evaluated now, in the middle of the
	// case.
	Assert
	// TickUntil: every clock advances, one tick at a time, until Expect
	// holds or Ticks ticks have passed ("tick: until P1: view 1 primary
	// P1, at most 200").
	TickUntil
	// Queue: the client sends Op, Times times, without letting the network
	// settle, so that the requests are in flight together.
	Queue
	// Forge: a Byzantine target sends Forgery, whatever its code would do
	// ("send PREPARE v0 n1 yes to P1", "tx OPERATION to P1, P2").
	Forge
	// LieStep: a Byzantine target's code lies from now on in what it sends
	// ("lie in checkpoints", "withhold PRE-PREPARE n1 from P2").
	LieStep
	// Hold, Release: the network keeps back the messages Filter selects,
	// or lets them go ("network: hold COMMIT to P1").
	Hold
	Release
	// Reorder: links stop (On) or start again keeping messages in order.
	Reorder
	// Data: the operation typed at the primary's data> prompt after a bare
	// "tx", as the lab's transcripts show it on a line of its own; it must
	// name the request the primary is ordering.
	Data
)

// Step is one console line.
type Step struct {
	Line    int
	Text    string   // the command as written, after the colon
	Targets []lab.ID // empty for the client and for tick
	Client  bool
	Action  Action
	Cmd     lab.Command
	To      lab.ID
	Op      string
	Times   int
	Ticks   int
	Expect  *Expect // for Assert and TickUntil
	Forgery *Forgery
	Lie     *Lie
	Filter  *sim.Filter
	Reverse bool // Release in the reverse of the order sent
	On      bool // Reorder on
}

// ExpectKind is what an expect line checks.
type ExpectKind int

const (
	// ExpectOutcome: request N (counted from 1 in the order the client sent
	// them) ended committed or aborted.
	ExpectOutcome ExpectKind = iota + 1
	// ExpectBalance: the listed balances.
	ExpectBalance
	// ExpectView: the replica is in view View, led by Primary.
	ExpectView
	// ExpectExecuted: the last sequence number executed.
	ExpectExecuted
	// ExpectStable: the last stable checkpoint is at sequence number N.
	ExpectStable
	// ExpectStableCount: N checkpoints became stable during the run.
	ExpectStableCount
	// ExpectLogAtMost: the log holds at most N entries.
	ExpectLogAtMost
	// ExpectInFinalCheckpoint: the newest final checkpoint file holds the
	// replica's snapshot, with the stable checkpoint's digest (Not: it
	// does not).
	ExpectInFinalCheckpoint
	// ExpectNull: the null request stands at sequence number N.
	ExpectNull
	// ExpectSentAtMost: the replica's code sent at most N messages (of
	// Msg, when set); with Not, at least N.
	ExpectSentAtMost
	// ExpectLogAfter: every entry of the log lies above sequence number N.
	ExpectLogAfter
	// ExpectHistoryAgrees: over the sequence numbers both histories cover,
	// the replica decided what Other decided, in the same view, with the
	// same result.
	ExpectHistoryAgrees
	// ExpectLogAgrees: at every sequence number both logs hold, the
	// replica's entry has Other's request, digest, phase and execution.
	ExpectLogAgrees
	// ExpectVotes: the log entry at sequence number N counts exactly the
	// votes of Votes, by sender: what Status reports, which the consoles
	// read to know whose vote is still awaited.
	ExpectVotes
)

// Want is the outcome an ExpectOutcome line asks for.
type Want int

const (
	WantCommitted      Want = iota + 1 // request N committed
	WantAborted                        // request N aborted
	WantNotCommitted                   // request N not committed: aborted or undecided
	WantUndecided                      // request N not decided
	WantPrepared                       // request N prepared (or committed)
	WantNotPrepared                    // request N not prepared, nor decided
	WantPrePrepared                    // request N pre-prepared (or further)
	WantNotPrePrepared                 // request N not pre-prepared: the replica never accepted it
)

var wantWords = map[string]Want{
	"committed": WantCommitted, "aborted": WantAborted, "not committed": WantNotCommitted,
	"not decided": WantUndecided, "prepared": WantPrepared, "not prepared": WantNotPrepared,
	"pre-prepared": WantPrePrepared, "not pre-prepared": WantNotPrePrepared,
}

func (w Want) String() string {
	for k, v := range wantWords {
		if v == w {
			return k
		}
	}
	return "?"
}

// Expect is one expect line, applied to each of its targets.
type Expect struct {
	Line    int
	Text    string
	Targets []lab.ID
	Client  bool
	Kind    ExpectKind
	Request int
	Want    Want
	// AtSeq and InView, when set (above 0 and at or above 0), are where
	// a decided request must have been decided.
	AtSeq    int
	InView   int
	Not      bool     // ExpectInFinalCheckpoint: the snapshot must be absent
	Msg      lab.Kind // ExpectSentAtMost: the kind counted, 0 for all
	Balances map[string]int
	View     int
	Primary  lab.ID
	N        int
	Other    lab.ID // ExpectHistoryAgrees, ExpectLogAgrees: the replica compared with
	Votes    *Tally // ExpectVotes
}

// Tally is the votes an ExpectVotes line names at one sequence number:
// the prepare votes, the commit acks, or both, each list sorted by
// replica. A list holds each sender once, so a replica that counts a
// sender twice, or on both sides, does not match it.
type Tally struct {
	Prepare, Commit       bool // which part the line names
	PrepareYes, PrepareNo []lab.ID
	CommitYes, CommitNo   []lab.ID
}

func (t *Tally) String() string {
	var parts []string
	if t.Prepare {
		parts = append(parts, fmt.Sprintf("prepare yes %s, no %s", ids(t.PrepareYes), ids(t.PrepareNo)))
	}
	if t.Commit {
		parts = append(parts, fmt.Sprintf("commit %s, abort %s", ids(t.CommitYes), ids(t.CommitNo)))
	}
	return strings.Join(parts, "; ")
}

// Error is a problem in a case file, reported as file:line: message.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.File == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Parse reads a case. file names it in error messages.
func Parse(file, text string) (*Case, error) {
	c := &Case{File: file, N: 4, Manual: true, Balances: map[string]int{}}
	seen := map[string]bool{}
	// An editor may begin the file with a byte-order mark, which would
	// otherwise stick to the first header's name.
	text = strings.TrimPrefix(text, "\ufeff")
	for i, raw := range strings.Split(text, "\n") {
		// A tab is a space: "expect\tP0: ..." is an expect line.
		line := strings.TrimSpace(stripComment(strings.ReplaceAll(raw, "\t", " ")))
		if line == "" {
			continue
		}
		fail := func(format string, args ...any) error {
			return &Error{File: file, Line: i + 1, Msg: fmt.Sprintf(format, args...)}
		}
		if strings.HasPrefix(line, "//") {
			return nil, fail("%q: a comment starts with \"#\", not \"//\"", line)
		}
		left, right, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fail("want \"targets: command\", \"key: value\" or \"expect targets: what\", got %q", line)
		}
		left, right = strings.TrimSpace(left), strings.TrimSpace(right)
		key := strings.ToLower(left)
		switch {
		case strings.HasPrefix(key, "expect ") || key == "expect":
			e, err := parseExpect(c, strings.TrimSpace(left[len("expect"):]), right)
			if err != nil {
				return nil, fail("%v", err)
			}
			e.Line = i + 1
			c.Expects = append(c.Expects, e)
		case isHeader(key):
			if len(c.Steps) > 0 || len(c.Expects) > 0 {
				return nil, fail("header %q after the first step; headers come first", left)
			}
			if seen[key] {
				return nil, fail("header %q given twice", left)
			}
			seen[key] = true
			if err := c.header(key, right); err != nil {
				return nil, fail("%s: %v", left, err)
			}
		case strings.HasPrefix(key, "check "):
			if len(c.Expects) > 0 {
				return nil, fail("step after the first expect line; expect lines come last")
			}
			e, err := parseExpect(c, strings.TrimSpace(left[len("check"):]), right)
			if err != nil {
				return nil, fail("%v", err)
			}
			e.Line = i + 1
			if err := c.checkExpect(e); err != nil {
				return nil, fail("%v", err)
			}
			c.Steps = append(c.Steps, Step{Line: i + 1, Text: line, Targets: e.Targets, Client: e.Client, Action: Assert, Expect: &e})
		case key == "tick" && strings.HasPrefix(strings.ToLower(right), "until"):
			if len(c.Expects) > 0 {
				return nil, fail("step after the first expect line; expect lines come last")
			}
			e, limit, err := parseTickUntil(c, right)
			if err != nil {
				return nil, fail("%v", err)
			}
			if err := c.tickBudget(limit); err != nil {
				return nil, fail("tick: at most %v", err)
			}
			e.Line = i + 1
			// Checked with the step in place: its own ticks may bring
			// what it waits for, a view change for one.
			c.Steps = append(c.Steps, Step{Line: i + 1, Text: "tick: " + right, Action: TickUntil, Expect: e, Ticks: limit})
			if err := c.checkExpect(*e); err != nil {
				return nil, fail("%v", err)
			}
		case key == "network":
			if len(c.Expects) > 0 {
				return nil, fail("step after the first expect line; expect lines come last")
			}
			s := Step{Line: i + 1, Text: right}
			if err := s.parseNetwork(right); err != nil {
				return nil, fail("%v", err)
			}
			for _, id := range append(slices.Clone(s.Filter.From), s.Filter.To...) {
				if int(id) >= c.N {
					return nil, fail("%s is not a replica of this %d-replica cluster", id, c.N)
				}
			}
			c.Steps = append(c.Steps, s)
		case key == "tick":
			n, err := positive(right)
			if err == nil {
				err = c.tickBudget(n)
			}
			if err != nil {
				return nil, fail("tick: %v", err)
			}
			if len(c.Expects) > 0 {
				return nil, fail("step after the first expect line; expect lines come last")
			}
			c.Steps = append(c.Steps, Step{Line: i + 1, Text: "tick " + right, Action: Tick, Ticks: n})
		default:
			if err := unknownKey(left); err != nil {
				return nil, fail("%v", err)
			}
			if len(c.Expects) > 0 {
				return nil, fail("step after the first expect line; expect lines come last")
			}
			s, err := ParseStep(left, right)
			if err != nil {
				return nil, fail("%v", err)
			}
			for _, id := range s.Targets {
				if int(id) >= c.N {
					return nil, fail("%s is not a replica of this %d-replica cluster", id, c.N)
				}
			}
			if s.Action == VoteTo && int(s.To) >= c.N {
				return nil, fail("%s is not a replica of this %d-replica cluster", s.To, c.N)
			}
			if s.Action == VoteTo || s.Action == Forge || s.Action == LieStep {
				for _, id := range s.Targets {
					if c.Honest(id) {
						return nil, fail("only a Byzantine replica can %q; %s is honest (add it to the byzantine header)", s.Text, id)
					}
				}
			}
			if s.Forgery != nil {
				for _, id := range append(slices.Clone(s.Forgery.To), s.Forgery.As) {
					if int(id) >= c.N {
						return nil, fail("%s is not a replica of this %d-replica cluster", id, c.N)
					}
				}
			}
			s.Line = i + 1
			c.Steps = append(c.Steps, s)
		}
	}
	if c.Title == "" {
		return nil, &Error{File: file, Line: 1, Msg: "no title header"}
	}
	if !seen["points"] {
		return nil, &Error{File: file, Line: 1, Msg: "no points header"}
	}
	if len(c.Phases) == 0 {
		return nil, &Error{File: file, Line: 1, Msg: "no phases header"}
	}
	if len(c.Expects) == 0 {
		return nil, &Error{File: file, Line: 1, Msg: "no expect lines: a case must say what has to hold"}
	}
	for _, e := range c.Expects {
		if err := c.checkExpect(e); err != nil {
			return nil, &Error{File: file, Line: e.Line, Msg: err.Error()}
		}
	}
	if err := c.contradiction(); err != nil {
		return nil, err
	}
	return c, nil
}

// stripComment cuts a comment off a line: a "#" that starts the line,
// after any indentation, or that follows a space or a tab, starts one, to
// the end of the line. A "#" inside a word ("n#1") is kept, so that only
// what a reader takes for a comment is dropped; no step, expectation or
// operation has a "#" after a space.
func stripComment(line string) string {
	for i := range len(line) {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}

// checkExpect checks an expect or check line against the steps before it:
// the replicas it names exist, the request it names has been sent, and
// what it expects is within reach (see possible).
func (c *Case) checkExpect(e Expect) error {
	sends := c.requests()
	if e.Kind == ExpectOutcome && e.Request > sends {
		return fmt.Errorf("request %d is never sent before this line (the client sends %d)", e.Request, sends)
	}
	for _, id := range e.Targets {
		if int(id) >= c.N {
			return fmt.Errorf("%s is not a replica of this %d-replica cluster", id, c.N)
		}
	}
	if (e.Kind == ExpectHistoryAgrees || e.Kind == ExpectLogAgrees) && int(e.Other) >= c.N {
		return fmt.Errorf("%s is not a replica of this %d-replica cluster", e.Other, c.N)
	}
	if t := e.Votes; t != nil {
		for _, id := range slices.Concat(t.PrepareYes, t.PrepareNo, t.CommitYes, t.CommitNo) {
			if int(id) >= c.N {
				return fmt.Errorf("%s is not a replica of this %d-replica cluster", id, c.N)
			}
		}
	}
	return c.possible(e)
}

// requests counts the requests the steps so far make the client send or
// ask for: sent and queued ones, and the operations a Byzantine replica
// proposes in its name.
func (c *Case) requests() int {
	n := 0
	for _, s := range c.Steps {
		switch {
		case s.Action == Send || s.Action == Queue:
			n += s.Times
		case s.Action == Forge:
			n += s.Forgery.registers() * len(s.Targets)
		}
	}
	return n
}

// MaxTicks bounds the ticks of one case: its "tick: N" lines and the "at
// most N" of its "tick: until" lines, all together. Every tick is played
// under every seed and leaves its mark in the trace, so a case asking for
// a billion would run out of memory or time, and the grade would blame
// the replica. The shipped cases tick 600 times at most; the view-change
// timer, doubling from 20 ticks, times out eight views in a row within
// 5,100.
const MaxTicks = 10000

// tickBudget checks that n more ticks keep the case within MaxTicks.
func (c *Case) tickBudget(n int) error {
	if n > MaxTicks {
		return fmt.Errorf("%d: a case ticks at most %d times in all", n, MaxTicks)
	}
	spent := 0
	for _, s := range c.Steps {
		if s.Action == Tick || s.Action == TickUntil {
			spent += s.Ticks
		}
	}
	if spent+n > MaxTicks {
		return fmt.Errorf("%d: with the %d ticks of the lines before, more than the %d a case ticks at most in all", n, spent, MaxTicks)
	}
	return nil
}

// Phases a case may name; they are the TODO phases of the skeleton, in
// the order the handout takes them.
func Phases() []string { return slices.Clone(phases) }

// PhasesAfter lists the phases the handout takes after p; none for "" or
// an unknown phase.
func PhasesAfter(p string) []string {
	if i := slices.Index(phases, p); i >= 0 {
		return slices.Clone(phases[i+1:])
	}
	return nil
}

var phases = []string{"pre-prepare", "prepare", "commit", "checkpoint", "view-change", "recovery"}

var headers = []string{"title", "points", "phases", "balances", "votes", "replicas", "byzantine", "checkpoint-interval", "window", "explore"}

// Explore bounds the systematic search of a case's delivery orders.
type Explore struct {
	Delays, Deliveries int
}

var exploreRE = regexp.MustCompile(`^(\d+) delays? in the first (\d+) deliver(?:y|ies)$`)

// Runs is how many orders the search plays: every way to spend at most
// Delays overtakings among Deliveries deliveries.
func (e Explore) Runs() int {
	// Delays of total cost k over d deliveries: compositions, counted by
	// a small table; the canonical order is one more.
	ways := make([]int, e.Delays+1) // ways[k]: schedules of cost exactly k
	ways[0] = 1
	for range e.Deliveries {
		next := make([]int, e.Delays+1)
		for k := range ways {
			for r := 0; k+r <= e.Delays; r++ {
				next[k+r] = min(next[k+r]+ways[k], maxExploreRuns+1) // saturate: only "too many" matters beyond
			}
		}
		ways = next
	}
	n := 0
	for _, w := range ways {
		n = min(n+w, maxExploreRuns+1)
	}
	return n
}

func isHeader(key string) bool { return slices.Contains(headers, key) }

// lineWords are the words other than headers that may stand before a
// line's colon.
var lineWords = []string{"client", "tick", "network", "expect", "check"}

// unknownKey explains a line whose left side is one word that names
// neither a header, nor a replica, nor the client, tick or network: a
// misspelt header ("replica: 4") would otherwise be reported as a replica
// name that is not one. It suggests the nearest word, within two typos.
// It is nil for anything else, which the step parser explains.
func unknownKey(left string) error {
	key := strings.ToLower(strings.TrimSpace(left))
	if key == "" || strings.ContainsAny(key, ", ()") || slices.Contains(lineWords, key) {
		return nil
	}
	if _, err := lab.ParseID(key); err == nil {
		return nil
	}
	if strings.Contains(replicaError(key).Error(), "did you mean") {
		return nil // "Pl" for P1: the replica parser's guess is the better one
	}
	list := strings.Join(headers, ", ")
	switch near := Nearest(key, slices.Concat(headers, lineWords)); {
	case isHeader(near):
		return fmt.Errorf("unknown header %q: did you mean %q? (the headers are %s)", left, near, list)
	case near != "":
		return fmt.Errorf("%q is neither a header nor a replica name: did you mean %q?", left, near)
	}
	return fmt.Errorf("%q is neither a header (%s) nor a replica name (P0, P1, ...)", left, list)
}

// Nearest returns the word of words closest to w, when at most two edits
// (a letter added, dropped or changed) away and fewer than w has letters;
// otherwise "". The consoles guess a mistyped command with it, as the case
// parser guesses a header.
func Nearest(w string, words []string) string {
	best, bestD := "", 3
	for _, c := range words {
		if d := editDistance(w, c); d < bestD && d < len(w) {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func (c *Case) header(key, v string) error {
	switch key {
	case "title":
		if v == "" {
			return fmt.Errorf("empty title")
		}
		c.Title = v
	case "points":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a whole number of points", v)
		}
		c.Points = n
	case "phases":
		for _, p := range splitList(v) {
			if !slices.Contains(phases, p) {
				return fmt.Errorf("unknown phase %q (phases are %s)", p, strings.Join(phases, ", "))
			}
			c.Phases = append(c.Phases, p)
		}
	case "balances":
		b, err := parseBalances(v)
		if err != nil {
			return err
		}
		c.Balances = b
	case "votes":
		switch v {
		case "manual":
			c.Manual = true
		case "auto", "automatic":
			c.Manual = false
		default:
			return fmt.Errorf("%q: want manual or auto", v)
		}
	case "replicas":
		n, err := positive(v)
		if err != nil {
			return err
		}
		if n < 4 {
			return fmt.Errorf("%d replicas tolerate no fault; use at least 4", n)
		}
		c.N = n
	case "byzantine":
		ids, err := parseIDs(v)
		if err != nil {
			return err
		}
		c.Byzantine = ids
	case "checkpoint-interval":
		n, err := positive(v)
		if err != nil {
			return err
		}
		c.CheckpointInterval = n
	case "window":
		n, err := positive(v)
		if err != nil {
			return err
		}
		c.Window = n
	case "explore":
		m := exploreRE.FindStringSubmatch(strings.ToLower(strings.TrimSpace(v)))
		if m == nil {
			return fmt.Errorf("%q: want \"D delays in the first N deliveries\", such as \"1 delay in the first 40 deliveries\"", v)
		}
		d, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		e := Explore{Delays: d, Deliveries: n}
		if d < 1 || n < 1 {
			return fmt.Errorf("%q: both numbers must be at least 1", v)
		}
		if n >= maxExploreRuns || d >= maxExploreRuns || e.Runs() > maxExploreRuns {
			return fmt.Errorf("%q would play more than %d orders, more than fit in a grade (fewer delays or deliveries)", v, maxExploreRuns)
		}
		c.Explore = e
	}
	return nil
}

// maxExploreRuns bounds the orders one case's search may play.
const maxExploreRuns = 2000

// ParseStep reads a console line already split at its first colon: the
// targets ("P0, P1 (replica)" or "client") and the command.
func ParseStep(targets, command string) (Step, error) {
	s := Step{Text: command}
	if strings.EqualFold(strings.TrimSpace(targets), "client") {
		s.Client = true
		s.Action = Send
		if w := strings.Fields(strings.ToLower(command)); len(w) > 0 && w[0] == "queue" {
			s.Action, command = Queue, "send "+strings.TrimSpace(strings.TrimSpace(command)[len("queue"):])
		}
		op, times, err := parseSend(command)
		if err != nil {
			return s, err
		}
		s.Op, s.Times = op, times
		return s, nil
	}
	ids, err := parseIDs(targets)
	if err != nil {
		return s, err
	}
	s.Targets = ids
	if err := s.parseCommand(command); err != nil {
		return s, err
	}
	return s, nil
}

// ParseCommand reads a replica console command on its own ("prepare yes",
// "ack to P1 abort", "view change", ...), as typed at one replica's console.
func ParseCommand(command string) (Step, error) {
	s := Step{Text: command}
	err := s.parseCommand(command)
	return s, err
}

// Commands lists the replica commands, for help texts and error messages.
const Commands = "tx [OPERATION], prepare yes|no, prepare to PX yes|no, ack commit|abort, ack to PX commit|abort, progress, crash, recover, view change, checkpoint, status, list; a Byzantine replica also: tx OPERATION to PX, send KIND ... to PX (VIEW-CHANGE and NEW-VIEW with chosen contents too), lie in checkpoints|state replies [view V|snapshot|aborted|checkpoint nN]|new-view null at nN|new-view with N view changes, withhold KIND [nN] from PX, stop lying"

func (s *Step) parseCommand(command string) error {
	w := strings.Fields(strings.ToLower(command))
	if len(w) == 0 {
		return fmt.Errorf("no command (commands: %s)", Commands)
	}
	switch {
	case w[0] == "send":
		return s.parseSendForged(command)
	case w[0] == "lie" || w[0] == "withhold" || (w[0] == "stop" && len(w) == 2 && w[1] == "lying"):
		return s.parseLie(command)
	case w[0] == "tx" && slices.Contains(w, "to"):
		return s.parseProposeTo(command)
	case len(w) == 1 && strings.Contains(w[0], "=") && strings.Contains(w[0], "operation"):
		op := strings.TrimSpace(command)
		if err := CheckOperation(op); err != nil {
			return err
		}
		s.Action, s.Op = Data, op
	case w[0] == "tx":
		s.Action, s.Cmd = Do, lab.Command{Op: lab.OpPropose}
		if len(w) > 1 {
			op := strings.TrimSpace(strings.TrimSpace(command)[2:])
			if err := CheckOperation(op); err != nil {
				return err
			}
			s.Cmd.Arg = op
		}
	case w[0] == "prepare" || w[0] == "ack":
		op, yes, no := lab.OpPrepare, "yes", "no"
		if w[0] == "ack" {
			op, yes, no = lab.OpAck, "commit", "abort"
		}
		usage := fmt.Errorf("want %q, %q or %q", w[0]+" "+yes, w[0]+" "+no, w[0]+" to PX "+yes+"|"+no)
		var vote string
		switch {
		case len(w) == 2:
			s.Action, vote = Do, w[1]
		case len(w) == 4 && w[1] == "to":
			to, err := lab.ParseID(w[2])
			if err != nil || to == lab.Client {
				return usage
			}
			s.Action, s.To, vote = VoteTo, to, w[3]
		default:
			return usage
		}
		switch vote {
		case yes:
			s.Cmd = lab.Command{Op: op, Vote: true}
		case no:
			s.Cmd = lab.Command{Op: op}
		default:
			return usage
		}
	case len(w) == 1 && w[0] == "progress":
		s.Action, s.Cmd = Do, lab.Command{Op: lab.OpProgress}
	case len(w) == 1 && w[0] == "checkpoint":
		s.Action, s.Cmd = Do, lab.Command{Op: lab.OpCheckpoint}
	case len(w) == 2 && w[0] == "view" && w[1] == "change", len(w) == 1 && w[0] == "viewchange":
		s.Action, s.Cmd = Do, lab.Command{Op: lab.OpViewChange}
	case len(w) == 1 && w[0] == "crash":
		s.Action = Crash
	case len(w) == 1 && w[0] == "recover":
		s.Action, s.Cmd = Recover, lab.Command{Op: lab.OpRecover}
	case len(w) == 1 && (w[0] == "status" || w[0] == "list"):
		s.Action = Show
	default:
		return fmt.Errorf("unknown command %q (commands: %s)", strings.TrimSpace(command), Commands)
	}
	return nil
}

// MaxTimes bounds the N of "send ... times N". A client at the keyboard
// queues every request of the line at once, and a queue holds a bounded
// number of messages, so a larger N would only lose requests, and flood
// the console with the news.
const MaxTimes = 5000

// parseSend reads the client's "send OPERATION [times N]"; "send" and "tx"
// may be left out, as in the lab's transcripts.
func parseSend(command string) (string, int, error) {
	text := strings.TrimSpace(command)
	if f := strings.Fields(text); len(f) > 0 && (strings.EqualFold(f[0], "send") || strings.EqualFold(f[0], "tx")) {
		text = strings.TrimSpace(text[len(f[0]):])
	}
	times := 1
	if op, n, ok := strings.Cut(" "+text, " times "); ok {
		t, err := positive(strings.TrimSpace(n))
		if err != nil {
			return "", 0, fmt.Errorf("times: %v", err)
		}
		if t > MaxTimes {
			return "", 0, fmt.Errorf("times %d: at most %d requests go out on one line (the lab's largest case sends 1000)", t, MaxTimes)
		}
		text, times = strings.TrimSpace(op), t
	}
	op, invalid := strings.CutSuffix(text, "(invalid)")
	if text = strings.TrimSpace(op); text == "" {
		// Said apart, as the bank's own message would quote the verb or
		// the times as a malformed operation.
		return "", 0, fmt.Errorf("client: want \"send account=A,amount=N,operation=deposit|withdraw [times N]\": the operation is missing (such as account=alice,amount=10,operation=deposit)")
	}
	if invalid {
		// A request meant to be refused: well formed, but the bank's rules
		// are not checked.
		if _, err := lab.ParseOperation(text); err != nil {
			return "", 0, fmt.Errorf("client: %v", err)
		}
		return text, times, nil
	}
	if err := CheckOperation(text); err != nil {
		return "", 0, fmt.Errorf("client: want \"send account=A,amount=N,operation=deposit|withdraw [times N]\": %v", err)
	}
	return text, times, nil
}

// CheckOperation checks an operation as the bank would before running it:
// well formed, a positive whole amount, deposit or withdraw. A case that
// means to send a request the replicas must refuse ends it with
// "(invalid)". A word after the operation ("x3") gets a hint.
func CheckOperation(op string) error {
	if before, after, ok := strings.Cut(strings.TrimSpace(op), " "); ok {
		after = strings.TrimSpace(after)
		if n, ok := strings.CutPrefix(strings.ToLower(after), "x"); ok {
			if _, err := strconv.Atoi(n); err == nil {
				return fmt.Errorf("operation %q: %q after the operation: write \"times %s\" to send it %s times", before, after, n, n)
			}
		}
		return fmt.Errorf("operation %q: %q after the operation (two commands on one line? put each on its own line)", before, after)
	}
	o, err := lab.ParseOperation(op)
	if err != nil {
		if _, v, ok := strings.Cut(op, "amount="); ok {
			v, _, _ = strings.Cut(v, ",")
			if strings.ContainsAny(v, "lIO") {
				return fmt.Errorf("operation %q: amount %q is not a whole number (a letter l or O for a digit 1 or 0?)", op, v)
			}
		}
		return err
	}
	switch {
	case o.Amount <= 0:
		return fmt.Errorf("operation %q: amount %d is not a positive whole number (end the line with \"(invalid)\" to send it on purpose)", op, o.Amount)
	case o.Kind != "deposit" && o.Kind != "withdraw":
		return fmt.Errorf("operation %q: unknown operation %q: want deposit or withdraw (end the line with \"(invalid)\" to send it on purpose)", op, o.Kind)
	}
	return nil
}

// replicaError says that s names no replica, guessing the name meant when
// a letter stands for a digit ("Pl" for P1, "PO" for P0).
func replicaError(s string) error {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == 'P' || s[0] == 'p') {
		fixed := strings.NewReplacer("l", "1", "I", "1", "i", "1", "O", "0", "o", "0").Replace(s[1:])
		if _, err := strconv.Atoi(fixed); err == nil {
			return fmt.Errorf("unknown replica %q: did you mean P%s?", s, fixed)
		}
	}
	return fmt.Errorf("%q is not a replica name (P0, P1, ...)", s)
}

func parseExpect(c *Case, targets, what string) (Expect, error) {
	e := Expect{Text: what}
	switch {
	case targets == "":
		return e, fmt.Errorf("expect names no target: want \"expect P0, P1: what\"")
	case strings.EqualFold(targets, "client"):
		e.Client = true
	default:
		ids, err := parseIDs(targets)
		if err != nil {
			return e, err
		}
		e.Targets = ids
	}
	w := strings.Fields(strings.ToLower(what))
	usage := fmt.Errorf("unknown expectation %q (want: request N committed|aborted|pre-prepared|prepared|not committed|not decided|not pre-prepared|not prepared [at nS] [in view V], balance ACCOUNT=N ..., view V primary PX, not in view V, no view change, executed N, null request at nS, stable checkpoint N, stable checkpoints N, log at most N, log starts after nN, history agrees with PX, log agrees with PX, votes at nS: prepare yes IDS, no IDS; commit IDS, abort IDS, sent at most|least N [KIND] messages, snapshot in final checkpoint file, snapshot not in final checkpoint file)", what)
	if len(w) == 0 {
		return e, usage
	}
	if e.Client && w[0] != "request" {
		return e, fmt.Errorf("the client can only expect \"request N committed|aborted|not committed|not decided\"")
	}
	var err error
	switch {
	case w[0] == "request" && len(w) >= 3:
		e.Kind, e.InView = ExpectOutcome, -1
		if e.Request, err = positive(w[1]); err != nil {
			return e, fmt.Errorf("request: %v", err)
		}
		rest := w[2:]
		word := rest[0]
		if word == "not" && len(rest) > 1 {
			word, rest = "not "+rest[1], rest[1:]
		}
		rest = rest[1:]
		want, ok := wantWords[word]
		if !ok {
			return e, fmt.Errorf("request %s: want committed, aborted, prepared, not committed, not decided or not prepared, got %q", w[1], word)
		}
		e.Want = want
		for len(rest) > 0 {
			switch {
			case len(rest) >= 2 && rest[0] == "at" && strings.HasPrefix(rest[1], "n"):
				if e.AtSeq, err = positive(rest[1][1:]); err != nil {
					return e, fmt.Errorf("request %s: at: %v", w[1], err)
				}
				rest = rest[2:]
			case len(rest) >= 3 && rest[0] == "in" && rest[1] == "view":
				if e.InView, err = nonNegative(rest[2]); err != nil {
					return e, fmt.Errorf("request %s: in view: %v", w[1], err)
				}
				rest = rest[3:]
			default:
				return e, fmt.Errorf("request %s: unexpected %q (want \"at nS\" or \"in view V\")", w[1], strings.Join(rest, " "))
			}
		}
		if (e.AtSeq > 0 || e.InView >= 0) && want != WantCommitted && want != WantAborted {
			return e, fmt.Errorf("request %s: \"at\" and \"in view\" go with committed or aborted", w[1])
		}
		if e.Client && want != WantCommitted && want != WantAborted && want != WantNotCommitted && want != WantUndecided || e.Client && (e.AtSeq > 0 || e.InView >= 0) {
			return e, fmt.Errorf("the client knows only whether a request committed, aborted or is not decided")
		}
	case w[0] == "balance" && len(w) >= 2:
		e.Kind = ExpectBalance
		if e.Balances, err = parseBalances(strings.Join(w[1:], ",")); err != nil {
			return e, err
		}
	case w[0] == "view" && len(w) == 4 && w[2] == "primary":
		e.Kind = ExpectView
		if e.View, err = strconv.Atoi(w[1]); err != nil || e.View < 0 {
			return e, fmt.Errorf("view %q is not a view number", w[1])
		}
		if e.Primary, err = lab.ParseID(w[3]); err != nil {
			return e, err
		}
		if lab.Primary(e.View, c.N) != e.Primary {
			return e, fmt.Errorf("view %d is led by %s, not %s", e.View, lab.Primary(e.View, c.N), e.Primary)
		}
	case w[0] == "executed" && len(w) == 2:
		e.Kind = ExpectExecuted
		e.N, err = nonNegative(w[1])
	case w[0] == "stable" && len(w) == 3 && w[1] == "checkpoint":
		e.Kind = ExpectStable
		e.N, err = nonNegative(w[2])
	case w[0] == "stable" && len(w) == 3 && w[1] == "checkpoints":
		e.Kind = ExpectStableCount
		e.N, err = nonNegative(w[2])
	case len(w) == 4 && w[0] == "log" && w[1] == "at" && w[2] == "most":
		e.Kind = ExpectLogAtMost
		e.N, err = nonNegative(w[3])
	case len(w) == 4 && w[0] == "log" && w[1] == "starts" && w[2] == "after":
		e.Kind = ExpectLogAfter
		if !strings.HasPrefix(w[3], "n") {
			return e, fmt.Errorf("log starts after: want a sequence number such as n4, got %q", w[3])
		}
		e.N, err = nonNegative(w[3][1:])
	case len(w) == 4 && (w[0] == "history" || w[0] == "log") && w[1] == "agrees" && w[2] == "with":
		e.Kind = ExpectHistoryAgrees
		if w[0] == "log" {
			e.Kind = ExpectLogAgrees
		}
		if e.Other, err = lab.ParseID(w[3]); err != nil || e.Other == lab.Client {
			return e, replicaError(strings.Fields(what)[3])
		}
		if slices.Contains(e.Targets, e.Other) {
			return e, fmt.Errorf("%s agrees with itself: name another replica", e.Other)
		}
	case len(w) >= 3 && w[0] == "votes" && w[1] == "at":
		e.Kind = ExpectVotes
		e.N, e.Votes, err = parseTally(what)
	case strings.Join(w, " ") == "snapshot in final checkpoint file":
		e.Kind = ExpectInFinalCheckpoint
	case strings.Join(w, " ") == "snapshot not in final checkpoint file":
		e.Kind, e.Not = ExpectInFinalCheckpoint, true
	case len(w) == 4 && w[0] == "not" && w[1] == "in" && w[2] == "view":
		e.Kind, e.Not = ExpectView, true
		if e.View, err = nonNegative(w[3]); err != nil {
			return e, fmt.Errorf("not in view: %v", err)
		}
	case strings.Join(w, " ") == "no view change":
		e.Kind, e.View, e.Primary = ExpectView, 0, 0
	case len(w) == 4 && w[0] == "null" && w[1] == "request" && w[2] == "at" && strings.HasPrefix(w[3], "n"):
		e.Kind = ExpectNull
		e.N, err = positive(w[3][1:])
	case len(w) >= 5 && w[0] == "sent" && w[1] == "at" && (w[2] == "most" || w[2] == "least") && w[len(w)-1] == "messages":
		e.Kind, e.Not = ExpectSentAtMost, w[2] == "least"
		if e.N, err = nonNegative(w[3]); err != nil {
			return e, fmt.Errorf("sent at %s: %v", w[2], err)
		}
		switch len(w) {
		case 5:
		case 6:
			k, ok := parseKind(w[4])
			if !ok {
				return e, fmt.Errorf("sent at most: unknown message kind %q", w[4])
			}
			e.Kind = ExpectSentAtMost
			e.Msg = k
		default:
			return e, usage
		}
	default:
		return e, usage
	}
	return e, err
}

// parseTally reads "votes at nS: prepare yes IDS, no IDS; commit IDS,
// abort IDS", where either part may stand alone and IDS is a list of
// replicas separated by spaces, or "none".
func parseTally(what string) (int, *Tally, error) {
	usage := fmt.Errorf("want \"votes at nS: prepare yes P0 P1, no P3; commit P0 P1, abort P3\" (either part alone, \"none\" for no replica)")
	head, body, ok := strings.Cut(what, ":")
	w := strings.Fields(strings.ToLower(head))
	if !ok || len(w) != 3 || !strings.HasPrefix(w[2], "n") {
		return 0, nil, usage
	}
	seq, err := positive(w[2][1:])
	if err != nil {
		return 0, nil, fmt.Errorf("votes at: %v", err)
	}
	t := &Tally{}
	for part := range strings.SplitSeq(body, ";") {
		yes, no, ok := strings.Cut(strings.ToLower(strings.TrimSpace(part)), ",")
		if !ok {
			return 0, nil, usage
		}
		var first, second *[]lab.ID
		var noWord string
		switch f := strings.Fields(yes); {
		case len(f) >= 2 && f[0] == "prepare" && f[1] == "yes" && !t.Prepare:
			t.Prepare, yes, first, second, noWord = true, strings.Join(f[2:], " "), &t.PrepareYes, &t.PrepareNo, "no"
		case len(f) >= 1 && f[0] == "commit" && !t.Commit:
			t.Commit, yes, first, second, noWord = true, strings.Join(f[1:], " "), &t.CommitYes, &t.CommitNo, "abort"
		default:
			return 0, nil, usage
		}
		nf := strings.Fields(no)
		if len(nf) == 0 || nf[0] != noWord {
			return 0, nil, usage
		}
		if *first, err = tallyIDs(yes); err != nil {
			return 0, nil, err
		}
		if *second, err = tallyIDs(strings.Join(nf[1:], " ")); err != nil {
			return 0, nil, err
		}
	}
	return seq, t, nil
}

// tallyIDs reads "P0 P1" or "none", sorted.
func tallyIDs(s string) ([]lab.ID, error) {
	f := strings.Fields(s)
	switch {
	case len(f) == 0:
		return nil, fmt.Errorf("votes at: name the replicas, or \"none\"")
	case len(f) == 1 && f[0] == "none":
		return nil, nil
	}
	var out []lab.ID
	for _, item := range f {
		id, err := lab.ParseID(item)
		if err != nil || id == lab.Client {
			return nil, replicaError(item)
		}
		if slices.Contains(out, id) {
			return nil, fmt.Errorf("votes at: %s listed twice in one list", id)
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return out, nil
}

// parseIDs reads "P0 (primary), P1 (replica), P2" or "all" is not accepted:
// a case names its replicas, as the lab's transcripts do.
func parseIDs(s string) ([]lab.ID, error) {
	var ids []lab.ID
	seen := map[lab.ID]bool{}
	for _, item := range splitList(StripNotes(s)) {
		id, err := lab.ParseID(item)
		if err != nil {
			return nil, replicaError(item)
		}
		if id == lab.Client {
			return nil, fmt.Errorf("the client cannot be listed with replicas")
		}
		if seen[id] {
			return nil, fmt.Errorf("%s listed twice", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no replica named")
	}
	return ids, nil
}

// StripNotes removes parenthesised notes such as "(replica, Byzantine)"
// or "(port 7000)", which the lab's transcripts put after a name.
func StripNotes(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func parseBalances(s string) (map[string]int, error) {
	b := map[string]int{}
	for _, item := range splitList(s) {
		acct, amt, ok := strings.Cut(item, "=")
		if !ok || strings.TrimSpace(acct) == "" {
			return nil, fmt.Errorf("%q: want ACCOUNT=AMOUNT", item)
		}
		n, err := nonNegative(strings.TrimSpace(amt))
		if err != nil {
			return nil, fmt.Errorf("%q: %v", item, err)
		}
		b[strings.TrimSpace(acct)] = n
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("no balances given")
	}
	return b, nil
}

func positive(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive whole number", s)
	}
	return n, nil
}

func nonNegative(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	return n, nil
}
