package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"pbftlab/grader"
)

func init() {
	register(command{name: "grade", summary: "grade a tree against the cases and write reports/", run: runGrade})
}

// gradeOptions say what to grade and how.
type gradeOptions struct {
	root    string // module root; commands run there
	tree    string // the tree's package folder, relative to root
	cases   string // case folder (absolute)
	only    string // one case name, or ""
	phase   string // one phase, or ""
	upto    string // the last phase done, or "" (see labelFilter)
	seed    string
	runs    string
	reports string // report folder (absolute)
	verbose bool
	log     io.Writer     // the suite's own output goes here too
	env     []string      // more environment for the suite's processes
	direct  bool          // run a compiled suite itself, not under the ginkgo command (see runSuite)
	rep     reportOptions // what the reports need, and the grade's progress (reports.go)
}

func runGrade(args []string, stdout, stderr io.Writer) int {
	root, err := grader.ModuleRoot()
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab grade:", err)
		return exitUsage
	}
	o := gradeOptions{root: root}
	fs := newFlags("grade", "grade [-tree DIR | -submission DIR] [-cases DIR] [-case NAME] [-phase PHASE] [-seed N] [-runs N] [-reports DIR] [-v]", stderr)
	fs.StringVar(&o.tree, "tree", defaultTree(root), "the tree to grade: a folder of the module holding a grade test")
	sub := submissionFlag(fs)
	fs.StringVar(&o.cases, "cases", filepath.Join(root, "cases"), "the folder of case files")
	fs.StringVar(&o.only, "case", "", "grade this case only (its file name without .case)")
	fs.StringVar(&o.phase, "phase", "", "grade only the specs of this phase ("+strings.Join(phaseNames(), ", ")+")")
	fs.StringVar(&o.upto, "upto", "", "grade only the specs that need no phase after this one, in the handout's order")
	fs.StringVar(&o.seed, "seed", "", "first seed of the message order (default 1)")
	fs.StringVar(&o.runs, "runs", "", "seeds per case (default 3)")
	fs.StringVar(&o.reports, "reports", filepath.Join(root, "reports"), "where to write the reports")
	fs.BoolVar(&o.verbose, "v", false, "show the suite's own output as it runs")
	addReportFlags(fs, &o.rep)
	if code, ok := parseFlags(fs, args); !ok {
		return code
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
	if *sub != "" {
		var why bytes.Buffer
		o.rep.from = *sub
		ws, code := openSubmission(&o, *sub, fs, stdout, io.MultiWriter(stderr, &why))
		if ws == nil {
			reportFailure(o, why.String(), 0, stderr)
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

	start := time.Now()
	defer followProgress(&o, stderr)()
	res, err := grade(o, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "pbftlab grade: %v\n", err)
		reportFailure(o, err.Error(), time.Since(start), stderr)
		return exitUsage
	}
	fmt.Fprint(stdout, res.Table())
	printFailures(stdout, res)
	if err := writeScore(o, res, time.Since(start)); err != nil {
		fmt.Fprintln(stderr, "pbftlab grade:", err)
		return exitUsage
	}
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
// grading could not run at all: bad cases, a tree that does not build.
func grade(o gradeOptions, progress io.Writer) (grader.Result, error) {
	var res grader.Result
	cases, err := grader.LoadCases(o.cases)
	if err != nil {
		return res, err
	}
	if o.only != "" && !hasCase(cases, o.only) {
		return res, fmt.Errorf("no case named %q in %s", o.only, o.cases)
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
	pkg = bin

	// A dry run lists the specs without running any tree code, so that a
	// spec lost to a crashed process is still known and scored as lost.
	listed, out, err := runSuite(o, pkg, filter, true)
	if err != nil {
		return res, err
	}
	if len(listed) == 0 {
		return res, fmt.Errorf("the tree %s did not build or holds no grade suite:\n%s", o.tree, tail(out, 60))
	}
	var specs []types.SpecReport
	for _, sr := range listed {
		if sr.State != types.SpecStateSkipped {
			specs = append(specs, sr)
		}
	}
	if len(specs) == 0 {
		return res, fmt.Errorf("no spec matches %s", filter)
	}
	fmt.Fprintf(progress, "grading %s: %d specs, cases from %s\n", o.tree, len(specs), o.cases)
	o.rep.listed(specs)

	results, err := runAll(o, pkg, filter, specs, progress)
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

// runAll runs the specs until each has a result. A spec the suite skipped
// (because a stuck replica made it abort) or never reported (because the
// process died) is run again in a fresh process with the others left over;
// when a fresh process makes no progress, the first spec left is run on its
// own, and if even that process dies it is scored as crashed. So whatever a
// replica does costs its own spec only.
func runAll(o gradeOptions, pkg, filter string, specs []types.SpecReport, progress io.Writer) (map[string]grader.Row, error) {
	results := map[string]grader.Row{}
	remaining := make([]string, len(specs))
	byName := map[string]types.SpecReport{}
	for i, sr := range specs {
		remaining[i] = specName(sr)
		byName[remaining[i]] = sr
	}
	first := true
	for len(remaining) > 0 {
		f := filter
		if !first {
			f = "case: containsAny {" + strings.Join(remaining, ",") + "}"
			fmt.Fprintf(progress, "the suite stopped early; running the %d specs left in a fresh process\n", len(remaining))
		}
		first = false
		ran, _, err := runSuite(o, pkg, f, false)
		if err != nil {
			return nil, err
		}
		left := take(results, remaining, ran)
		if len(left) < len(remaining) {
			remaining = left
			continue
		}
		// No progress: isolate the first spec left.
		name := remaining[0]
		fmt.Fprintf(progress, "grading %s on its own\n", name)
		alone, out, err := runSuite(o, pkg, "case: consistsOf {"+name+"}", false)
		if err != nil {
			return nil, err
		}
		if left := take(results, []string{name}, alone); len(left) > 0 {
			row, _ := grader.RowOf(byName[name])
			row.Points, row.State, row.Time = 0, "crashed", 0
			row.Message = grader.ExplainDeath(out)
			results[name] = row
		}
		remaining = remaining[1:]
	}
	return results, nil
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
// compile is an error carrying the compiler's output.
func buildSuite(o gradeOptions, pkg string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "pbftlab-suite-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	bin := filepath.Join(dir, filepath.Base(pkg)+".test")
	cmd := exec.Command("go", "test", "-c", "-o", bin, "./"+pkg)
	cmd.Dir = o.root
	out, err := cmd.CombinedOutput()
	o.log.Write(out)
	if err != nil {
		cleanup()
		if errors.As(err, new(*exec.ExitError)) {
			return "", nil, fmt.Errorf("the tree %s does not build:\n%s", o.tree, tail(string(out), 60))
		}
		return "", nil, fmt.Errorf("building the tree %s: %w", o.tree, err)
	}
	return bin, cleanup, nil
}

// runSuite runs the suite under the ginkgo command, either a compiled
// binary or a package folder relative to the root, and returns the spec
// reports of its JSON report (none if the process left no report) and the
// process output.
func runSuite(o gradeOptions, pkg, filter string, dry bool) ([]types.SpecReport, string, error) {
	dir, err := os.MkdirTemp("", "pbftlab-grade-")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(dir)
	args := []string{"tool", "ginkgo", "run", "--no-color", "--silence-skips",
		"--json-report=report.json", "--output-dir=" + dir,
		"--timeout=30m", "--grace-period=2s"}
	if dry {
		args = append(args, "--dry-run")
	}
	if filter != "" {
		args = append(args, "--label-filter="+filter)
	}
	// Only the grade suite runs: other tests of the tree (the reference's
	// own unit tests, say) are not part of the grade.
	if !filepath.IsAbs(pkg) {
		pkg = "./" + pkg
	}
	args = append(args, pkg, "--", "-test.run=^TestGrade$")
	cmd := exec.Command("go", args...)
	if o.direct && filepath.IsAbs(pkg) {
		// The same flags, given to the binary as the ginkgo command gives
		// them: it saves a go command and a ginkgo process per run, which
		// is most of what a short run costs.
		direct := []string{"-test.run=^TestGrade$", "-test.timeout=0", "-ginkgo.no-color", "-ginkgo.silence-skips",
			"-ginkgo.json-report=" + filepath.Join(dir, "report.json"), "-ginkgo.timeout=30m", "-ginkgo.grace-period=2s"}
		if dry {
			direct = append(direct, "-ginkgo.dry-run")
		}
		if filter != "" {
			direct = append(direct, "-ginkgo.label-filter="+filter)
		}
		cmd = exec.Command(pkg, direct...)
	}
	cmd.Dir = o.root
	cmd.Env = append(os.Environ(), "PBFTLAB_CASES="+o.cases, "PBFTLAB_TREE="+filepath.Base(o.tree))
	if !dry {
		cmd.Env = append(cmd.Env, o.rep.env()...)
	}
	if o.seed != "" {
		cmd.Env = append(cmd.Env, "PBFTLAB_SEED="+o.seed)
	}
	if o.runs != "" {
		cmd.Env = append(cmd.Env, "PBFTLAB_RUNS="+o.runs)
	}
	cmd.Env = append(cmd.Env, o.env...)
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(&buf, o.log)
	cmd.Stderr = cmd.Stdout
	runErr := o.rep.run(cmd)
	if runErr != nil && !errors.As(runErr, new(*exec.ExitError)) {
		return nil, buf.String(), fmt.Errorf("running ginkgo: %w", runErr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		return nil, buf.String(), nil
	}
	var reports []types.Report
	if err := json.Unmarshal(data, &reports); err != nil {
		return nil, buf.String(), nil
	}
	var specs []types.SpecReport
	for _, r := range reports {
		for _, sr := range r.SpecReports {
			if sr.LeafNodeType == types.NodeTypeIt {
				specs = append(specs, sr)
			}
		}
	}
	return specs, buf.String(), nil
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

func hasCase(cases []*caseT, name string) bool {
	for _, c := range cases {
		if grader.Name(c) == name {
			return true
		}
	}
	return false
}

// printFailures shows, under the table, why each failing spec failed.
func printFailures(w io.Writer, res grader.Result) {
	for _, row := range res.Rows {
		if row.State == "passed" || row.Message == "" {
			continue
		}
		fmt.Fprintf(w, "\n--- %s (%s): %s\n%s\n", row.Name, row.Title, row.State, strings.TrimRight(failureText(row.Message, 60), "\n"))
	}
}

// scoreFile is what reports/score.json holds.
type scoreFile struct {
	Tree     string        `json:"tree"`
	Seed     string        `json:"seed"`
	Runs     string        `json:"runs"`
	Duration time.Duration `json:"duration_ns"`
	grader.Result
}

func writeScore(o gradeOptions, res grader.Result, d time.Duration) error {
	seed, runs := o.seed, o.runs
	if seed == "" {
		seed = "1"
	}
	if runs == "" {
		runs = "3"
	}
	return writeJSON(filepath.Join(o.reports, "score.json"), scoreFile{Tree: o.tree, Seed: seed, Runs: runs, Duration: d, Result: res})
}

// writeJSON writes v to path through a temporary file, so a reader never
// sees half a report.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// tail keeps the last n lines of s.
func tail(s string, n int) string { return grader.Tail(s, n) }
