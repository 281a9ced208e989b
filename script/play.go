package script

import (
	"fmt"
	"slices"
	"strings"

	"pbftlab/lab"
)

// Cluster is what a case runs against: the simulator when grading, the TCP
// cluster when a case is replayed at the keyboard.
type Cluster interface {
	N() int
	// Send has the client send a new request and returns its number.
	Send(op string) int
	// Request returns request n as the client sent it.
	Request(n int) lab.Request
	// Outcome says whether the client accepted an outcome for request n.
	Outcome(n int) (done, committed bool)
	Do(id lab.ID, c lab.Command) error
	VoteTo(from, to lab.ID, op lab.Op, yes bool) error
	Crash(id lab.ID)
	Recover(id lab.ID) error
	Tick()
	Status(id lab.ID) (lab.Status, error)
	Balances(id lab.ID) map[string]int
	// StableCheckpoints lists the sequence numbers replica id reported
	// stable, in order.
	StableCheckpoints(id lab.ID) []int
	// Err is the first safety violation or replica failure, if any.
	Err() error
}

// Play runs c's steps against cl, writing each line to log in the lab's
// transcript format. A replica refusing a command is part of the story and
// does not stop the case; a safety violation or a replica failure does,
// and Play returns it. A check line that does not hold is logged.
func Play(c *Case, cl Cluster, log func(line string)) error {
	_, err := play(c, cl, log)
	return err
}

// Run plays c against cl and evaluates its expect lines. It returns every
// check and expect line that did not hold, and the safety violation or
// replica failure that stopped the case, if one did; the expect lines are
// then left unevaluated.
func Run(c *Case, cl Cluster, log func(line string)) ([]Failure, error) {
	failures, err := play(c, cl, log)
	if err != nil {
		return failures, err
	}
	if _, ok := cl.(Adversary); !ok {
		for _, e := range c.Expects {
			if e.Kind == ExpectSentAtMost {
				// Not the replica's failure: the run cannot be judged
				// on that line here.
				return failures, fmt.Errorf("line %d: this cluster cannot count messages for %q (only the simulator can)", e.Line, e.Text)
			}
		}
	}
	return append(failures, Check(c, cl)...), nil
}

// player plays one case: what it remembers between steps.
type player struct {
	c    *Case
	cl   Cluster
	log  func(line string)
	sent int // requests the client has sent or been made to ask for
	// lies are what each Byzantine replica lies about (see "lie in").
	lies map[lab.ID][]Lie
	// proposed is the last "tx ... to" of each Byzantine primary.
	proposed map[lab.ID]proposal
}

func play(c *Case, cl Cluster, log func(line string)) ([]Failure, error) {
	ps := &player{c: c, cl: cl, log: log, lies: map[lab.ID][]Lie{}, proposed: map[lab.ID]proposal{}}
	var failures []Failure
	for _, st := range c.Steps {
		log(FormatStep(c, cl, st))
		f, err := ps.step(st)
		failures = append(failures, f...)
		if err != nil {
			return failures, err
		}
		if err := cl.Err(); err != nil {
			return failures, fmt.Errorf("after line %d (%s): %w", st.Line, strings.TrimSpace(st.Text), err)
		}
	}
	return failures, nil
}

// step carries out one line; a check line that does not hold returns its
// failures.
func (ps *player) step(st Step) ([]Failure, error) {
	cl, log := ps.cl, ps.log
	if ok, err := ps.adversary(st); ok {
		return nil, err
	}
	switch st.Action {
	case Send:
		for range st.Times {
			cl.Send(st.Op)
			ps.sent++
		}
	case Queue:
		adv, ok := cl.(Adversary)
		if !ok {
			return nil, fmt.Errorf("line %d: this cluster cannot queue requests (only the simulator can)", st.Line)
		}
		for range st.Times {
			adv.Queue(st.Op)
			ps.sent++
		}
	case Do:
		for _, id := range st.Targets {
			_ = cl.Do(id, st.Cmd) // a refusal is traced by the cluster
		}
	case VoteTo:
		for _, id := range st.Targets {
			if err := cl.VoteTo(id, st.To, st.Cmd.Op, st.Cmd.Vote); err != nil {
				log(fmt.Sprintf("    ! %v", err))
			}
		}
	case Crash:
		for _, id := range st.Targets {
			cl.Crash(id)
		}
	case Recover:
		for _, id := range st.Targets {
			_ = cl.Recover(id)
		}
	case Show:
		for _, id := range st.Targets {
			log(indent(ShowStatus(cl, id)))
		}
	case Tick:
		for range st.Ticks {
			cl.Tick()
		}
	case TickUntil:
		ticks := 0
		for ; ticks < st.Ticks && len(checkExpect(cl, *st.Expect)) > 0 && cl.Err() == nil; ticks++ {
			cl.Tick()
		}
		if err := cl.Err(); err != nil {
			// The run stopped (a panic, a safety violation): that is the
			// failure, not the expectation it stopped short of.
			log(fmt.Sprintf("    (stopped after %d ticks: %v)", ticks, err))
		} else if fs := checkExpect(cl, *st.Expect); len(fs) > 0 {
			log(fmt.Sprintf("    (still not so after %d ticks: %v)", ticks, fs[0]))
		} else {
			log(fmt.Sprintf("    (so after %d ticks)", ticks))
		}
	case Data:
		var fs []Failure
		for _, id := range st.Targets {
			if f, ok := checkData(cl, st, id); !ok {
				log(fmt.Sprintf("    ! %v", f))
				fs = append(fs, f)
			}
		}
		return fs, nil
	case Assert:
		fs := checkExpect(cl, *st.Expect)
		for _, f := range fs {
			log(fmt.Sprintf("    ! check failed: %v", f))
		}
		return fs, nil
	}
	return nil, nil
}

// checkData checks a data line against the request the replica is
// ordering: the one in its latest log entry.
func checkData(cl Cluster, st Step, id lab.ID) (Failure, bool) {
	f := Failure{Line: st.Line, Expect: st.Text, Replica: id, Expected: "the primary ordering " + st.Op + " (the data> line after tx)"}
	s, err := cl.Status(id)
	if err != nil {
		f.Found = "no status: " + err.Error()
		return f, false
	}
	f.View = s.View
	var last *lab.Entry
	for i := range s.Log {
		if s.Log[i].Request != nil && (last == nil || s.Log[i].Seq > last.Seq) {
			last = &s.Log[i]
		}
	}
	if last == nil {
		f.Found = "no request in its log: tx ordered nothing"
		return f, false
	}
	f.Seq = last.Seq
	f.Found = fmt.Sprintf("%s ordered at n%d", last.Request.Op, last.Seq)
	return f, last.Request.Op == st.Op
}

// FormatStep renders a step as the lab's transcripts do, each replica
// followed by its role: "P0 (primary), P3 (replica, Byzantine): progress".
func FormatStep(c *Case, cl Cluster, st Step) string {
	if st.Client {
		return "client: " + st.Text
	}
	switch st.Action {
	case Tick, TickUntil, Assert:
		return st.Text
	case Hold, Release, Reorder:
		return "network: " + st.Text
	}
	names := make([]string, len(st.Targets))
	for i, id := range st.Targets {
		names[i] = fmt.Sprintf("%s (%s)", id, Role(c, cl, id))
	}
	return strings.Join(names, ", ") + ": " + st.Text
}

// Role is "primary" or "replica", with ", Byzantine" for a Byzantine one.
func Role(c *Case, cl Cluster, id lab.ID) string {
	role := "replica"
	if st, err := cl.Status(id); err == nil && st.Primary == id {
		role = "primary"
	}
	if !c.Honest(id) {
		role += ", Byzantine"
	}
	return role
}

// ShowStatus renders what the lab's "status" command prints.
func ShowStatus(cl Cluster, id lab.ID) string {
	st, err := cl.Status(id)
	if err != nil {
		return fmt.Sprintf("%s: no status: %v", id, err)
	}
	return FormatStatus(st, cl.Balances(id))
}

// FormatStatus renders a status report as a console shows it.
func FormatStatus(st lab.Status, balances map[string]int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: view %d, primary %s", st.ID, st.View, st.Primary)
	if st.ViewChanging {
		b.WriteString(" (view change under way)")
	}
	fmt.Fprintf(&b, ", executed up to n%d, stable checkpoint n%d, watermarks (%d, %d]\n", st.LastExecuted, st.StableSeq, st.Low, st.High)
	accounts := make([]string, 0, len(balances))
	for k := range balances {
		accounts = append(accounts, k)
	}
	slices.Sort(accounts)
	b.WriteString("  balances:")
	if len(accounts) == 0 {
		b.WriteString(" none")
	}
	for _, k := range accounts {
		fmt.Fprintf(&b, " %s=%d", k, balances[k])
	}
	b.WriteByte('\n')
	b.WriteString("  history:")
	if len(st.History) == 0 {
		b.WriteString(" none")
	}
	b.WriteByte('\n')
	for _, o := range st.History {
		fmt.Fprintf(&b, "    n%d v%d %s#%d %s: %s%s\n", o.Seq, o.View, o.Request.Client, o.Request.Timestamp, o.Request.Op, outcomeWord(o.Committed), resultNote(o.Committed, o.Result))
	}
	for _, e := range st.Log {
		if e.Executed {
			continue
		}
		fmt.Fprintf(&b, "  pending n%d v%d %s: %s\n", e.Seq, e.View, describeRequest(e.Request), describeVotes(e))
	}
	return strings.TrimRight(b.String(), "\n")
}

// resultNote is a result in parentheses after the outcome's word, or
// nothing when the result only repeats it: an aborted request's result
// is "aborted" unless a replica says why.
func resultNote(committed bool, result string) string {
	if !committed && (result == "" || result == "aborted") {
		return ""
	}
	return " (" + result + ")"
}

func outcomeWord(committed bool) string {
	if committed {
		return "committed"
	}
	return "aborted"
}

func describeRequest(r *lab.Request) string {
	if r == nil {
		return "null request"
	}
	return fmt.Sprintf("%s#%d %s", r.Client, r.Timestamp, r.Op)
}

// describeVotes renders an entry's phase and votes: "pre-prepared; prepare
// yes P0 P3, no P1; commit none".
func describeVotes(e lab.Entry) string {
	phase := "no pre-prepare yet"
	if e.Phase != 0 {
		phase = e.Phase.String()
	}
	return fmt.Sprintf("%s; prepare yes %s, no %s; commit %s, abort %s", phase,
		ids(e.PrepareYes), ids(e.PrepareNo), ids(e.CommitYes), ids(e.CommitNo))
}

func ids(list []lab.ID) string {
	if len(list) == 0 {
		return "none"
	}
	return lab.JoinIDs(list, " ")
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
