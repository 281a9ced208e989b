package grader

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pbftlab/lab"
	"pbftlab/script"
	"pbftlab/sim"
)

// A stress run plays every case and every robustness scenario under many
// seeds of message order instead of grading, to find the seed that breaks
// a tree (or the grader) before a student does. It is a mode of the grade
// test, so that it runs whichever tree the test binds; the pbftlab stress
// command asks for it through Settings.Stress.

// StressFile is the results file a stress run writes in its folder.
const StressFile = "stress.json"

// maxTranscripts bounds how many failing seeds of one case keep their
// transcript; every failure is counted all the same.
const maxTranscripts = 10

// The message order a seed plays under. Every seed picks a duplication
// rate (none, 0.2 or 0.5); half of them let messages on a link overtake
// each other (FIFO off); a quarter lose some messages between replicas,
// where the case allows it. Drops are only for cases and scenarios whose
// votes are automatic (a case's "votes: auto", a scenario's Drops): with
// typed votes, "progress" aborts whatever lacks a quorum, so a lost vote
// could make replicas decide differently by design. And since the
// protocol as the lab teaches it does not resend lost votes, a run with
// drops may stop short: it fails only on a safety violation, a replica
// failure or a stuck replica, not on its expectations.
type network struct {
	reorder   bool
	duplicate float64
	drop      float64
}

func (n network) String() string {
	s := "fifo"
	if n.reorder {
		s = "reordered"
	}
	s += fmt.Sprintf(", dup %g", n.duplicate)
	if n.drop > 0 {
		s += fmt.Sprintf(", drop %g (safety only)", n.drop)
	}
	return s
}

var stressDuplicates = []float64{0, 0.2, 0.5}

// stressDrop is the chance that a message between replicas is lost, in a
// seed that drops messages.
const stressDrop = 0.05

func networkFor(seed uint64, reorder, drops bool) network {
	n := network{duplicate: stressDuplicates[seed%3]}
	n.reorder = reorder && (seed/3)%2 == 1
	if drops && (seed/6)%2 == 1 {
		n.drop = stressDrop
	}
	return n
}

// StressReport is what a stress run writes to StressFile.
type StressReport struct {
	Seeds     int            `json:"seeds"` // per target
	FirstSeed uint64         `json:"first_seed"`
	Workers   int            `json:"workers"`
	Wall      time.Duration  `json:"wall_ns"`
	Targets   []StressTarget `json:"targets"`
}

// StressTarget is one case or scenario of a stress run.
type StressTarget struct {
	Name     string          `json:"name"`
	Kind     string          `json:"kind"` // "case" or "robustness"
	Networks string          `json:"networks"`
	Runs     int             `json:"runs"`
	Failures int             `json:"failures"`
	Time     time.Duration   `json:"time_ns"` // spent in its runs, all workers together
	Failed   []StressFailure `json:"failed,omitempty"`
	Stuck    bool            `json:"stuck,omitempty"` // a run never finished; the rest were skipped
}

// StressFailure is one failing seed.
type StressFailure struct {
	Seed       uint64 `json:"seed"`
	Network    string `json:"network"`
	Message    string `json:"message"`
	Transcript string `json:"transcript,omitempty"` // file name in the stress folder
}

// stressTarget is a case or scenario with its way of playing one seed.
type stressTarget struct {
	name, kind     string
	reorder, drops bool
	// play runs one seed; it returns "" when the run holds, else what went
	// wrong, and the transcript when trace is set.
	play func(seed uint64, n network, trace bool) (msg, transcript string)
}

func stressTargets(newReplica lab.NewFunc, cases []*script.Case, only []string) []stressTarget {
	var ts []stressTarget
	keep := func(name string) bool { return len(only) == 0 || slices.Contains(only, name) }
	for _, c := range cases {
		if !keep(Name(c)) {
			continue
		}
		ts = append(ts, stressTarget{name: Name(c), kind: Kind(c), reorder: true, drops: !c.Manual,
			play: func(seed uint64, n network, trace bool) (string, string) {
				s, failures, err := script.RunCase(c, newReplica, sim.Options{Seed: seed, Duplicate: n.duplicate, Reorder: n.reorder, Drop: n.drop, Quiet: !trace})
				var lines []string
				// With messages lost, a line of the case may find nothing
				// to act on (no checkpoint to forge, no pre-prepare to
				// vote on): only the run's own failures count then.
				if err != nil && (n.drop == 0 || s == nil || s.Err() != nil) {
					lines = append(lines, err.Error())
				}
				if n.drop == 0 {
					for _, f := range failures {
						lines = append(lines, f.Error())
					}
				}
				transcript := ""
				if trace && s != nil {
					transcript = s.Trace().Transcript(true)
				}
				return strings.Join(lines, "\n"), transcript
			}})
	}
	return ts
}

// stressRunLimit bounds one run of one seed; a correct tree needs a tiny
// fraction of it.
const stressRunLimit = 20 * time.Second

// Stress plays every case and scenario (or those st.Stress names) under
// the seeds it asks for, from st.Seed, on every core, and writes the
// report and the failing seeds' transcripts to its folder. The test fails
// when a seed does.
func Stress(t *testing.T, newReplica lab.NewFunc, st Settings, cases []*script.Case) {
	seeds, dir, only := st.Stress.Seeds, st.Stress.Dir, st.Stress.Only
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	targets := stressTargets(newReplica, cases, only)
	if len(targets) == 0 {
		t.Fatalf("no case named %s", strings.Join(only, ", "))
	}
	tree := st.Stress.Tree
	if tree == "" {
		tree = "solution"
	}
	replay := func(name string, seed uint64) string { return StressReplay(tree, st.Cases, name, seed) }
	report := runStress(targets, seeds, st.Seed, runtime.GOMAXPROCS(0), stressRunLimit, dir, replay, os.Stdout)
	data, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, StressFile), append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tg := range report.Targets {
		if tg.Failures > 0 || tg.Stuck {
			t.Errorf("%s: %d of %d seeds failed", tg.Name, tg.Failures, tg.Runs)
		}
	}
}

type stressJob struct {
	target int
	seed   uint64
}

type stressResult struct {
	stressJob
	net   network
	msg   string
	took  time.Duration
	stuck bool
}

// runStress plays the jobs on workers goroutines and gathers the report,
// writing a progress line to progress every tenth of the way.
func runStress(targets []stressTarget, seeds int, first uint64, workers int, limit time.Duration, dir string, replay func(name string, seed uint64) string, progress io.Writer) StressReport {
	start := time.Now()
	report := StressReport{Seeds: seeds, FirstSeed: first, Workers: workers}
	for _, tg := range targets {
		report.Targets = append(report.Targets, StressTarget{Name: tg.name, Kind: tg.kind, Networks: describeNetworks(tg)})
	}
	jobs := make(chan stressJob)
	results := make(chan stressResult)
	var stuck sync.Map // target index -> true once a run of it never finished
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				if _, ok := stuck.Load(j.target); ok {
					continue
				}
				r := playJob(targets[j.target], j, limit)
				if r.stuck {
					stuck.Store(j.target, true)
				}
				results <- r
			}
		})
	}
	go func() {
		// Seed-major order: every target makes progress together, so a
		// slow one does not hold up the report of the others.
		for i := range seeds {
			for ti := range targets {
				jobs <- stressJob{target: ti, seed: first + uint64(i)}
			}
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	total, done, failed := seeds*len(targets), 0, 0
	next := total / 10
	// The failures kept are each target's lowest seeds, whatever order the
	// workers finish in, so that one stress run always keeps the same.
	kept := make([][]stressResult, len(targets))
	for r := range results {
		tg := &report.Targets[r.target]
		tg.Runs++
		tg.Time += r.took
		done++
		if r.msg != "" {
			failed++
			tg.Failures++
			tg.Stuck = tg.Stuck || r.stuck
			k := append(kept[r.target], r)
			slices.SortFunc(k, func(a, b stressResult) int { return cmp.Compare(a.seed, b.seed) })
			kept[r.target] = k[:min(len(k), maxTranscripts)]
		}
		if next > 0 && done >= next {
			fmt.Fprintf(progress, "stress: %d/%d runs, %d failed, %s\n", done, total, failed, time.Since(start).Round(time.Second))
			next += total / 10
		}
	}
	for i, k := range kept {
		for _, r := range k {
			f := StressFailure{Seed: r.seed, Network: r.net.String(), Message: Tail(r.msg, 20)}
			f.Transcript = writeStressTranscript(targets[i], r, dir, replay)
			report.Targets[i].Failed = append(report.Targets[i].Failed, f)
		}
	}
	report.Wall = time.Since(start)
	return report
}

// playJob runs one seed of one target, on a goroutine of its own so that
// a stuck replica is reported instead of hanging the run.
func playJob(tg stressTarget, j stressJob, limit time.Duration) stressResult {
	r := stressResult{stressJob: j, net: networkFor(j.seed, tg.reorder, tg.drops)}
	done := make(chan string, 1)
	start := time.Now()
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- fmt.Sprintf("the grader itself failed: %v", v)
			}
		}()
		msg, _ := tg.play(j.seed, r.net, false)
		done <- msg
	}()
	select {
	case r.msg = <-done:
	case <-time.After(limit):
		r.msg, r.stuck = fmt.Sprintf("did not finish within %s: a replica is stuck (an endless loop?); the remaining seeds of %s were skipped", limit, tg.name), true
	}
	r.took = time.Since(start)
	return r
}

// writeStressTranscript plays a failing seed again with the trace on and
// writes what happened to NAME-SEED.txt in dir; it returns the file name,
// or "" when it could not.
func writeStressTranscript(tg stressTarget, r stressResult, dir string, replay func(name string, seed uint64) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s failed with seed %d (%s)\n\n%s\n\nreplay: %s\n\n", tg.name, r.seed, r.net, r.msg, replay(tg.name, r.seed))
	if r.stuck {
		b.WriteString("(no transcript: the run never finished)\n")
	} else {
		msg, transcript := replayTraced(tg, r)
		if msg != r.msg {
			fmt.Fprintf(&b, "(played again with the trace on, it ended otherwise: %q)\n\n", msg)
		}
		fmt.Fprintf(&b, "transcript (seed %d):\n%s", r.seed, transcript)
	}
	name := fmt.Sprintf("%s-%d.txt", tg.name, r.seed)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
		return ""
	}
	return name
}

func replayTraced(tg stressTarget, r stressResult) (msg, transcript string) {
	defer func() {
		if v := recover(); v != nil {
			msg = fmt.Sprintf("the grader itself failed: %v", v)
		}
	}()
	return tg.play(r.seed, r.net, true)
}

// StressReplay is the command that plays one seed of one case again: of
// the tree when it is not the reference, from the case folder when it is
// not the kit's.
func StressReplay(tree, cases, name string, seed uint64) string {
	t := ""
	if tree != "" && tree != "solution" {
		t = " TREE=" + ShellWord(tree)
	}
	if cases != "" && !kitCases(cases) {
		t += " CASES=" + ShellWord(cases)
	}
	return fmt.Sprintf("make stress%s CASE=%s SEED=%d N=1", t, name, seed)
}

func describeNetworks(tg stressTarget) string {
	s := "fifo"
	if tg.reorder {
		s += "/reordered"
	}
	s += ", dup"
	if tg.drops {
		s += ", drop"
	}
	return s
}
