// Package mutants grades the grader. The mutant catalogue (the .mutant
// files beside this package's sources) is the grader's own test: each is
// a bug a student could plausibly write, as a small rewrite of the
// reference (see package rewrite), with the phase it belongs to. A mutant is
// killed when a spec of its phase loses points; one that survives, or
// that only specs of other phases catch, shows a gap in the cases.
//
// Its automatic mode (-auto) plants instead every mutant package mutate
// derives from the reference's TODO regions.
package mutants

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"pbftlab/grader"
	"pbftlab/grader/driver"
	"pbftlab/internal/cmdline"
	"pbftlab/internal/kit"
	"pbftlab/internal/submission"
	"pbftlab/script"
	"pbftlab/ta/rewrite"
)

// catalogue is the folder of the planted bugs, beside this package's
// sources.
const catalogue = "ta/mutants"

// mutantExt is the extension of the catalogue's files.
const mutantExt = ".mutant"

// baseline names the unchanged reference in the table.
const baseline = "(reference)"

// mutantResult is the grade of one mutant.
type mutantResult struct {
	rw      rewrite.Rewrite
	res     grader.Result
	err     error         // the grade could not run (it does not build, say)
	took    time.Duration // wall time of its grade
	inPhase []string      // specs of its phase that lost points
	others  []string      // other specs that lost points
}

func (m mutantResult) phase() string { return m.rw.Fields["phase"] }

func (m mutantResult) killed() bool { return m.err == nil && len(m.inPhase) > 0 }

type mutantOptions struct {
	root    string
	dir     string // the catalogue
	only    string
	runs    string
	workers int

	// The automatic mode (mutants_auto.go).
	auto        bool
	list        bool    // list the generated mutants, grade nothing
	equivalents string  // the reviewed list of equivalent mutants
	report      string  // where survivors.txt and results.json go
	minKill     float64 // fail below this kill rate, in percent; 0 never fails
}

// Command is "pbftlab mutants": it grades the catalogue's planted bugs,
// or with -auto the generated mutants, and prints which spec kills each.
func Command(args []string, stdout, stderr io.Writer) int {
	root, err := kit.Root()
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab mutants:", err)
		return cmdline.ExitUsage
	}
	o := mutantOptions{root: root}
	fs := cmdline.NewFlags("pbftlab", "mutants", "mutants [-only NAME[,NAME]] [-runs N] [-j WORKERS] [-dir DIR] | mutants -auto [-list] [-only ID[,PATTERN]] [-min-kill PCT] [-equivalent FILE] [-report DIR]", stderr)
	fs.StringVar(&o.dir, "dir", filepath.Join(root, catalogue), "the catalogue: a folder of "+mutantExt+" files")
	fs.StringVar(&o.only, "only", "", "grade only these mutants, comma-separated (with -auto, IDs or patterns such as 'Replica.onPrepare:*')")
	fs.StringVar(&o.runs, "runs", "", "seeds per case (default 3, as a grade)")
	fs.IntVar(&o.workers, "j", runtime.NumCPU(), "mutants graded at once")
	fs.BoolVar(&o.auto, "auto", false, "grade the mutants generated from every TODO region of solution/ and the helpers it calls, instead of the catalogue")
	fs.BoolVar(&o.list, "list", false, "with -auto: list the generated mutants and grade nothing")
	fs.StringVar(&o.equivalents, "equivalent", filepath.Join(root, catalogue, equivalentsFile), "with -auto: the reviewed list of equivalent mutants, one ID and its reason a line")
	fs.StringVar(&o.report, "report", filepath.Join(root, "reports", "mutants"), "with -auto: where survivors.txt and results.json are written")
	fs.Float64Var(&o.minKill, "min-kill", 0, "with -auto: fail when fewer than this percentage of the mutants not listed as equivalent are killed in their phase (0: survivors never fail)")
	if code, ok := cmdline.ParseNone("pbftlab", fs, args); !ok {
		return code
	}
	if o.auto {
		return runAutoMutants(o, stdout, stderr)
	}
	results, err := gradeMutants(o, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab mutants:", err)
		return cmdline.ExitUsage
	}
	printMutants(stdout, results)
	for _, r := range results {
		if r.rw.Name != baseline && !r.killed() {
			return cmdline.ExitFailed
		}
	}
	return cmdline.ExitOK
}

// loadMutants reads the catalogue, keeps the mutants asked for, and checks
// that each one has a known phase and still fits the reference.
func loadMutants(o mutantOptions) ([]rewrite.Rewrite, error) {
	all, err := rewrite.Load(o.dir, mutantExt)
	if err != nil {
		return nil, err
	}
	var keep []rewrite.Rewrite
	var problems []string
	for _, rw := range all {
		if o.only != "" && !slices.Contains(strings.Split(o.only, ","), rw.Name) {
			continue
		}
		if !slices.Contains(script.Phases(), rw.Fields["phase"]) {
			problems = append(problems, fmt.Sprintf("%s: phase %q is not one of %s", rw.Name, rw.Fields["phase"], strings.Join(script.Phases(), ", ")))
		}
		for _, f := range rw.Files() {
			if !strings.HasPrefix(f, "solution/") || strings.HasSuffix(f, "_test.go") {
				problems = append(problems, fmt.Sprintf("%s: changes %s; a mutant changes the reference's code in solution/", rw.Name, f))
			}
		}
		if _, err := rw.ApplyTo(rewrite.ReadUnder(o.root)); err != nil {
			problems = append(problems, err.Error())
		}
		keep = append(keep, rw)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("the catalogue does not fit the reference:\n  %s", strings.Join(problems, "\n  "))
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("no mutant named %s in %s", o.only, o.dir)
	}
	return keep, nil
}

// gradeMutants grades the reference, then every mutant, each in a copy of
// the kit of its own worker, and returns the results in catalogue order
// with the reference first.
func gradeMutants(o mutantOptions, progress io.Writer) ([]mutantResult, error) {
	mutants, err := loadMutants(o)
	if err != nil {
		return nil, err
	}
	jobs := append([]rewrite.Rewrite{{Name: baseline}}, mutants...)
	workers := max(1, min(o.workers, len(jobs)))
	progress = &lockedWriter{w: progress}
	fmt.Fprintf(progress, "grading the reference and %d mutants, %d at a time\n", len(mutants), workers)
	results := make([]mutantResult, len(jobs))
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			dir, err := os.MkdirTemp("", "pbftlab-mutant-")
			if err != nil {
				errs <- err
				return
			}
			defer os.RemoveAll(dir)
			if err := submission.CopyKit(o.root, dir, skipForMutants); err != nil {
				errs <- err
				return
			}
			for i := range next {
				results[i] = gradeMutant(o, dir, jobs[i])
				r := results[i]
				fmt.Fprintf(progress, "  %-34s %s\n", r.rw.Name, r.verdict())
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	if b := results[0]; b.err != nil || !b.res.Passed() {
		return results, fmt.Errorf("the reference itself does not pass in a copy of the kit, so no mutant result means anything:\n%s", b.verdict())
	}
	return results, nil
}

// skipForMutants leaves out of a worker's copy what grading the reference
// does not need.
func skipForMutants(rel string) bool {
	return kit.Under(rel, kit.Leftovers()...) || kit.Under(rel, "skeleton", kit.TA)
}

// gradeMutant puts the reference back in the copy at dir, plants the
// mutant and grades the copy's solution/.
func gradeMutant(o mutantOptions, dir string, rw rewrite.Rewrite) (r mutantResult) {
	start := time.Now()
	r.rw = rw
	defer func() { r.took = time.Since(start) }()
	// Every file of solution/ back as the kit has it: the last mutant
	// graded in this copy may have changed any of them.
	pristine, err := filepath.Glob(filepath.Join(o.root, "solution", "*.go"))
	if err != nil {
		r.err = err
		return r
	}
	for _, p := range pristine {
		data, err := os.ReadFile(p)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "solution", filepath.Base(p)), data, 0o644)
		}
		if err != nil {
			r.err = err
			return r
		}
	}
	if len(rw.Hunks) > 0 {
		changed, err := rw.ApplyTo(rewrite.ReadUnder(dir))
		if err != nil {
			r.err = err
			return r
		}
		for file, data := range changed {
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(file)), data, 0o644); err != nil {
				r.err = err
				return r
			}
		}
	}
	var log bytes.Buffer
	g := driver.Options{Root: dir, Tree: "solution", Cases: filepath.Join(o.root, "cases"), Runs: o.runs,
		Reports: filepath.Join(dir, "reports"), Log: &log}
	r.res, r.err = driver.Grade(g, io.Discard)
	phase := r.phase()
	for _, row := range r.res.Rows {
		if row.Points >= row.Max {
			continue
		}
		if slices.Contains(row.Phases, phase) {
			r.inPhase = append(r.inPhase, row.Name)
		} else {
			r.others = append(r.others, row.Name)
		}
	}
	return r
}

// verdict says in a few words how the mutant fared.
func (m mutantResult) verdict() string {
	switch {
	case m.err != nil:
		return "NOT GRADED: " + grader.Head(m.err.Error(), 3)
	case m.rw.Name == baseline && m.res.Passed():
		return "passes, " + m.score()
	case m.rw.Name == baseline:
		return "FAILS: " + strings.Join(append(m.inPhase, m.others...), ", ")
	case m.killed():
		return fmt.Sprintf("killed by %s, %s", strings.Join(m.inPhase, ", "), m.score())
	case len(m.others) > 0:
		return fmt.Sprintf("SURVIVES its phase (only %s lost points)", strings.Join(m.others, ", "))
	}
	return "SURVIVES: every spec passed"
}

func (m mutantResult) score() string {
	return fmt.Sprintf("%d/%d, robustness %d/%d", m.res.Score, m.res.Max, m.res.RobScore, m.res.RobMax)
}

// printMutants prints the table: each mutant, its phase, the specs of its
// phase that lost points (the first two, and how many more; then how many
// specs of other phases did), and its score. The full lists are in the
// progress lines above the table.
func printMutants(w io.Writer, results []mutantResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MUTANT\tPHASE\tKILLED BY\tSCORE\tROBUSTNESS\tTIME")
	killed, total := 0, 0
	for _, r := range results {
		by := strings.Join(r.inPhase[:min(2, len(r.inPhase))], ", ")
		if more := len(r.inPhase) - 2; more > 0 {
			by += fmt.Sprintf(" +%d", more)
		}
		switch {
		case r.err != nil:
			by = "NOT GRADED"
		case r.rw.Name == baseline:
			by = "-"
		case by == "":
			by = "SURVIVED"
		}
		if len(r.others) > 0 {
			by += fmt.Sprintf(" (and %d of other phases)", len(r.others))
		}
		phase := r.phase()
		if r.rw.Name == baseline {
			phase = "-"
		} else {
			total++
			if r.killed() {
				killed++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%d/%d\t%s\n", r.rw.Name, phase, by, r.res.Score, r.res.Max, r.res.RobScore, r.res.RobMax, r.took.Round(100*time.Millisecond))
	}
	tw.Flush()
	fmt.Fprintf(w, "Killed: %d/%d mutants, each by a spec of its phase\n", killed, total)
	for _, r := range results {
		if r.rw.Name != baseline && !r.killed() {
			fmt.Fprintf(w, "\n%s (%s) %s\n  %s\n", r.rw.Name, r.phase(), r.verdict(), r.rw.About)
		}
	}
}

// lockedWriter lets workers write whole lines to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
