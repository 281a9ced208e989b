package mutants

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"pbftlab/grader"
	"pbftlab/grader/driver"
	"pbftlab/internal/cmdline"
	"pbftlab/internal/submission"
	"pbftlab/script"
	"pbftlab/ta/mutate"
)

// The automatic mode of "mutants" (-auto) plants, instead of the
// catalogue's hand-written bugs, every mutant package mutate derives from
// the TODO regions of solution/ and the helpers they call. They are all
// compiled into one suite binary, a mutant schema, and each is graded as
// "make grade" grades, same cases and seeds, with itself turned on. A
// mutant is killed when a spec of its phase loses points; one that
// reviewers found no run can tell from the reference is listed, with the
// reason, in the equivalents file and reported as equivalent.

// autoTree is the folder of the reference the automatic mode mutates.
const autoTree = "solution"

// equivalentsFile is the reviewed list of equivalent mutants, beside the
// catalogue.
const equivalentsFile = "equivalent.txt"

// autoVerdict is how a mutant fared.
type autoVerdict string

const (
	verdictKilled     autoVerdict = "killed"
	verdictElsewhere  autoVerdict = "killed elsewhere"
	verdictSurvived   autoVerdict = "survived"
	verdictEquivalent autoVerdict = "equivalent"
	verdictNotGraded  autoVerdict = "not graded"
)

// autoResult is the grade of one generated mutant.
type autoResult struct {
	m          *mutate.Mutant
	equivalent string   // the reviewed reason, when listed as equivalent
	inPhase    []string // specs of its phases that lost points
	others     []string // specs of other phases that lost points; only looked for when none of its phases did
	err        error
	took       time.Duration
}

func (r autoResult) verdict() autoVerdict {
	switch {
	case r.err != nil:
		return verdictNotGraded
	case len(r.inPhase) > 0:
		return verdictKilled
	case r.equivalent != "":
		return verdictEquivalent
	case len(r.others) > 0:
		return verdictElsewhere
	}
	return verdictSurvived
}

func (r autoResult) line() string {
	switch v := r.verdict(); v {
	case verdictNotGraded:
		return "NOT GRADED: " + grader.Head(r.err.Error(), 3)
	case verdictKilled:
		s := "killed by " + strings.Join(r.inPhase[:min(3, len(r.inPhase))], ", ")
		if more := len(r.inPhase) - 3; more > 0 {
			s += fmt.Sprintf(" +%d", more)
		}
		if r.equivalent != "" {
			s += " (LISTED AS EQUIVALENT: take it off " + equivalentsFile + ")"
		}
		return s
	case verdictEquivalent:
		return "equivalent: " + r.equivalent
	case verdictElsewhere:
		return "SURVIVES its phase (only " + strings.Join(r.others, ", ") + " lost points)"
	}
	return "SURVIVES: every spec passed"
}

// runAutoMutants is "mutants -auto".
func runAutoMutants(o mutantOptions, stdout, stderr io.Writer) int {
	p, err := mutate.Discover(o.root, autoTree)
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab mutants:", err)
		return cmdline.ExitUsage
	}
	eq, err := mutate.Equivalents(o.equivalents)
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab mutants:", err)
		return cmdline.ExitUsage
	}
	known := map[string]bool{}
	for _, m := range p.Mutants {
		known[m.ID] = true
	}
	for _, id := range slices.Sorted(mapKeys(eq)) {
		if !known[id] {
			fmt.Fprintf(stderr, "pbftlab mutants: %s lists %s, which the reference no longer has; take it off\n", o.equivalents, id)
		}
	}
	var picked []*mutate.Mutant
	for _, m := range p.Mutants {
		if selected(o.only, m.ID) {
			picked = append(picked, m)
		}
	}
	if len(picked) == 0 {
		fmt.Fprintf(stderr, "pbftlab mutants: no generated mutant matches %q\n", o.only)
		return cmdline.ExitUsage
	}
	if o.list {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPHASE\tCHANGE")
		for _, m := range picked {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", m.ID, m.Phase(), m.Describe())
		}
		tw.Flush()
		fmt.Fprintf(stdout, "%d mutants\n", len(picked))
		return cmdline.ExitOK
	}
	start := time.Now()
	results, err := gradeAuto(o, p, picked, eq, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab mutants:", err)
		return cmdline.ExitUsage
	}
	printAutoTable(stdout, results)
	fmt.Fprintf(stdout, "graded in %s\n", time.Since(start).Round(time.Second))
	if err := writeAutoReport(o.report, p, results); err != nil {
		fmt.Fprintln(stderr, "pbftlab mutants:", err)
		return cmdline.ExitUsage
	}
	fmt.Fprintf(stdout, "survivors, with their diffs: %s\n", filepath.Join(o.report, "survivors.txt"))
	for _, r := range results {
		if r.verdict() == verdictNotGraded {
			return cmdline.ExitFailed
		}
	}
	if rate := killRate(results); o.minKill > 0 && rate < o.minKill {
		fmt.Fprintf(stdout, "the kill rate %.1f%% is below -min-kill %.1f%%\n", rate, o.minKill)
		return cmdline.ExitFailed
	}
	return cmdline.ExitOK
}

// selected reports whether a mutant ID is among the comma-separated IDs
// or patterns of only (everything when only is empty).
func selected(only, id string) bool {
	if only == "" {
		return true
	}
	for p := range strings.SplitSeq(only, ",") {
		p = strings.TrimSpace(p)
		if ok, _ := path.Match(p, id); ok || p == id {
			return true
		}
	}
	return false
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// gradeAuto builds the schema once in a copy of the kit, checks that with
// no mutant on it earns every point, and grades each mutant.
func gradeAuto(o mutantOptions, p *mutate.Plan, picked []*mutate.Mutant, eq map[string]string, progress io.Writer) ([]autoResult, error) {
	dir, err := os.MkdirTemp("", "pbftlab-schema-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := submission.CopyKit(o.root, dir, skipForMutants); err != nil {
		return nil, err
	}
	for file, data := range p.Schema() {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(file)), data, 0o644); err != nil {
			return nil, err
		}
	}
	var log bytes.Buffer
	g := driver.Options{Root: dir, Tree: autoTree, Cases: filepath.Join(o.root, "cases"), Runs: o.runs, Log: &log}
	fmt.Fprintf(progress, "building the schema of %d mutants\n", len(p.Mutants))
	suite, err := driver.Build(g)
	if err != nil {
		return nil, fmt.Errorf("the mutant schema does not build: %w", err)
	}
	defer suite.Close()
	specs, err := suite.List()
	if err != nil {
		return nil, err
	}
	if base := gradeMutantOn(suite, specs, nil); base.err != nil || len(base.others) > 0 {
		return nil, fmt.Errorf("with no mutant on, the schema loses points (%s), so no mutant result means anything", base.line())
	}
	workers := max(1, min(o.workers, len(picked)))
	fmt.Fprintf(progress, "grading %d mutants, %d at a time\n", len(picked), workers)
	progress = &lockedWriter{w: progress}
	results := make([]autoResult, len(picked))
	next := make(chan int)
	var wg sync.WaitGroup
	var done int
	var mu sync.Mutex
	for range workers {
		wg.Go(func() {
			for i := range next {
				r := gradeMutantOn(suite, specs, picked[i])
				r.equivalent = eq[picked[i].ID]
				results[i] = r
				mu.Lock()
				done++
				n := done
				mu.Unlock()
				fmt.Fprintf(progress, "  [%d/%d] %-44s %s\n", n, len(picked), r.m.ID, r.line())
			}
		})
	}
	for i := range picked {
		next <- i
	}
	close(next)
	wg.Wait()
	return results, nil
}

// gradeMutantOn grades the schema with mutant m on (the reference when m is
// nil): first the specs of its phases, and only when none of them lost
// points the others, so that the usual verdict costs one short run. For
// the reference, every spec is "other".
func gradeMutantOn(suite *driver.Suite, specs []types.SpecReport, m *mutate.Mutant) (r autoResult) {
	start := time.Now()
	r.m = m
	defer func() { r.took = time.Since(start) }()
	n := 0
	var phases []string
	if m != nil {
		n, phases = m.N, m.Phases
	}
	env := []string{fmt.Sprintf("%s=%d", mutate.EnvVar, n)}
	var mine, rest []types.SpecReport
	for _, sr := range specs {
		row, _ := grader.RowOf(sr)
		if slices.ContainsFunc(row.Phases, func(p string) bool { return slices.Contains(phases, p) }) {
			mine = append(mine, sr)
		} else {
			rest = append(rest, sr)
		}
	}
	lost := func(part []types.SpecReport) ([]string, error) {
		if len(part) == 0 {
			return nil, nil
		}
		rows, err := suite.Run(part, env, io.Discard)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, sr := range part {
			row, ok := rows[driver.SpecName(sr)]
			if !ok || row.Points < row.Max {
				names = append(names, driver.SpecName(sr))
			}
		}
		return names, nil
	}
	if r.inPhase, r.err = lost(mine); r.err != nil || len(r.inPhase) > 0 {
		return r
	}
	r.others, r.err = lost(rest)
	return r
}

// killRate is the share of mutants not listed as equivalent that a spec of
// their phase kills, in percent.
func killRate(results []autoResult) float64 {
	killed, counted := 0, 0
	for _, r := range results {
		switch r.verdict() {
		case verdictEquivalent:
		case verdictKilled:
			killed++
			counted++
		default:
			counted++
		}
	}
	if counted == 0 {
		return 100
	}
	return 100 * float64(killed) / float64(counted)
}

// printAutoTable prints a row per phase, a total and then every mutant
// that no spec of its phase kills.
func printAutoTable(w io.Writer, results []autoResult) {
	byPhase := map[string][]autoResult{}
	for _, r := range results {
		byPhase[r.m.Phase()] = append(byPhase[r.m.Phase()], r)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "PHASE\tGENERATED\tKILLED IN PHASE\tKILLED ONLY ELSEWHERE\tSURVIVED\tEQUIVALENT\tNOT GRADED\tKILL RATE\t")
	row := func(name string, rs []autoResult) {
		count := map[autoVerdict]int{}
		for _, r := range rs {
			count[r.verdict()]++
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f%%\t\n", name, len(rs), count[verdictKilled], count[verdictElsewhere],
			count[verdictSurvived], count[verdictEquivalent], count[verdictNotGraded], killRate(rs))
	}
	for _, ph := range script.Phases() {
		if rs := byPhase[ph]; len(rs) > 0 {
			row(ph, rs)
		}
	}
	row("total", results)
	tw.Flush()
	fmt.Fprintln(w, "A mutant of a helper that regions of several phases call is killed in phase by a spec of any of them; it is listed under the first.")
	var open []autoResult
	for _, r := range results {
		if v := r.verdict(); v != verdictKilled && v != verdictEquivalent {
			open = append(open, r)
		}
	}
	if len(open) > 0 {
		fmt.Fprintf(w, "\n%d mutants no spec of their phase kills:\n", len(open))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, r := range open {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.m.ID, r.m.Phase(), r.verdict(), r.m.Describe())
		}
		tw.Flush()
	}
	for _, r := range results {
		if r.equivalent != "" && r.verdict() == verdictKilled {
			fmt.Fprintf(w, "%s is listed as equivalent, yet %s\n", r.m.ID, r.line())
		}
	}
}

// writeAutoReport writes, in dir, survivors.txt: every mutant no spec of
// its phase kills, each as a rewrite that can be planted again (copy it into
// mutants/NAME.mutant) and results.json, every mutant's verdict.
func writeAutoReport(dir string, p *mutate.Plan, results []autoResult) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Mutants of %s that no spec of their phase kills, each a rewrite as\n# ta/mutants/*.mutant are: write a spec that fails it, then keep it there.\n", autoTree)
	type entry struct {
		ID       string   `json:"id"`
		Phases   []string `json:"phases"`
		Kind     string   `json:"kind"`
		File     string   `json:"file"`
		Line     int      `json:"line"`
		Helper   bool     `json:"helper"`
		Change   string   `json:"change"`
		Verdict  string   `json:"verdict"`
		Reason   string   `json:"equivalent_reason,omitempty"`
		KilledBy []string `json:"killed_by,omitempty"`
		Others   []string `json:"killed_elsewhere_by,omitempty"`
		Error    string   `json:"error,omitempty"`
		Time     float64  `json:"seconds"`
	}
	var all []entry
	for _, r := range results {
		e := entry{ID: r.m.ID, Phases: r.m.Phases, Kind: string(r.m.Kind), File: r.m.File, Line: r.m.Line, Helper: r.m.Helper,
			Change: r.m.Describe(), Verdict: string(r.verdict()), Reason: r.equivalent, KilledBy: r.inPhase, Others: r.others,
			Time: r.took.Seconds()}
		if r.err != nil {
			e.Error = r.err.Error()
		}
		all = append(all, e)
		if v := r.verdict(); v == verdictKilled || v == verdictEquivalent {
			continue
		}
		fmt.Fprintf(&b, "\n==== %s (%s): %s\n# %s\nphase: %s\n%s", r.m.ID, r.m.Phase(), r.line(), r.m.Describe(), r.m.Phase(), p.Hunk(r.m))
	}
	if err := os.WriteFile(filepath.Join(dir, "survivors.txt"), b.Bytes(), 0o644); err != nil {
		return err
	}
	data, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.json"), append(data, '\n'), 0o644)
}
