// Package grader is the Ginkgo suite that grades a tree. Each tree binds
// itself to it with a one-line test:
//
//	func TestGrade(t *testing.T) { grader.Run(t, solution.New) }
//
// The suite makes one spec per case file, labelled with the case's points
// and phases, and runs each case in the simulator under several seeds. The
// score is computed from the suite's report, never from printed text.
package grader

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"pbftlab/grader/report"
	"pbftlab/lab"
	"pbftlab/script"
	"pbftlab/sim"
)

// specLimit bounds one spec, all its seeds included. A correct
// replica needs a small fraction of it.
func specLimit(st Settings) time.Duration {
	return 10*time.Second + time.Duration(st.Runs)*2*time.Second
}

// Run grades the tree whose constructor is newReplica, as the settings
// the driver passed say; when they ask for a stress run it stress-tests
// the tree instead (see Stress).
func Run(t *testing.T, newReplica lab.NewFunc) {
	t.Helper()
	settings, err := ReadSettings()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := casesDir(settings)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := LoadCases(dir)
	if err != nil {
		t.Fatal(err)
	}
	if settings.Stress != nil {
		Stress(t, newReplica, settings, cases)
		return
	}
	gomega.RegisterFailHandler(ginkgo.Fail)
	ginkgo.Describe("PBFT lab", func() {
		for _, c := range cases {
			ginkgo.It(c.Title, CaseLabels(c), func(ctx ginkgo.SpecContext) {
				runCase(ctx, c, newReplica, settings)
			}, ginkgo.SpecTimeout(specLimit(settings)+10*time.Second))
		}
	})
	ginkgo.ReportAfterEach(recordProgress)
	ginkgo.ReportAfterSuite("driver report", writeReport)
	ginkgo.ReportAfterSuite("score", func(r ginkgo.Report) {
		sc := Score(r)
		fmt.Fprint(ginkgo.GinkgoWriter, sc.Table())
	})
	ginkgo.RunSpecs(t, "pbftlab grade")
}

// CaseLabels are a case's spec labels: its points, its phases and its name.
func CaseLabels(c *script.Case) ginkgo.Labels {
	l := ginkgo.Labels{fmt.Sprintf("points:%d", c.Points), "case:" + Name(c), "kind:" + Kind(c)}
	for _, p := range c.Phases {
		l = append(l, "phase:"+p)
	}
	return l
}

// runCase plays the case under each seed in turn and fails the spec on the
// first seed that breaks it.
func runCase(ctx ginkgo.SpecContext, c *script.Case, newReplica lab.NewFunc, st Settings) {
	var explore []*sim.Schedule
	if c.Explore.Delays > 0 {
		explore = sim.Explore(c.Explore.Deliveries, c.Explore.Delays)
	}
	runSeeds(ctx, Name(c), st, explore, func(r run) string { return reproduce(c, r) }, func(r run) played {
		return playOnce(c, newReplica, st, r)
	})
}

// run names one play of a spec: its seed and, when set, the schedule that
// orders its deliveries instead of the seed; record keeps the schedule the
// seed chose.
type run struct {
	seed   uint64
	sched  *sim.Schedule
	record bool
	cut    int // stop after this many deliveries and call the run passed (sim.Options.Cut)
	// shown says the reports show this run's trace even if it passes: the
	// spec's first. A failing run always has its trace. A trace for every
	// run was a third of what the suite cost, so the seeds after the
	// first, and the systematic orders, do without when they pass.
	shown bool
}

// runSeeds plays a spec once per seed and fails it on the first seed that
// breaks it. Each play runs on a goroutine of its own, so that a replica
// stuck in a loop costs this spec only: the grader's own limit comes before
// Ginkgo's spec timeout, so that the message a student reads says what
// happened.
func runSeeds(ctx ginkgo.SpecContext, name string, st Settings, explore []*sim.Schedule, reproduce func(r run) string, play func(r run) played) {
	limit := time.NewTimer(specLimit(st))
	defer limit.Stop()
	var first *report.Trace // the reports show the failing seed, else the first
	// one plays one seed on a goroutine of its own; ok is false when the
	// spec must end here (interrupted, or a stuck replica's abort).
	one := func(r run) (p played, ok bool) {
		done := make(chan played, 1)
		forgetStuck()
		go func() {
			defer func() {
				if v := recover(); v != nil {
					msg := fmt.Sprintf("the grader itself failed on %s: %v", name, v)
					done <- played{msg: msg, key: msg}
				}
			}()
			done <- play(r)
		}()
		select {
		case p = <-done:
			return p, true
		case se := <-sim.StuckCalls():
			p, ok = awaitUnwind(ctx, done, se, func() string { return stuckAbort(name, r.seed, se, reproduce(r)) })
			p.stuck = true
			return p, ok
		case <-ctx.Done():
			return p, false // interrupted or out of time: Ginkgo reports it
		case <-limit.C:
			// The stuck goroutine cannot be stopped and would slow every
			// spec after it, so the suite stops here; the grade driver runs
			// the specs left in a fresh process.
			ginkgo.AbortSuite(fmt.Sprintf("%s did not finish with seed %d within %s: the replica is stuck (an endless loop?)\nreproduce: %s", name, r.seed, specLimit(st), reproduce(r)))
			return p, false
		}
	}
	// fail reports a failed play: replayed once, since a replay command is
	// worth showing only if the seed gives the same run again, then shrunk
	// (when shrink says so) to the few delays the failure needs; note
	// heads what follows the message's first line. It returns false when
	// the spec must end here.
	fail := func(r run, p played, shrink bool, note string) bool {
		if !p.stuck { // a stuck call stops where the clock stops it: no two runs agree
			again, ok := one(r)
			switch {
			case !ok:
				return false
			case again.key != p.key:
				p.msg = nondeterministic(r.seed) + "\n\n" + p.msg
			case shrink:
				p = shrinkFailure(one, r, p, reproduce)
			}
		}
		if note != "" {
			head, rest, _ := strings.Cut(p.msg, "\n")
			p.msg = head + "\n  " + note + "\n" + rest
		}
		attachTrace(p.trace)
		gomega.Expect(p).To(holdEveryExpectation())
		return true
	}
	for i := range st.Runs {
		r := run{seed: st.Seed + uint64(i), sched: st.Schedule, shown: first == nil}
		began := time.Now()
		p, ok := one(r)
		took := time.Since(began)
		if !ok {
			return
		}
		if p.msg != "" && !fail(r, p, r.sched == nil && took < shrinkSlow, "") {
			return
		}
		if first == nil {
			first = p.trace
		}
	}
	// Then the orders a bounded search lists, on the first seed's
	// duplicates; a replay of one of them names its schedule.
	if st.Schedule == nil {
		note := fmt.Sprintf("(found by the case's systematic search of delivery orders, %d of them: every delivery takes the oldest message in flight except those the transcript marks \"schedule:\")", len(explore))
		for _, sched := range explore {
			r := run{seed: st.Seed, sched: sched}
			p, ok := one(r)
			if !ok {
				return
			}
			if p.msg != "" && !fail(r, p, false, note) {
				return
			}
		}
	}
	attachTrace(first)
}

// nondeterministic explains a seed that gave two different runs.
func nondeterministic(seed uint64) string {
	return fmt.Sprintf("the replica is not deterministic: seed %d, played twice, gave two different runs, so the replay command may not show this failure again. "+
		"The usual causes: ranging over a map (Go picks a new order every time; sort the keys, or keep a slice), reading the clock, random numbers, or state kept between replicas", seed)
}

// playOnce runs the case with one seed and returns "" when every
// expectation holds, or the message explaining what went wrong, and, when
// the run failed or is shown (run.shown), its trace for the reports.
func playOnce(c *script.Case, newReplica lab.NewFunc, st Settings, r run) played {
	reorder, pct := Network(r.seed)
	s, failures, err := script.RunCase(c, newReplica, sim.Options{Seed: r.seed, Duplicate: st.Duplicate, Reorder: reorder, PCT: pct, Schedule: r.sched, Record: r.record, Cut: r.cut})
	var p played
	failed := !errors.Is(err, sim.ErrCut) && (err != nil || len(failures) > 0)
	if r.shown || failed {
		p.trace = traceOf(c, s, r, failures, err)
	}
	if s != nil {
		p.delivered = s.Delivered()
		if r.record {
			p.sched = s.Schedule()
		}
	}
	if errors.Is(err, sim.ErrCut) {
		return p
	}
	if err == nil && len(failures) == 0 {
		return p
	}
	var b strings.Builder
	sched := ""
	if r.sched != nil {
		sched = r.sched.String()
	}
	b.WriteString(report.Heading(Name(c), r.seed, sched) + "\n")
	if err != nil {
		fmt.Fprintf(&b, "  %v\n", err)
		if pe, ok := errors.AsType[*sim.PanicError](err); ok {
			fmt.Fprintf(&b, "\n%s\n", pe.Stack)
		}
		if se, ok := errors.AsType[*sim.StuckError](err); ok {
			fmt.Fprintf(&b, "    %s\n", stuckDetail(se))
			// The run itself says it was stuck: the news on StuckCalls
			// may lose the race with the run's end in runSeeds' select.
			p.stuck = true
		}
	}
	var what strings.Builder // what went wrong, without a panic's stack, which names goroutines and addresses
	if err != nil {
		fmt.Fprintf(&what, "%v\n", err)
	}
	for _, f := range failures {
		fmt.Fprintf(&b, "  %v\n", f)
		fmt.Fprintf(&what, "%v\n", f)
	}
	whole := s.Trace().Transcript(true)
	transcript := Tail(whole, 400)
	shown := transcript
	if st, _ := ReadSettings(); st.Whole {
		shown = whole // V=1: the suite's output, which the person asked for, has it all
	}
	fmt.Fprintf(&b, "\nreproduce: %s\n\ntranscript (seed %d):\n%s", reproduce(c, r), r.seed, shown)
	p.msg = b.String()
	p.key = what.String() + transcript
	return p
}

// Network is the network a graded seed plays a case on, besides the
// duplicates every seed has: links that keep order under a uniform choice
// of link (seeds 1, 5, 7, ...), links that do not (even seeds), and, every
// third seed, a PCT schedule that keeps one link waiting while the others
// go through. Three seeds, the default, try all three; the lab's protocol
// must hold on each, since the network may deliver in any order.
func Network(seed uint64) (reorder, pct bool) {
	return seed%2 == 0, seed%3 == 0
}

// Reproduce is the command that reruns one case with one seed.
func Reproduce(c *script.Case, seed uint64) string { return replay(Name(c), seed) }

// reproduce is the command that replays run r of case c.
func reproduce(c *script.Case, r run) string {
	cmd := replay(Name(c), r.seed)
	if r.sched != nil {
		cmd += " SCHEDULE=" + r.sched.String()
	}
	return cmd
}

// replay is the make command that reruns the spec called name with one
// seed. It names the tree when the grade driver graded another tree than
// the reference, or the hand-in folder it graded, so that the command
// reruns the code that failed.
func replay(name string, seed uint64) string {
	st, _ := ReadSettings() // what could not be read, the suite reported already
	return fmt.Sprintf("make grade CASE=%s SEED=%d RUNS=1", name, seed) + st.ReplayTarget()
}

// ReplayTarget is what a make command that replays a spec adds to name
// what was graded, with a space before each: the hand-in folder, or the
// tree when it is not the reference, and the case folder when it is not
// the kit's.
func (st Settings) ReplayTarget() string {
	if st.ForStudent {
		return ""
	}
	var s string
	if st.Submission != "" {
		s += " SUBMISSION=" + ShellWord(st.Submission)
	} else if tree := st.Tree; tree != "" && tree != "solution" {
		s += " TREE=" + ShellWord(tree)
	}
	// A case from another folder is found only there. The kit's own
	// folder is cases/ beside go.mod; the suite may run elsewhere, so the
	// folder itself says whether it is one.
	if dir := st.Cases; dir != "" && !kitCases(dir) {
		s += " CASES=" + ShellWord(dir)
	}
	return s
}

// ShellWord is s as one word of a shell command: as it is when it holds
// only characters no shell reads specially, else in single quotes. A
// replay command is pasted into a shell, and a folder's name is whatever
// its owner chose ("my sub", "$(...)", a backtick).
func ShellWord(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_./:@%+,=-", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// kitCases reports whether dir is a kit's own case folder: cases/ at the
// root of a module.
func kitCases(dir string) bool {
	dir = filepath.Clean(dir)
	if filepath.Base(dir) != "cases" {
		return false
	}
	_, err := os.Stat(filepath.Join(filepath.Dir(dir), "go.mod"))
	return err == nil
}

// Tail keeps the last n lines of s, saying how many it left out.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) <= n {
		return s
	}
	return fmt.Sprintf("... %d earlier lines left out ...\n%s\n", len(lines)-n, strings.Join(lines[len(lines)-n:], "\n"))
}

// Head keeps the first n lines of s and says how many it left out.
func Head(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append(lines[:n], fmt.Sprintf("... (%d more lines)", len(lines)-n))
	}
	return strings.Join(lines, "\n")
}

// Shrinking bounds: plays of the failing case, and time. A failing play
// slower than shrinkSlow (a long case such as Case 7) is shown as it is:
// the plays shrinking needs would cost more than its seed's run.
const (
	shrinkRuns = 200
	shrinkTime = 3 * time.Second
	shrinkSlow = 250 * time.Millisecond
)

// shrinkFailure replays failing run r with its schedule recorded, shrinks
// that schedule to the fewest delays that still fail (sim.Shrink), and
// returns the shrunk run's failure, which names the schedule in its replay
// command. It returns p unchanged when the failure does not replay on the
// recorded schedule or nothing shrinks.
func shrinkFailure(one func(run) (played, bool), r run, p played, reproduce func(run) string) played {
	deadline := time.Now().Add(shrinkTime)
	rec, ok := one(run{seed: r.seed, record: true})
	if !ok || rec.msg == "" || rec.sched == nil {
		return p
	}
	start := rec.sched
	if first, ok := one(run{seed: r.seed, sched: start}); !ok || first.msg == "" {
		return p // the seed's failure needs more than the order of deliveries
	}
	// A try that runs far past where the failure happened is cut short.
	cut := 2*rec.delivered + 100
	small := sim.Shrink(start, shrinkRuns, func(s *sim.Schedule) bool {
		if time.Now().After(deadline) {
			return false
		}
		q, ok := one(run{seed: r.seed, sched: s, cut: cut})
		return ok && q.msg != ""
	})
	q, ok := one(run{seed: r.seed, sched: small})
	if !ok || q.msg == "" {
		return p
	}
	head, rest, _ := strings.Cut(q.msg, "\n")
	q.msg = fmt.Sprintf("%s\n  (seed %d's order of deliveries, shrunk: every delivery takes the oldest message in flight except the %d the transcript marks \"schedule:\"; the seed's own run, with %d out of order: %s)\n%s",
		head, r.seed, len(small.Delays), len(start.Delays), reproduce(run{seed: r.seed}), rest)
	return q
}
