package grader

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"

	"pbftlab/grader/report"
	"pbftlab/lab"
	"pbftlab/lab/sim"
)

// Robustness specs are scenarios beyond the lab's nine cases, scored apart
// from them (the score's "Robustness: X/Y" line). They drive the simulator
// directly rather than through a case file, because what they assert is
// not in the case language: that a request keeps the very sequence number
// it prepared at before the primary crashed, read from the replicas' logs,
// and that a view change happened with no one asking for it. Each checks
// the situation it builds before going on, so a tree whose normal case
// does not work yet fails with a message that says so.

// Scenario is one robustness spec.
type Scenario struct {
	Name   string // its case label, which selects it
	Title  string
	Points int
	Phases []string
	// Run plays the scenario with one seed and returns "" when it holds,
	// or what went wrong, naming the replica, its view and the sequence
	// number; the Sim holds the trace.
	Run func(newReplica lab.New, st Settings, seed uint64) (string, *sim.Sim)
	// Drops says that its votes are automatic, so that a stress run may
	// lose messages in it and check safety alone (see Stress).
	Drops bool
}

// Scenarios are the robustness specs, in the order they run.
var Scenarios = []Scenario{
	{
		Name:   "robust1_prepared_request_survives_view_change",
		Title:  "Robustness - a request prepared before the primary crashed commits in the next view at its sequence number",
		Points: 5,
		Phases: []string{"view-change"},
		Run:    preparedSurvivesViewChange,
	},
	{
		Name:   "robust2_timer_replaces_crashed_primary",
		Title:  "Robustness - with the primary crashed, the backups' timers change the view and the request commits",
		Points: 5,
		Phases: []string{"view-change"},
		Run:    timerReplacesCrashedPrimary,
		Drops:  true,
	},
}

// RegisterRobustness makes one spec per scenario; Run calls it while it
// builds the suite.
func RegisterRobustness(newReplica lab.New, st Settings) {
	ginkgo.Describe("PBFT robustness", func() {
		for _, sc := range Scenarios {
			ginkgo.It(sc.Title, ScenarioLabels(sc), func(ctx ginkgo.SpecContext) {
				runScenario(ctx, sc, newReplica, st)
			}, ginkgo.SpecTimeout(specLimit(st)+10*time.Second))
		}
	})
}

// ScenarioLabels are a scenario's spec labels.
func ScenarioLabels(sc Scenario) ginkgo.Labels {
	l := ginkgo.Labels{fmt.Sprintf("points:%d", sc.Points), "case:" + sc.Name, "kind:robustness"}
	for _, p := range sc.Phases {
		l = append(l, "phase:"+p)
	}
	return l
}

// runScenario plays the scenario under each seed.
func runScenario(ctx ginkgo.SpecContext, sc Scenario, newReplica lab.New, st Settings) {
	runSeeds(ctx, sc.Name, st, func(seed uint64) string { return ReproduceScenario(sc, seed) }, func(seed uint64) played {
		return playScenario(sc, newReplica, st, seed)
	})
}

// playScenario runs the scenario with one seed: the failure message, ""
// when it held, and the run's trace for the reports.
func playScenario(sc Scenario, newReplica lab.New, st Settings, seed uint64) played {
	msg, s := sc.Run(newReplica, st, seed)
	t := report.FromSim(s)
	t.Seed, t.Passed, t.Replay = seed, msg == "", ReproduceScenario(sc, seed)
	if msg == "" {
		return played{trace: t}
	}
	t.Failures = strings.Split(msg, "\n")
	if err := s.Err(); err != nil {
		t.Error = err.Error()
	}
	msg = fmt.Sprintf("%s failed with seed %d\n  %s\n\nreproduce: %s\n\ntranscript (seed %d):\n%s",
		sc.Name, seed, strings.ReplaceAll(msg, "\n", "\n  "), ReproduceScenario(sc, seed), seed, Tail(s.Trace().Transcript(true), 400))
	return played{msg: msg, trace: t}
}

// ReproduceScenario is the command that reruns one scenario with one seed,
// as Reproduce is for a case: make grade selects it by its case label.
func ReproduceScenario(sc Scenario, seed uint64) string { return replay(sc.Name, seed) }

// driver plays a scenario on a simulator, writing each step into the trace
// as the lab's transcripts show it.
type driver struct {
	s *sim.Sim
}

func (d driver) do(cmd lab.Command, ids ...lab.ID) {
	d.step(ids, cmd.String())
	for _, id := range ids {
		_ = d.s.Do(id, cmd) // a refusal is in the trace
	}
}

func (d driver) crash(id lab.ID) {
	d.step([]lab.ID{id}, "crash")
	d.s.Crash(id)
}

func (d driver) send(op string) int {
	d.s.Trace().Step("client: send " + op)
	return d.s.Send(op)
}

func (d driver) step(ids []lab.ID, text string) {
	d.s.Trace().Step(lab.JoinIDs(ids, ", ") + ": " + text)
}

// status is a replica's status, or a message saying why there is none.
func (d driver) status(id lab.ID) (lab.Status, string) {
	st, err := d.s.Status(id)
	if err != nil {
		return st, fmt.Sprintf("%s: no status: %v", id, err)
	}
	return st, ""
}

// stopped reports the safety violation or replica failure that ended the
// run, if one did, with the view each replica was in.
func (d driver) stopped(when string) string {
	if err := d.s.Err(); err != nil {
		return fmt.Sprintf("%s: %v (%s)", when, err, d.views())
	}
	return ""
}

// views says which view each replica that can still answer is in.
func (d driver) views() string {
	var parts []string
	for i := range d.s.N() {
		if st, err := d.s.Status(lab.ID(i)); err == nil {
			parts = append(parts, fmt.Sprintf("%s in view %d", lab.ID(i), st.View))
		}
	}
	if len(parts) == 0 {
		return "no replica answers"
	}
	return strings.Join(parts, ", ")
}

// findEntry returns the log entry holding request req, if any.
func findEntry(st lab.Status, req lab.Request) (lab.Entry, bool) {
	for _, e := range st.Log {
		if e.Request != nil && e.Request.Client == req.Client && e.Request.Timestamp == req.Timestamp {
			return e, true
		}
	}
	return lab.Entry{}, false
}

// entryAt returns the log entry at seq, if any.
func entryAt(st lab.Status, seq int) (lab.Entry, bool) {
	for _, e := range st.Log {
		if e.Seq == seq {
			return e, true
		}
	}
	return lab.Entry{}, false
}

// findOutcome returns how req ended in the replica's history, if it did.
func findOutcome(st lab.Status, req lab.Request) (lab.Outcome, bool) {
	for _, o := range st.History {
		if o.Request.Client == req.Client && o.Request.Timestamp == req.Timestamp {
			return o, true
		}
	}
	return lab.Outcome{}, false
}

func describeEntry(e lab.Entry) string {
	if e.Phase == 0 {
		return fmt.Sprintf("no pre-prepare in view %d (prepare yes %v, commit %v)", e.View, e.PrepareYes, e.CommitYes)
	}
	what := "the null request"
	if e.Request != nil {
		what = fmt.Sprintf("%s#%d %s", e.Request.Client, e.Request.Timestamp, e.Request.Op)
	}
	return fmt.Sprintf("%s, %s in view %d (prepare yes %v, commit %v)", what, e.Phase, e.View, e.PrepareYes, e.CommitYes)
}

const robustOp = "account=alice,amount=40,operation=deposit"

// preparedSurvivesViewChange: a request prepares at all four replicas, the
// primary crashes before anyone acknowledges a commit, and the three others
// change view. PBFT §4.4: whatever prepared at 2f+1 replicas is in any 2f+1
// view changes, so the new primary must re-issue it at the same sequence
// number, and it then commits there.
func preparedSurvivesViewChange(newReplica lab.New, st Settings, seed uint64) (string, *sim.Sim) {
	s := sim.New(newReplica, sim.Options{Seed: seed, Duplicate: st.Duplicate, Reorder: st.Reorder, Manual: true, Balances: map[string]int{"alice": 100}})
	d := driver{s}
	if err := s.Err(); err != nil {
		return err.Error(), s
	}
	backups := []lab.ID{1, 2, 3}
	all := []lab.ID{0, 1, 2, 3}
	n := d.send(robustOp)
	req := s.Request(n)
	d.do(lab.Command{Op: lab.OpPropose}, 0)
	d.do(lab.Command{Op: lab.OpPrepare, Yes: true}, backups...)
	d.do(lab.Command{Op: lab.OpProgress}, all...)
	if msg := d.stopped("in view 0"); msg != "" {
		return msg, s
	}

	// The situation: prepared at every replica, committed at none.
	seq := 0
	for _, id := range all {
		st, msg := d.status(id)
		if msg != "" {
			return msg, s
		}
		e, ok := findEntry(st, req)
		switch {
		case !ok:
			return fmt.Sprintf("%s (view %d, seq none): setting up, the request was never pre-prepared (the normal case does not work yet)", id, st.View), s
		case e.Phase != lab.PhasePrepared:
			return fmt.Sprintf("%s (view %d, seq %d): setting up, expected the request prepared after every backup voted yes and everyone typed progress, found %s", id, st.View, e.Seq, describeEntry(e)), s
		case seq != 0 && e.Seq != seq:
			return fmt.Sprintf("%s (view %d, seq %d): setting up, the request is at n%d here and at n%d at P0", id, st.View, e.Seq, e.Seq, seq), s
		}
		seq = e.Seq
	}

	d.crash(0)
	d.do(lab.Command{Op: lab.OpViewChange}, backups...)
	if msg := d.stopped("during the view change"); msg != "" {
		return msg, s
	}
	var problems []string
	for _, id := range backups {
		st, msg := d.status(id)
		if msg != "" {
			return msg, s
		}
		if st.View != 1 || st.ViewChanging {
			problems = append(problems, fmt.Sprintf("%s (view %d, seq %d): expected view 1 led by P1 once P1, P2 and P3 asked for it, found view %d%s", id, st.View, seq, st.View, underWay(st)))
			continue
		}
		e, ok := entryAt(st, seq)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s (view 1, seq %d): the request that prepared at n%d in view 0 is not re-issued at n%d in view 1: the log has nothing there", id, seq, seq, seq))
		case e.Request == nil || e.Request.Client != req.Client || e.Request.Timestamp != req.Timestamp:
			problems = append(problems, fmt.Sprintf("%s (view 1, seq %d): the request that prepared at n%d in view 0 is not re-issued at n%d in view 1: found %s", id, seq, seq, seq, describeEntry(e)))
		}
	}
	if len(problems) > 0 {
		return strings.Join(problems, "\n"), s
	}

	d.do(lab.Command{Op: lab.OpPrepare, Yes: true}, 2, 3)
	d.do(lab.Command{Op: lab.OpProgress}, backups...)
	d.do(lab.Command{Op: lab.OpAck, Yes: true}, backups...)
	d.do(lab.Command{Op: lab.OpProgress}, backups...)
	if msg := d.stopped("in view 1"); msg != "" {
		return msg, s
	}
	for _, id := range backups {
		st, msg := d.status(id)
		if msg != "" {
			return msg, s
		}
		o, ok := findOutcome(st, req)
		switch {
		case !ok:
			found := "nothing at n" + fmt.Sprint(seq)
			if e, ok := entryAt(st, seq); ok {
				found = describeEntry(e)
			}
			problems = append(problems, fmt.Sprintf("%s (view %d, seq %d): expected the request committed at n%d in view 1 after the votes of P1, P2 and P3, found %s", id, st.View, seq, seq, found))
		case !o.Committed || o.Seq != seq || o.View != 1:
			problems = append(problems, fmt.Sprintf("%s (view %d, seq %d): expected the request committed at n%d in view 1, found it %s at n%d in view %d", id, st.View, seq, seq, outcomeWord(o.Committed), o.Seq, o.View))
		}
	}
	if done, committed := s.Outcome(n); len(problems) == 0 && (!done || !committed) {
		problems = append(problems, fmt.Sprintf("client (view 1, seq %d): expected the request committed, found %s", seq, clientOutcome(done, committed)))
	}
	return strings.Join(problems, "\n"), s
}

// timerTicks bounds how long the timer scenario waits: ample for the
// client to resend its request and for a backup's timer to run out, even
// after a view change that failed and doubled the timeout.
const timerTicks = 400

// timerReplacesCrashedPrimary: with automatic votes, the primary is down
// when the client sends a request. Nobody types "view change": the client
// resends the request to every replica after a while, the backups' timers
// run out waiting for it to execute, and they change the view on their own;
// the new primary then orders the request and it commits.
func timerReplacesCrashedPrimary(newReplica lab.New, st Settings, seed uint64) (string, *sim.Sim) {
	s := sim.New(newReplica, sim.Options{Seed: seed, Duplicate: st.Duplicate, Reorder: st.Reorder, Drop: st.Drop, Balances: map[string]int{"alice": 100}})
	d := driver{s}
	if err := s.Err(); err != nil {
		return err.Error(), s
	}
	backups := []lab.ID{1, 2, 3}
	d.crash(0)
	n := d.send(robustOp)
	req := s.Request(n)
	s.Trace().Step(fmt.Sprintf("tick (until the client has its answer, at most %d)", timerTicks))
	finished := func() bool {
		if done, _ := s.Outcome(n); !done {
			return false
		}
		for _, id := range backups {
			if st, err := s.Status(id); err != nil || st.ViewChanging {
				return false
			} else if _, ok := findOutcome(st, req); !ok {
				return false
			}
		}
		return true
	}
	ticks := 0
	for ; ticks < timerTicks && !finished(); ticks++ {
		s.Tick()
		if msg := d.stopped(fmt.Sprintf("at tick %d", s.Now())); msg != "" {
			return msg, s
		}
	}

	var problems []string
	views := map[int]bool{}
	for _, id := range backups {
		st, msg := d.status(id)
		if msg != "" {
			return msg, s
		}
		seq := "none"
		if e, ok := findEntry(st, req); ok {
			seq = fmt.Sprint(e.Seq)
		}
		o, decided := findOutcome(st, req)
		if decided {
			seq = fmt.Sprint(o.Seq)
		}
		switch {
		case st.View == 0:
			problems = append(problems, fmt.Sprintf("%s (view 0, seq %s): after %d ticks with P0 crashed and a request waiting, still in view 0: the view-change timer never ran out", id, seq, ticks))
		case st.ViewChanging:
			problems = append(problems, fmt.Sprintf("%s (view %d, seq %s): after %d ticks, still waiting for the NEW-VIEW of view %d", id, st.View, seq, ticks, st.View))
		case st.Primary == 0:
			problems = append(problems, fmt.Sprintf("%s (view %d, seq %s): in a view led by the crashed P0", id, st.View, seq))
		case !decided:
			found := "the request is in neither the history nor the log"
			if e, ok := findEntry(st, req); ok {
				found = describeEntry(e)
			}
			problems = append(problems, fmt.Sprintf("%s (view %d, seq %s): expected the request committed after %d ticks, found %s", id, st.View, seq, ticks, found))
		case !o.Committed:
			problems = append(problems, fmt.Sprintf("%s (view %d, seq %s): expected the request committed, found it aborted (%s)", id, st.View, seq, o.Result))
		}
		views[st.View] = true
	}
	if len(problems) == 0 && len(views) > 1 {
		problems = append(problems, fmt.Sprintf("the backups ended in different views %v", slices.Sorted(maps.Keys(views))))
	}
	if done, committed := s.Outcome(n); len(problems) == 0 && (!done || !committed) {
		problems = append(problems, fmt.Sprintf("client: expected the request committed, found %s", clientOutcome(done, committed)))
	}
	return strings.Join(problems, "\n"), s
}

func underWay(st lab.Status) string {
	if st.ViewChanging {
		return " with the view change still under way"
	}
	return ""
}

func outcomeWord(committed bool) string {
	if committed {
		return "committed"
	}
	return "aborted"
}

func clientOutcome(done, committed bool) string {
	if !done {
		return "no answer from f+1 replicas"
	}
	return outcomeWord(committed)
}
