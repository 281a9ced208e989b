package main

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
	"pbftlab/sim"
)

// gradeOptions say what to grade and how.
type gradeOptions struct {
	root     string // module root; commands run there
	tree     string // the tree's package folder, relative to root
	cases    string // case folder (absolute)
	only     string // one case name, or ""
	phase    string // one phase, or ""
	upto     string // the last phase done, or "" (see labelFilter)
	seed     string
	runs     string
	schedule string // the order of deliveries every seed plays, when set
	reports  string // report folder (absolute)
	verbose  bool
	log      io.Writer     // the suite's own output goes here too
	env      []string      // more environment for the suite's processes
	rep      reportOptions // what the reports need, and the grade's progress (reports.go)
	// ctx stops the grade: an interrupt, or the bound on its time. Nil
	// means it is never stopped from outside.
	ctx     context.Context
	overlay string // a go build -overlay file: a submission's files in the tree
	lim     limits // zero means defaultLimits
}

// settings are what the suite is told: the cases, the tree's name and the
// seeds.
func (o gradeOptions) settings() (grader.Settings, error) {
	st := grader.DefaultSettings()
	st.Cases, st.Tree, st.ScheduleText = o.cases, filepath.Base(o.tree), o.schedule
	var err error
	if st.Seed, st.Runs, err = seedsOf(o.seed, o.runs, st); err != nil {
		return st, err
	}
	return st, nil
}

// seedsOf reads a first seed and a number of runs as typed, each
// defaulting to st's when empty.
func seedsOf(seed, runs string, st grader.Settings) (uint64, int, error) {
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

func runGrade(args []string, stdout, stderr io.Writer) int {
	// An interrupt must not end the process past its clean-up: it stops
	// the grade, which then removes its work folders and writes reports.
	ctx, stopSignals := cmdline.InterruptContext(context.Background())
	defer stopSignals()
	root, err := kit.Root()
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab grade:", err)
		return exitUsage
	}
	o := gradeOptions{root: root, lim: defaultLimits()}
	fs := newFlags("grade", "grade [-tree DIR | -submission DIR] [-cases DIR] [-case NAME] [-phase PHASE] [-seed N] [-runs N] [-schedule S] [-reports DIR] [-v]", stderr)
	fs.StringVar(&o.tree, "tree", defaultTree(root), "the tree to grade: a folder of the module holding a grade test")
	sub := submissionFlag(fs)
	fs.StringVar(&o.cases, "cases", filepath.Join(root, "cases"), "the folder of case files")
	fs.StringVar(&o.only, "case", "", "grade this case only (its file name without .case)")
	fs.StringVar(&o.phase, "phase", "", "grade only the specs of this phase ("+strings.Join(phaseNames(), ", ")+")")
	fs.StringVar(&o.upto, "upto", "", "grade only the specs that need no phase after this one, in the handout's order")
	fs.StringVar(&o.seed, "seed", "", "first seed of the message order (default 1)")
	fs.StringVar(&o.runs, "runs", "", "seeds per case (default 3)")
	fs.StringVar(&o.schedule, "schedule", "", "play every seed on this order of deliveries (a failure's replay command names it: at:rank pairs, or fifo)")
	fs.StringVar(&o.reports, "reports", filepath.Join(root, "reports"), "where to write the reports")
	fs.BoolVar(&o.verbose, "v", false, "show the suite's own output as it runs")
	addReportFlags(fs, &o.rep)
	addLimitFlags(fs, &o.lim)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if o.schedule != "" {
		if _, err := sim.ParseSchedule(o.schedule); err != nil {
			fmt.Fprintln(stderr, "pbftlab grade: -schedule:", err)
			return exitUsage
		}
	}
	for _, p := range []string{o.phase, o.upto} {
		if p != "" && !validPhase(p) {
			fmt.Fprintf(stderr, "pbftlab grade: unknown phase %q (phases: %s)\n", p, strings.Join(phaseNames(), ", "))
			return exitUsage
		}
	}
	for _, p := range []*string{&o.cases, &o.reports} {
		if *p, err = filepath.Abs(*p); err != nil {
			fmt.Fprintln(stderr, "pbftlab grade:", err)
			return exitUsage
		}
	}
	ctx, cancel := context.WithTimeoutCause(ctx, o.lim.total, errTooLong)
	defer cancel()
	o.ctx = ctx
	start := time.Now()
	if *sub != "" {
		var why bytes.Buffer
		o.rep.from = *sub
		ws, code := openSubmission(&o, *sub, fs, stdout, io.MultiWriter(stderr, &why))
		if ws == nil {
			reportFailure(o, why.String(), time.Since(start), stderr)
			return code
		}
		defer ws.Close()
	}
	if err := os.MkdirAll(o.reports, 0o755); err != nil {
		fmt.Fprintln(stderr, "pbftlab grade:", err)
		return exitUsage
	}
	logFile, err := os.Create(filepath.Join(o.reports, "suite.log"))
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab grade:", err)
		return exitUsage
	}
	defer logFile.Close()
	o.log = logFile
	if o.verbose {
		o.log = io.MultiWriter(logFile, stdout)
	}

	defer followProgress(&o, stderr)()
	res, err := grade(o, stdout)
	if err != nil {
		if stopped := context.Cause(ctx); stopped != nil && errors.Is(err, errStopped) {
			why := "the grade was interrupted"
			if errors.Is(stopped, errTooLong) {
				why = fmt.Sprintf("the grade took longer than its limit of %s", o.lim.total)
			}
			fmt.Fprintf(stderr, "pbftlab grade: %s; the reports in %s say which cases did not run\n", why, o.reports)
			if err := o.rep.live.writeStopped(why, time.Since(start)); err != nil {
				fmt.Fprintln(stderr, "pbftlab grade: writing the reports:", err)
			}
			return exitUsage
		}
		fmt.Fprintf(stderr, "pbftlab grade: %v\n", err)
		reportFailure(o, err.Error(), time.Since(start), stderr)
		return exitUsage
	}
	fmt.Fprint(stdout, res.Table())
	printFailures(stdout, res, o.reports)
	if err := writeReports(o, res, time.Since(start)); err != nil {
		fmt.Fprintln(stderr, "pbftlab grade:", err)
		return exitUsage
	}
	if !res.Passed() {
		return exitFailed
	}
	return exitOK
}

// grade runs the suite on the tree and returns the result. An error means
// grading could not run at all: bad cases, a tree that does not build, or
// a grade stopped (errStopped) before every spec had a result.
func grade(o gradeOptions, progress io.Writer) (grader.Result, error) {
	var res grader.Result
	if o.ctx == nil {
		o.ctx = context.Background()
	}
	if o.lim == (limits{}) {
		o.lim = defaultLimits()
	}
	if o.log == nil {
		o.log = io.Discard
	}
	logged := capWriter(o.log, o.lim.log)
	defer logged.Close()
	o.log = logged

	cases, err := grader.LoadCases(o.cases)
	if err != nil {
		return res, err
	}
	if o.only != "" {
		if o.only, err = caseNamed(cases, o.only); err != nil {
			return res, fmt.Errorf("%w in %s", err, o.cases)
		}
	}
	pkg, err := treePackage(o)
	if err != nil {
		return res, err
	}
	filter := labelFilter(o)

	// The suite is built once; the dry run, the run and any reruns all use
	// that one binary.
	bin, cleanup, err := buildSuite(o, pkg)
	if err != nil {
		return res, err
	}
	defer cleanup()

	// Each spec that finishes appends its report to this file, so that
	// what a process finished before it died is known and not run again.
	if o.rep.live == nil {
		dir, err := os.MkdirTemp("", "pbftlab-progress-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		o.rep.log = newProgressLog(filepath.Join(dir, "progress.jsonl"))
	}

	// A dry run lists the specs without running any tree code, so that a
	// spec lost to a crashed process is still known and scored as lost.
	listed, err := runSuite(o, bin, pkg, filter, true)
	if err != nil {
		return res, err
	}
	if len(listed.specs) == 0 {
		return res, fmt.Errorf("the tree %s did not build or holds no grade suite:\n%s", o.tree, tail(listed.out, 60))
	}
	var specs []types.SpecReport
	for _, sr := range listed.specs {
		if sr.State != types.SpecStateSkipped {
			specs = append(specs, sr)
		}
	}
	if len(specs) == 0 {
		return res, fmt.Errorf("no spec matches %s", filter)
	}
	fmt.Fprintf(progress, "grading %s: %d specs, cases from %s\n", o.tree, len(specs), o.cases)
	o.rep.listed(specs)

	results, err := runAll(o, bin, pkg, specs, progress)
	if err != nil {
		return res, err
	}
	rows := make([]grader.Row, 0, len(specs))
	for _, want := range specs {
		if row, ok := results[specName(want)]; ok {
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
func runAll(o gradeOptions, bin, pkg string, specs []types.SpecReport, progress io.Writer) (map[string]grader.Row, error) {
	results := map[string]grader.Row{}
	byName := map[string]types.SpecReport{}
	var visible, hidden []string
	for _, sr := range specs {
		name := specName(sr)
		byName[name] = sr
		if o.rep.isHidden(name) {
			hidden = append(hidden, name)
		} else {
			visible = append(visible, name)
		}
	}
	for _, group := range [][]string{visible, hidden} {
		if err := runGroup(o, bin, pkg, group, byName, results, progress); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// runGroup runs one group of specs to the end, as runAll describes. The
// specs run in one fixed order (the suite's seed of order is fixed, and
// remaining keeps the dry run's order), so when a process dies the spec
// it was running is the first one left: it runs next on its own, to be
// scored as crashed if that process dies too, and the rest resume after
// it.
func runGroup(o gradeOptions, bin, pkg string, remaining []string, byName map[string]types.SpecReport, results map[string]grader.Row, progress io.Writer) error {
	alone := false
	for len(remaining) > 0 {
		if alone {
			name := remaining[0]
			fmt.Fprintf(progress, "grading %s on its own\n", name)
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
				fmt.Fprintf(progress, "resuming after %s: the %d specs left in a fresh process\n", name, len(remaining))
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
			fmt.Fprintf(progress, "the suite stopped early; running the %d specs left in a fresh process\n", len(remaining))
		}
	}
	return nil
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
			got[specName(sr)] = row
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
func buildSuite(o gradeOptions, pkg string) (string, func(), error) {
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
	if o.overlay != "" {
		args = append(args, "-overlay", o.overlay)
	}
	cmd := exec.Command("go", append(args, "./"+pkg)...)
	cmd.Dir = o.root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out := newHeadTail(o.lim.output)
	cmd.Stdout = io.MultiWriter(out, o.log)
	cmd.Stderr = cmd.Stdout
	why, err := runBounded(o.ctx, cmd, o.lim.build, nil, 0, 0)
	if err == nil && why == "" && cmd.ProcessState.Success() {
		if fi, err := os.Stat(bin); err == nil && fi.Size() > o.lim.binary {
			cleanup()
			return "", nil, fmt.Errorf("the tree %s builds a test binary of %d MB; the limit is %d MB (a huge array?)", o.tree, fi.Size()>>20, o.lim.binary>>20)
		}
		return bin, cleanup, nil
	}
	cleanup()
	switch {
	case err != nil:
		return "", nil, fmt.Errorf("building the tree %s: %w", o.tree, err)
	case o.ctx.Err() != nil:
		return "", nil, errStopped
	case why != "":
		return "", nil, fmt.Errorf("the tree %s did not compile within %s: the compiler was stopped (a huge array or constant?)", o.tree, o.lim.build)
	}
	return "", nil, fmt.Errorf("the tree %s does not build:\n%s", o.tree, tail(out.String(), 60))
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
func (r suiteRun) finished(o gradeOptions) []types.SpecReport {
	if r.report {
		return r.specs
	}
	return slices.Collect(maps.Values(o.rep.progress().reports()))
}

// death says why a process that ran one spec left no result for it.
func (r suiteRun) death() string {
	switch {
	case r.stopped != "":
		return "the test process was stopped: " + r.stopped + "; its last output:\n" + tail(r.out, 40)
	case strings.Contains(r.out, "out of memory") || strings.Contains(r.out, "cannot allocate memory"):
		return "the test process ran out of memory: each has a limit (a replica that keeps everything, or allocates without bound?); its last output:\n" + tail(r.out, 40)
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
func runSuite(o gradeOptions, bin, pkg, filter string, dry bool) (suiteRun, error) {
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
	cmd.Dir = filepath.Join(o.root, filepath.FromSlash(pkg))
	st, err := o.settings()
	if err != nil {
		return r, err
	}
	st.Report = report
	if !dry {
		st.Progress = o.rep.progressFile()
	}
	cmd.Env = append(os.Environ(), st.Env(), "GOMEMLIMIT="+o.lim.goMem, "GOGC="+suiteGOGC)
	cmd.Env = append(cmd.Env, o.env...)
	out := newHeadTail(o.lim.output)
	cmd.Stdout = io.MultiWriter(out, o.log)
	cmd.Stderr = cmd.Stdout
	limit, watch, stall := o.lim.total, "", time.Duration(0)
	if dry {
		limit = o.lim.list
	} else {
		watch, stall = o.rep.progressFile(), o.lim.stallLimit(st.Runs)
	}
	r.stopped, err = runBounded(o.ctx, cmd, limit, &watch, stall, o.lim.memory)
	r.out = out.String()
	if err != nil {
		return r, fmt.Errorf("running the suite: %w", err)
	}
	if o.ctx.Err() != nil {
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

// treePackage checks that the tree is a folder of the module with a grade
// test, and returns its path relative to the root.
func treePackage(o gradeOptions) (string, error) {
	dir := o.tree
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(o.root, dir)
	}
	rel, err := filepath.Rel(o.root, dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("tree %s is not inside the kit at %s", o.tree, o.root)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if len(matches) == 0 {
		return "", fmt.Errorf("tree %s has no grade test (want a file like %s/grade_test.go)", o.tree, rel)
	}
	return filepath.ToSlash(rel), nil
}

// labelFilter turns -case and -phase into a ginkgo label filter.
func labelFilter(o gradeOptions) string {
	var parts []string
	if o.only != "" {
		parts = append(parts, "case: consistsOf {"+o.only+"}")
	}
	if o.phase != "" {
		parts = append(parts, "phase: containsAny {"+o.phase+"}")
	}
	// The specs a student can pass once the phases up to o.upto are done:
	// those that need no later one.
	if later := phasesAfter(o.upto); len(later) > 0 {
		parts = append(parts, "!(phase: containsAny {"+strings.Join(later, ", ")+"})")
	}
	return strings.Join(parts, " && ")
}

// specName is the spec's case label, which names it uniquely.
func specName(sr types.SpecReport) string {
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
func printFailures(w io.Writer, res grader.Result, reports string) {
	failed := 0
	for _, row := range res.Rows {
		if row.State == "passed" {
			continue
		}
		failed++
		fmt.Fprintf(w, "\n--- %s: %s\n%s", row.Name, row.State, failureText(row.Message, row.Name))
	}
	if failed > 0 {
		fmt.Fprintf(w, "\n%d spec(s) did not pass; the whole story of each, with its transcript and diagram: %s\n", failed, filepath.Join(reports, report.HTMLFile))
	}
}

// tail keeps the last n lines of s.
func tail(s string, n int) string { return grader.Tail(s, n) }
