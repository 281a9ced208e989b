// Package driver runs a grade: it checks a submission, builds the tree's
// suite once, runs it in bounded processes until every spec has a result
// (a process that crashes costs its own spec only), and writes the
// reports as the grade goes. "pbftlab grade" is its Command; the TA tools
// grade through it too.
package driver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"pbftlab/grader"
	"pbftlab/grader/report"
	"pbftlab/internal/cmdline"
	"pbftlab/internal/kit"
	"pbftlab/script"
	"pbftlab/sim"
)

// Options say what to grade and how.
type Options struct {
	Root     string // module root; commands run there
	Tree     string // the tree's package folder, relative to root
	Cases    string // case folder (absolute)
	Only     string // case names, comma-separated, or ""
	Phase    string // one phase, or ""
	Upto     string // the last phase done, or "" (see labelFilter)
	Seed     string
	Runs     string
	Schedule string // the order of deliveries every seed plays, when set
	Reports  string // report folder (absolute)
	Verbose  bool
	Log      io.Writer     // the suite's own output goes here too
	Env      []string      // more environment for the suite's processes
	Report   ReportOptions // what the reports need, and the grade's progress (reports.go)
	// Ctx stops the grade: an interrupt, or the bound on its time. Nil
	// means it is never stopped from outside.
	Ctx     context.Context
	Overlay string // a go build -overlay file: a submission's files in the tree
	// Unmap turns the overlay's paths in the build's output back into the
	// submission's own; nil when there is no overlay.
	Unmap  func(string) string
	Limits Limits // zero means DefaultLimits
}

// settings are what the suite is told: the cases, the tree's name and the
// seeds.
func (o Options) settings() (grader.Settings, error) {
	st := grader.DefaultSettings()
	st.Cases, st.ScheduleText = o.Cases, o.Schedule
	// A replay command names the tree only when make grade would not take
	// it anyway: in a student's copy the skeleton goes without saying.
	if tree := filepath.Base(o.Tree); tree != DefaultTree(o.Root) {
		st.Tree = tree
	}
	st.Submission = o.Report.from
	st.ForStudent = o.Report.student
	st.Whole = o.Verbose
	var err error
	if st.Seed, st.Runs, err = SeedsOf(o.Seed, o.Runs, st); err != nil {
		return st, err
	}
	return st, nil
}

// withDefaults fills in what o leaves zero: no context stops it from
// outside, DefaultLimits bound it, and the suite's output goes nowhere.
func (o Options) withDefaults() Options {
	if o.Ctx == nil {
		o.Ctx = context.Background()
	}
	if o.Limits == (Limits{}) {
		o.Limits = DefaultLimits()
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

// SeedsOf reads a first seed and a number of runs as typed, each
// defaulting to st's when empty.
func SeedsOf(seed, runs string, st grader.Settings) (uint64, int, error) {
	first, n := st.Seed, st.Runs
	if seed != "" {
		v, err := strconv.ParseUint(seed, 10, 64)
		if err != nil {
			return first, n, fmt.Errorf("-seed %q is not a seed (a whole number)", seed)
		}
		first = v
	}
	if runs != "" {
		v, err := strconv.Atoi(runs)
		if err != nil || v < 1 {
			return first, n, fmt.Errorf("-runs %q is not a positive number of runs", runs)
		}
		n = v
	}
	return first, n, nil
}

// errStopped is what a stage returns once the grade was stopped.
var errStopped = errors.New("the grade was stopped")

// errTooLong is the cause of a grade stopped by its time bound.
var errTooLong = errors.New("the grade took longer than its time limit")

// Command is "pbftlab grade": it grades a tree of the kit, or a hand-in
// folder's files in it, prints the table and the failures, and writes
// the reports. It returns the exit code (see cmdline).
func Command(args []string, stdout, stderr io.Writer) int {
	// An interrupt must not end the process past its clean-up: it stops
	// the grade, which then removes its work folders and writes reports.
	ctx, stopSignals := cmdline.InterruptContext(context.Background())
	defer stopSignals()
	root, err := kit.Root()
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab grade:", err)
		return cmdline.ExitUsage
	}
	o := Options{Root: root, Limits: DefaultLimits()}
	fs := cmdline.NewFlags("pbftlab", "grade", "grade [-tree DIR | -submission DIR] [-cases DIR] [-case NAME] [-phase PHASE] [-seed N] [-runs N] [-schedule S] [-reports DIR] [-v]", stderr)
	fs.StringVar(&o.Tree, "tree", DefaultTree(root), "the tree to grade: a folder of the module holding a grade test")
	sub := submissionFlag(fs)
	fs.StringVar(&o.Cases, "cases", filepath.Join(root, "cases"), "the folder of case files")
	fs.StringVar(&o.Only, "case", "", "grade these cases only: names of case files without .case, comma-separated (the part before the first _ is enough)")
	fs.StringVar(&o.Phase, "phase", "", "grade only the specs of this phase ("+strings.Join(script.Phases(), ", ")+")")
	fs.StringVar(&o.Upto, "upto", "", "grade only the specs that need no phase after this one, in the handout's order")
	fs.StringVar(&o.Seed, "seed", "", "first seed of the message order (default 1)")
	fs.StringVar(&o.Runs, "runs", "", "seeds per case (default 3)")
	fs.StringVar(&o.Schedule, "schedule", "", "play every seed on this order of deliveries (a failure's replay command names it: at:rank pairs, or fifo)")
	fs.StringVar(&o.Reports, "reports", filepath.Join(root, "reports"), "where to write the reports")
	fs.BoolVar(&o.Verbose, "v", false, "show the suite's own output as it runs")
	addReportFlags(fs, &o.Report)
	addLimitFlags(fs, &o.Limits)
	if code, ok := cmdline.ParseNone("pbftlab", fs, args); !ok {
		return code
	}
	if o.Schedule != "" {
		if _, err := sim.ParseSchedule(o.Schedule); err != nil {
			fmt.Fprintln(stderr, "pbftlab grade: -schedule:", err)
			return cmdline.ExitUsage
		}
	}
	for _, p := range []string{o.Phase, o.Upto} {
		if p != "" && !slices.Contains(script.Phases(), p) {
			fmt.Fprintf(stderr, "pbftlab grade: unknown phase %q (phases: %s)\n", p, strings.Join(script.Phases(), ", "))
			return cmdline.ExitUsage
		}
	}
	for _, p := range []*string{&o.Cases, &o.Reports} {
		if *p, err = filepath.Abs(*p); err != nil {
			fmt.Fprintln(stderr, "pbftlab grade:", err)
			return cmdline.ExitUsage
		}
	}
	if err := o.checkHidden(); err != nil {
		fmt.Fprintln(stderr, "pbftlab grade:", err)
		return cmdline.ExitUsage
	}
	if err := removeGradebook(o.Reports, stdout); err != nil {
		fmt.Fprintln(stderr, "pbftlab grade:", err)
		return cmdline.ExitUsage
	}
	ctx, cancel := context.WithTimeoutCause(ctx, o.Limits.Total, errTooLong)
	defer cancel()
	o.Ctx = ctx
	start := time.Now()
	if *sub != "" {
		var why bytes.Buffer
		o.Report.from = *sub
		ws, code := openSubmission(&o, *sub, fs, stdout, io.MultiWriter(stderr, &why))
		if ws == nil {
			reportFailure(o, why.String(), time.Since(start), stderr)
			return code
		}
		defer ws.Close()
	} else {
		warnRules(o, stdout)
	}
	if err := os.MkdirAll(o.Reports, 0o755); err != nil {
		fmt.Fprintln(stderr, "pbftlab grade:", err)
		return cmdline.ExitUsage
	}
	logFile, err := os.Create(filepath.Join(o.Reports, SuiteLogFile))
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab grade:", err)
		return cmdline.ExitUsage
	}
	defer logFile.Close()
	o.Log = logFile
	if o.Verbose {
		o.Log = io.MultiWriter(logFile, report.PrintableWriter(stdout))
	}

	defer followProgress(&o, stderr)()
	res, err := Grade(o, stdout)
	if err != nil {
		if stopped := context.Cause(ctx); stopped != nil && errors.Is(err, errStopped) {
			why := "the grade was interrupted"
			if errors.Is(stopped, errTooLong) {
				why = fmt.Sprintf("the grade took longer than its limit of %s", o.Limits.Total)
			}
			fmt.Fprintf(stderr, "pbftlab grade: %s; the reports in %s say which cases did not run\n", why, o.Reports)
			if err := o.Report.live.writeStopped(why, time.Since(start)); err != nil {
				fmt.Fprintln(stderr, "pbftlab grade: writing the reports:", err)
			}
			return cmdline.ExitUsage
		}
		fmt.Fprintf(stderr, "pbftlab grade: %v\n", err)
		reportFailure(o, err.Error(), time.Since(start), stderr)
		return cmdline.ExitUsage
	}
	fmt.Fprint(stdout, res.Table())
	printFailures(stdout, res, o.Reports, o.replayByName)
	if err := writeReports(o, res, time.Since(start)); err != nil {
		fmt.Fprintln(stderr, "pbftlab grade:", err)
		return cmdline.ExitUsage
	}
	if !res.Passed() {
		return cmdline.ExitFailed
	}
	return cmdline.ExitOK
}

// Grade runs the suite on the tree and returns the result. An error means
// grading could not run at all: bad cases, a tree that does not build, or
// a grade stopped (errStopped) before every spec had a result.
func Grade(o Options, progress io.Writer) (grader.Result, error) {
	var res grader.Result
	o = o.withDefaults()
	logged := capWriter(o.Log, o.Limits.Log)
	defer logged.Close()
	o.Log = logged

	cases, err := grader.LoadCases(o.Cases)
	if err != nil {
		return res, err
	}
	if o.Only != "" {
		if o.Only, err = CaseList(cases, o.Only); err != nil {
			return res, fmt.Errorf("%w in %s", err, o.Cases)
		}
	}

	// Each spec that finishes appends its report to this file, so that
	// what a process finished before it died is known and not run again.
	if o.Report.live == nil {
		log, dir, err := tempProgressLog()
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		o.Report.log = log
	}

	// The suite is built once; the dry run, the run and any reruns all use
	// that one binary.
	suite, err := Build(o)
	if err != nil {
		return res, err
	}
	defer suite.Close()
	specs, err := suite.list(labelFilter(o))
	if err != nil {
		return res, err
	}
	fmt.Fprintf(progress, "grading %s: %d specs, cases from %s\n", o.Tree, len(specs), o.Cases)
	if o.Upto != "" && !slices.ContainsFunc(specs, func(sr types.SpecReport) bool {
		row, _ := grader.RowOf(sr)
		return slices.Contains(row.Phases, o.Upto)
	}) {
		fmt.Fprintf(progress, "note: no spec tests %s without a later phase, so none of these tests it; the specs of the next phase do\n", o.Upto)
	}
	o.Report.listed(specs)

	results, err := runAll(suite.o, suite.bin, suite.pkg, specs, progress)
	if err != nil {
		return res, err
	}
	rows := make([]grader.Row, 0, len(specs))
	for _, want := range specs {
		if row, ok := results[SpecName(want)]; ok {
			rows = append(rows, row)
		}
	}
	slices.SortStableFunc(rows, func(a, b grader.Row) int {
		return grader.SpecOrder(a.Kind == "robustness", a.Name, b.Kind == "robustness", b.Name)
	})
	for _, row := range rows {
		res.Add(row)
	}
	return res, nil
}

// runAll runs the specs until each has a result. The TA-only specs run in
// processes of their own, after the others, so that nothing of them can
// reach a visible spec even through the process they would share. A
// process that dies, or stops because a replica was stuck, leaves the
// specs it finished in the progress file; the next process resumes with
// the specs left, so a crash late in the suite costs one more process,
// not a rerun of everything before it. When a process finishes no spec at
// all, the first spec left is run on its own, and if even that process
// dies it is scored as crashed. So whatever a replica does costs its own
// spec only.
func runAll(o Options, bin, pkg string, specs []types.SpecReport, progress io.Writer) (map[string]grader.Row, error) {
	results := map[string]grader.Row{}
	byName := map[string]types.SpecReport{}
	var visible, hidden []string
	for _, sr := range specs {
		name := SpecName(sr)
		byName[name] = sr
		if o.Report.isHidden(name) {
			hidden = append(hidden, name)
		} else {
			visible = append(visible, name)
		}
	}
	told := &restarts{w: progress}
	for _, group := range [][]string{visible, hidden} {
		if err := runGroup(o, bin, pkg, group, byName, results, told); err != nil {
			return nil, err
		}
	}
	told.done()
	return results, nil
}

// runGroup runs one group of specs to the end, as runAll describes. The
// specs run in one fixed order (the suite's seed of order is fixed, and
// remaining keeps the dry run's order), so when a process dies the spec
// it was running is the first one left: it runs next on its own, to be
// scored as crashed if that process dies too, and the rest resume after
// it.
func runGroup(o Options, bin, pkg string, remaining []string, byName map[string]types.SpecReport, results map[string]grader.Row, told *restarts) error {
	alone := false
	for len(remaining) > 0 {
		if alone {
			name := remaining[0]
			told.tell("grading %s on its own\n", name)
			ran, err := runSuite(o, bin, pkg, "case: consistsOf {"+name+"}", false)
			if err != nil {
				return err
			}
			if left := take(results, []string{name}, ran.finished(o)); len(left) > 0 {
				row, _ := grader.RowOf(byName[name])
				row.Points, row.State, row.Time = 0, "crashed", 0
				row.Message = ran.death()
				results[name] = row
			}
			remaining, alone = remaining[1:], false
			if len(remaining) > 0 {
				told.tell("resuming after %s: the %d specs left in a fresh process\n", name, len(remaining))
			}
			continue
		}
		ran, err := runSuite(o, bin, pkg, "case: containsAny {"+strings.Join(remaining, ",")+"}", false)
		if err != nil {
			return err
		}
		left := take(results, remaining, ran.finished(o))
		progressed := len(left) < len(remaining)
		remaining = left
		if len(remaining) == 0 {
			break
		}
		// A process that ended by itself but early stopped a stuck spec,
		// which has its result: the rest go on together. One that died,
		// or finished nothing, leaves its first spec to run alone.
		alone = !ran.report || !progressed
		if !alone {
			told.tell("the suite stopped early; running the %d specs left in a fresh process\n", len(remaining))
		}
	}
	return nil
}

// restarts counts the fresh processes a grade needs, and tells of the
// first few: a replica stuck in every spec restarts the suite for each,
// and a line apiece would bury the table. The count comes at the end.
type restarts struct {
	w io.Writer
	n int
}

// toldRestarts is how many restarts are told one by one.
const toldRestarts = 3

func (r *restarts) tell(format string, args ...any) {
	r.n++
	switch {
	case r.n <= toldRestarts:
		fmt.Fprintf(r.w, format, args...)
	case r.n == toldRestarts+1:
		fmt.Fprintln(r.w, "(and so on: the suite starts afresh after each spec that stops it; the count comes at the end)")
	}
}

// done tells the count when not every restart was told.
func (r *restarts) done() {
	if r.n > toldRestarts {
		fmt.Fprintf(r.w, "the suite ran in %d fresh processes after the first: each spec that stopped it cost one\n", r.n)
	}
}

// take moves the results of the named specs found in ran into results, and
// returns the names still without one.
func take(results map[string]grader.Row, names []string, ran []types.SpecReport) []string {
	got := map[string]grader.Row{}
	for _, sr := range ran {
		if sr.State == types.SpecStateSkipped || sr.State == types.SpecStatePending {
			continue
		}
		if row, ok := grader.RowOf(sr); ok {
			got[SpecName(sr)] = row
		}
	}
	var left []string
	for _, n := range names {
		if row, ok := got[n]; ok {
			results[n] = row
		} else {
			left = append(left, n)
		}
	}
	return left
}

// buildSuite compiles the tree's test binary into a temporary folder and
// returns its path, and a function that removes it. A tree that does not
// compile is an error carrying the compiler's output. The build has a time
// limit and its binary a size limit: what a huge static array costs.
func buildSuite(o Options, pkg string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "pbftlab-suite-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	bin := filepath.Join(dir, filepath.Base(pkg)+".test")
	// Without cgo and without a symbol table or DWARF the link, which no
	// cache saves for go test -c, takes about half the time; a panic's
	// stack still names every function and line (from pclntab). Batch
	// grading pays the link once per submission. Vet is off: it is the
	// student's tool (make test runs it), and a grade must not refuse a
	// replica that compiles because of a Logf format vet dislikes.
	args := []string{"test", "-c", "-vet=off", "-o", bin, "-ldflags=-s -w"}
	if o.Overlay != "" {
		args = append(args, "-overlay", o.Overlay)
	}
	cmd := exec.Command("go", append(args, "./"+pkg)...)
	cmd.Dir = o.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out := newHeadTail(o.Limits.Output)
	cmd.Stdout = io.MultiWriter(out, o.Log)
	cmd.Stderr = cmd.Stdout
	why, err := runBounded(o.Ctx, cmd, o.Limits.Build, nil, 0, o.Limits.BuildMemory)
	if err == nil && why == "" && cmd.ProcessState.Success() {
		if fi, err := os.Stat(bin); err == nil && fi.Size() > o.Limits.Binary {
			cleanup()
			return "", nil, fmt.Errorf("the tree %s builds a test binary of %d MB; the limit is %d MB (a huge array?)", o.Tree, fi.Size()>>20, o.Limits.Binary>>20)
		}
		return bin, cleanup, nil
	}
	cleanup()
	switch {
	case err != nil:
		return "", nil, fmt.Errorf("building the tree %s: %w", o.Tree, err)
	case o.Ctx.Err() != nil:
		return "", nil, errStopped
	case why != "":
		return "", nil, fmt.Errorf("the tree %s did not compile within %s: the compiler was stopped (a huge array or constant?)", o.Tree, o.Limits.Build)
	}
	msg := out.String()
	if o.Unmap != nil {
		msg = o.Unmap(msg)
	}
	if o.Limits.BuildMemory > 0 && strings.Contains(msg, "out of memory") {
		return "", nil, fmt.Errorf("the tree %s did not compile: the compiler ran out of its %d MB (generic functions that instantiate each other without end?); its output is in suite.log", o.Tree, o.Limits.BuildMemory>>20)
	}
	return "", nil, fmt.Errorf("the tree %s does not build:\n%s", o.Tree, grader.Tail(msg, 60))
}

// suiteRun is what one test process left: its spec reports (none if it
// left no report), its output and, if it was stopped, why.
type suiteRun struct {
	specs   []types.SpecReport
	out     string
	stopped string // "" when it ended by itself
	code    int
	report  bool // it wrote its report (grader.Settings.Report): it ended normally
}

// finished is every spec the process finished: its own report when it
// wrote one, else what it appended to the progress file before it died.
func (r suiteRun) finished(o Options) []types.SpecReport {
	if r.report {
		return r.specs
	}
	return slices.Collect(maps.Values(o.Report.progress().reports()))
}

// death says why a process that ran one spec left no result for it.
func (r suiteRun) death() string {
	switch {
	case r.stopped != "":
		return "the test process was stopped: " + r.stopped + "; its last output:\n" + grader.Tail(r.out, 40)
	case strings.Contains(r.out, "out of memory") || strings.Contains(r.out, "cannot allocate memory"):
		return "the test process ran out of memory: each has a limit (a replica that keeps everything, or allocates without bound?); its last output:\n" + grader.Tail(r.out, 40)
	}
	return grader.ExplainDeath(r.out)
}

// suiteGOGC is the test process's GOGC. The suite allocates fast and keeps
// little (the reference's grade peaks near 100 MB), so at Go's default the
// collector takes an eighth of its processor time; letting the heap grow
// to five times what it keeps saves most of that. The bounds do not move:
// GOMEMLIMIT makes the collector work harder as the heap nears it, and
// the address space stays capped.
const suiteGOGC = "400"

// runSuite runs the compiled suite directly, in the tree's folder as go
// test would, and returns what it left. The process is bounded: its
// memory, its output kept, its time without progress, its time in all.
func runSuite(o Options, bin, pkg, filter string, dry bool) (suiteRun, error) {
	var r suiteRun
	dir, err := os.MkdirTemp("", "pbftlab-grade-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	report := filepath.Join(dir, "report.json")
	// One seed of spec order for every process: the dry run's order is the
	// order every run keeps, which runGroup counts on.
	args := []string{"-test.run=^TestGrade$", "-ginkgo.no-color", "-ginkgo.silence-skips", "-ginkgo.seed=1",
		"-ginkgo.timeout=1h", "-ginkgo.grace-period=2s"}
	if dry {
		args = append(args, "-ginkgo.dry-run")
	}
	if filter != "" {
		args = append(args, "-ginkgo.label-filter="+filter)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = filepath.Join(o.Root, filepath.FromSlash(pkg))
	st, err := o.settings()
	if err != nil {
		return r, err
	}
	st.Report = report
	if !dry {
		st.Progress = o.Report.progressFile()
	}
	cmd.Env = append(os.Environ(), st.Env(), "GOMEMLIMIT="+o.Limits.GoMem, "GOGC="+suiteGOGC)
	cmd.Env = append(cmd.Env, o.Env...)
	out := newHeadTail(o.Limits.Output)
	// The dry run's own output (a suite of skipped specs that "passed")
	// is kept for its errors only: under -v it would read as a verdict.
	cmd.Stdout = out
	if !dry {
		cmd.Stdout = io.MultiWriter(out, o.Log)
	}
	cmd.Stderr = cmd.Stdout
	limit, watch, stall := o.Limits.Total, "", time.Duration(0)
	if dry {
		limit = o.Limits.List
	} else {
		watch, stall = o.Report.progressFile(), o.Limits.stallLimit(st.Runs)
	}
	r.stopped, err = runBounded(o.Ctx, cmd, limit, &watch, stall, o.Limits.Memory)
	r.out = out.String()
	if err != nil {
		return r, fmt.Errorf("running the suite: %w", err)
	}
	if o.Ctx.Err() != nil {
		return r, errStopped
	}
	r.code = cmd.ProcessState.ExitCode()
	data, err := os.ReadFile(report)
	if err != nil {
		return r, nil
	}
	var reports []types.Report
	if err := json.Unmarshal(data, &reports); err != nil {
		return r, nil
	}
	r.report = true
	for _, rep := range reports {
		for _, sr := range rep.SpecReports {
			if sr.LeafNodeType == types.NodeTypeIt {
				r.specs = append(r.specs, sr)
			}
		}
	}
	return r, nil
}

// runBounded runs cmd in a process group of its own and stops the group
// when ctx is done, when limit has passed, or when the file *watch has not
// grown for stall. memory, if not 0, caps the process's address space. It
// returns why it stopped the process ("" if it ended by itself) and an
// error only if the process could not start.
func runBounded(ctx context.Context, cmd *exec.Cmd, limit time.Duration, watch *string, stall time.Duration, memory uint64) (string, error) {
	if ctx == nil {
		ctx = context.Background() // nothing stops it from outside
	}
	ownGroup(cmd)
	cmd.WaitDelay = 2 * time.Second // a pipe held open by a stray process does not hold the grade
	if err := cmd.Start(); err != nil {
		return "", err
	}
	if memory > 0 {
		_ = limitMemory(cmd.Process.Pid, memory)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	var size int64 = -1
	lastGrowth := time.Now()
	stop := func() {
		signalGroup(cmd, os.Kill)
		<-done
	}
	for {
		select {
		case <-done:
			return "", nil
		case <-ctx.Done():
			stop()
			return "the grade was stopped", nil
		case <-deadline.C:
			stop()
			return fmt.Sprintf("it ran longer than %s", limit), nil
		case <-poll.C:
			if watch == nil || stall <= 0 {
				continue
			}
			var now int64
			if fi, err := os.Stat(*watch); err == nil {
				now = fi.Size()
			}
			if now != size {
				size, lastGrowth = now, time.Now()
			} else if time.Since(lastGrowth) > stall {
				stop()
				return fmt.Sprintf("no spec finished for %s (a replica stuck where the grader's own limit could not stop it?)", stall), nil
			}
		}
	}
}

// TreePackage checks that the tree is a folder of the module with a grade
// test, and returns its path relative to the root.
func TreePackage(o Options) (string, error) {
	dir := o.Tree
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(o.Root, dir)
	}
	rel, err := filepath.Rel(o.Root, dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("tree %s is not inside the kit at %s", o.Tree, o.Root)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if len(matches) == 0 {
		return "", fmt.Errorf("tree %s has no grade test (want a file like %s/grade_test.go)", o.Tree, rel)
	}
	return filepath.ToSlash(rel), nil
}

// labelFilter turns -case and -phase into a ginkgo label filter.
func labelFilter(o Options) string {
	var parts []string
	if o.Only != "" {
		parts = append(parts, "case: containsAny {"+o.Only+"}")
	}
	if o.Phase != "" {
		parts = append(parts, "phase: containsAny {"+o.Phase+"}")
	}
	// The specs a student can pass once the phases up to o.upto are done:
	// those that need no later one.
	if later := script.PhasesAfter(o.Upto); len(later) > 0 {
		parts = append(parts, "!(phase: containsAny {"+strings.Join(later, ", ")+"})")
	}
	return strings.Join(parts, " && ")
}

// SpecName is the spec's case label, which names it uniquely.
func SpecName(sr types.SpecReport) string {
	for _, l := range sr.Labels() {
		if name, ok := strings.CutPrefix(l, "case:"); ok {
			return name
		}
	}
	return sr.LeafNodeText
}

// printFailures shows, under the table, a few lines for each spec that
// did not pass: what differed first and how to replay it. The rest (the
// whole message, the transcript, the diagram) is in the reports, and the
// last line says where.
func printFailures(w io.Writer, res grader.Result, reports string, replay func(name string) string) {
	failed := 0
	for _, row := range res.Rows {
		if row.State == "passed" {
			continue
		}
		failed++
		// A message quotes what the replica chose to say: escaped, so that
		// it cannot move the cursor or draw a summary of its own.
		fmt.Fprintf(w, "\n--- %s: %s\n%s", row.Name, row.State, report.Printable(failureText(row.Message, replay(row.Name))))
	}
	if failed > 0 {
		fmt.Fprintf(w, "\n%d spec(s) did not pass; the whole story of each, with its transcript and diagram: %s\n", failed, filepath.Join(reports, report.HTMLFile))
	}
}

// Suite is a tree's grading suite, compiled once so that many runs share
// one binary: the TA tools that grade a tree over and over (the generated
// mutants, each switched on by the environment) use it.
type Suite struct {
	o        Options
	bin, pkg string
	cleanup  func()
}

// Build compiles the suite of o's tree. The caller closes it.
func Build(o Options) (*Suite, error) {
	o = o.withDefaults()
	pkg, err := TreePackage(o)
	if err != nil {
		return nil, err
	}
	bin, cleanup, err := buildSuite(o, pkg)
	if err != nil {
		return nil, err
	}
	return &Suite{o: o, bin: bin, pkg: pkg, cleanup: cleanup}, nil
}

// Close removes the compiled suite.
func (s *Suite) Close() { s.cleanup() }

// List returns the specs the suite would run, without running any tree
// code. A suite that lists none is an error carrying its output.
func (s *Suite) List() ([]types.SpecReport, error) { return s.list("") }

// list is List of the specs that filter, a Ginkgo label filter, selects.
// The dry run lists them without running any tree code, so that a spec
// lost to a crashed process is still known and scored as lost.
func (s *Suite) list(filter string) ([]types.SpecReport, error) {
	ran, err := runSuite(s.o, s.bin, s.pkg, filter, true)
	if err != nil {
		return nil, err
	}
	if len(ran.specs) == 0 {
		return nil, fmt.Errorf("the tree %s did not build or holds no grade suite:\n%s", s.o.Tree, grader.Tail(ran.out, 60))
	}
	var specs []types.SpecReport
	for _, sr := range ran.specs {
		if sr.State != types.SpecStateSkipped {
			specs = append(specs, sr)
		}
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("no spec matches %s", filter)
	}
	return specs, nil
}

// Run runs specs, with env added to the test processes' environment,
// until each has a result, as a grade does, and returns the results by
// spec name (see SpecName).
func (s *Suite) Run(specs []types.SpecReport, env []string, progress io.Writer) (map[string]grader.Row, error) {
	o := s.o
	o.Env = append(slices.Clip(o.Env), env...)
	o.Log = io.Discard
	return runAll(o, s.bin, s.pkg, specs, progress)
}
