// Package batch grades a folder of submissions, each in a grade process
// of its own, as many at once as there are cores, and writes the
// gradebook: one row per submission, with the reason when one could not
// be graded.
package batch

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"pbftlab/grader"
	"pbftlab/grader/driver"
	"pbftlab/grader/report"
	"pbftlab/internal/atomicfile"
	"pbftlab/internal/cmdline"
	"pbftlab/internal/kit"
	"pbftlab/internal/submission"
)

// GradebookFile is the batch's table of grades, in the reports folder.
const GradebookFile = report.GradebookFile

// batchOptions say what to grade and where the reports go.
type batchOptions struct {
	root        string // module root; the grades run there
	submissions string // the folder holding one folder per submission
	reports     string // gradebook.csv here, each submission's reports in a folder of its own
	jobs        int    // submissions graded at once
	pass        []string
	self        string // the pbftlab executable
}

// submissionGrade is how one submission's grade ended.
type submissionGrade struct {
	name     string
	code     int // the grade's exit code; -1 if it never ran
	results  *report.Gradescope
	err      string        // why there is no grade, in one line
	duration time.Duration // wall time of its grade
}

// Command is "pbftlab batch": it grades every submission folder inside
// a folder, each in a grade process of its own (this executable's grade
// command), and writes the gradebook.
func Command(args []string, stdout, stderr io.Writer) int {
	root, err := kit.Root()
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab batch:", err)
		return cmdline.ExitUsage
	}
	o := batchOptions{root: root}
	var cases, seed, runs, hidden string
	fs := cmdline.NewFlags("pbftlab", "batch", "batch -submissions DIR [-reports DIR] [-j N] [-cases DIR] [-seed N] [-runs N] [-hidden LIST]", stderr)
	fs.StringVar(&o.submissions, "submissions", "", "the folder holding one folder per submission; every entry gets a gradebook row (a zip's says to unpack it)")
	fs.StringVar(&o.reports, "reports", filepath.Join(root, "reports"), "where to write gradebook.csv and each submission's reports")
	fs.IntVar(&o.jobs, "j", runtime.NumCPU(), "submissions graded at once")
	fs.StringVar(&cases, "cases", "", "the folder of case files (default the kit's)")
	fs.StringVar(&seed, "seed", "", "first seed of the message order")
	fs.StringVar(&runs, "runs", "", "seeds per case")
	fs.StringVar(&hidden, "hidden", os.Getenv(driver.HiddenEnv), "TA-only cases, as for grade")
	if code, ok := cmdline.ParseNone("pbftlab", fs, args); !ok {
		return code
	}
	if o.submissions == "" {
		fmt.Fprintln(stderr, "pbftlab batch: -submissions DIR is required")
		fs.Usage()
		return cmdline.ExitUsage
	}
	if o.jobs < 1 {
		o.jobs = 1
	}
	for _, p := range []*string{&o.submissions, &o.reports, &cases} {
		if *p == "" {
			continue
		}
		if *p, err = filepath.Abs(*p); err != nil {
			fmt.Fprintln(stderr, "pbftlab batch:", err)
			return cmdline.ExitUsage
		}
	}
	if err := checkCases(root, cases, hidden); err != nil {
		fmt.Fprintln(stderr, "pbftlab batch:", err)
		return cmdline.ExitUsage
	}
	for flag, v := range map[string]string{"-cases": cases, "-seed": seed, "-runs": runs, "-hidden": hidden} {
		if v != "" {
			o.pass = append(o.pass, flag, v)
		}
	}
	if o.self, err = os.Executable(); err != nil {
		fmt.Fprintln(stderr, "pbftlab batch:", err)
		return cmdline.ExitUsage
	}
	entries, err := submissionEntries(o.submissions)
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab batch:", err)
		return cmdline.ExitUsage
	}
	if err := os.MkdirAll(o.reports, 0o755); err != nil {
		fmt.Fprintln(stderr, "pbftlab batch:", err)
		return cmdline.ExitUsage
	}
	if err := removeGradeReports(o.reports); err != nil {
		fmt.Fprintln(stderr, "pbftlab batch:", err)
		return cmdline.ExitUsage
	}
	fmt.Fprintf(stdout, "grading %d submissions from %s, %d at a time\n", len(entries), o.submissions, o.jobs)
	start := time.Now()
	grades := batch(o, entries, stdout)
	if err := writeGradebook(filepath.Join(o.reports, GradebookFile), grades); err != nil {
		fmt.Fprintln(stderr, "pbftlab batch:", err)
		return cmdline.ExitUsage
	}
	errors := 0
	for _, g := range grades {
		if g.err != "" {
			errors++
		}
	}
	fmt.Fprintf(stdout, "graded %d submissions in %s (%d could not be graded); gradebook: %s\n",
		len(grades)-errors, time.Since(start).Round(100*time.Millisecond), errors, filepath.Join(o.reports, GradebookFile))
	return exitCode(grades)
}

// removeGradeReports removes the reports a single grade left at the top of
// the reports folder (score.json, results.json, report.html, ...): beside
// the batch's gradebook they would read as a current grade. Folders
// (each submission's, an earlier stress run's) stay.
func removeGradeReports(reports string) error {
	for _, name := range driver.ReportFiles() {
		if err := os.Remove(filepath.Join(reports, name)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// exitCode is the batch's exit code: the worst of its submissions', on a
// single grade's scale, so that make and a script read both alike.
// ExitUsage when a submission could not be graded (refused, not built,
// stopped, or not reached when the batch was interrupted): the gradebook
// has a row without a score that a TA must look at. ExitFailed when every
// submission was graded and one did not pass a spec; ExitOK when each
// passed every spec.
func exitCode(grades []submissionGrade) int {
	code := cmdline.ExitOK
	for _, g := range grades {
		if g.err != "" {
			return cmdline.ExitUsage
		}
		if _, _, failed := g.points(); failed > 0 {
			code = cmdline.ExitFailed
		}
	}
	return code
}

// checkCases loads the case folder (dir, or the kit's) and checks the
// TA-only list against it once, before any grade: a malformed case or a
// hidden name that matches no case would otherwise cost every submission
// its grade, or leave a case visible in every results.json.
func checkCases(root, dir, hidden string) error {
	if dir == "" {
		dir = filepath.Join(root, "cases")
	}
	cases, err := grader.LoadCases(dir)
	if err != nil {
		return err
	}
	_, err = driver.HiddenCases(cases, dir, hidden)
	return err
}

// entry is one entry of the submissions folder: a submission to grade, or
// one refused before any grade, with why.
type entry struct {
	name   string
	refuse string // why it cannot be graded; "" to grade it
}

// submissionEntries lists every entry of dir but hidden ones (.DS_Store,
// .git), sorted, each to get a gradebook row: a folder or a link is
// graded (a link's grade refuses it, and the gradebook says so, rather
// than grade what it points to, another student's folder, say); a zip or
// any other file is refused with what to do, so that no student is left
// out of the gradebook without a word. A dir that holds a submission's
// own Go files is one submission, not a folder of them: an error that
// says how to grade it.
func submissionEntries(dir string) ([]entry, error) {
	if err := notOneSubmission(dir); err != nil {
		return nil, err
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var entries []entry
	for _, e := range des {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		entries = append(entries, entry{name: e.Name(), refuse: refusal(dir, e)})
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s holds no submission folders", dir)
	}
	return entries, nil
}

// refusal says why an entry of the submissions folder is not graded, or
// "" when it is. Zips are not unpacked: a submission is read from its
// own folder, as a single grade reads it, and the TA unpacks an archive
// once, with a tool of their choice, and can see what it held; the
// grade's replay commands then name a folder that stays.
func refusal(dir string, e os.DirEntry) string {
	if e.IsDir() || e.Type()&os.ModeSymlink != 0 {
		return ""
	}
	path := filepath.Join(dir, e.Name())
	if strings.EqualFold(filepath.Ext(e.Name()), ".zip") {
		unpacked := filepath.Join(dir, strings.TrimSuffix(e.Name(), filepath.Ext(e.Name())))
		return fmt.Sprintf("%s is a zip: unpack it first into a folder of its own and remove the zip (unzip -d %s %s && rm %s)", e.Name(), unpacked, path, path)
	}
	return fmt.Sprintf("%s is a file, not a submission folder: each submission is a folder of its own holding the student's files (or their %s/)", e.Name(), submission.Tree)
}

// notOneSubmission refuses a submissions folder that is itself one
// submission, holding the student's Go files (or a skeleton/ with them):
// each file would otherwise get a row of its own, and the TA meant a
// single grade.
func notOneSubmission(dir string) error {
	src, err := submission.Source(dir)
	if err != nil {
		return nil // a link or not a folder: reading it says so
	}
	gos, _ := filepath.Glob(filepath.Join(src, "*.go"))
	if len(gos) == 0 {
		return nil
	}
	names := make([]string, len(gos))
	for i, p := range gos {
		names[i] = filepath.Base(p)
	}
	return fmt.Errorf("%s is one submission (it holds %s), not a folder of submission folders: grade it with make grade SUBMISSION=%s (pbftlab grade -submission %s)",
		dir, strings.Join(names, ", "), dir, dir)
}

// batch grades the submissions, o.jobs at a time, each by a grade process
// of its own, exactly as a single submission is graded, and prints a line
// as each finishes. An interrupt stops starting new grades; the running
// ones get the signal too and write their partial reports.
func batch(o batchOptions, entries []entry, stdout io.Writer) []submissionGrade {
	grades := make([]submissionGrade, len(entries))
	for i, e := range entries {
		grades[i] = submissionGrade{name: e.name, code: -1, err: "not graded: the batch was interrupted"}
	}
	signals, stopSignals := cmdline.Interrupts()
	defer stopSignals()

	var (
		mu       sync.Mutex
		finished int
		stopping bool
		running  = map[*exec.Cmd]bool{}
		wg       sync.WaitGroup
		slots    = make(chan struct{}, o.jobs)
	)
	go func() {
		for sig := range signals {
			mu.Lock()
			stopping = true
			for cmd := range running {
				_ = cmd.Process.Signal(sig)
			}
			mu.Unlock()
		}
	}()
	// record keeps a submission's grade and prints its line.
	record := func(i int, g submissionGrade) {
		mu.Lock()
		defer mu.Unlock()
		grades[i] = g
		finished++
		fmt.Fprintf(stdout, "[%d/%d] %s\n", finished, len(entries), g.line())
	}
	for i, e := range entries {
		if e.refuse != "" {
			record(i, submissionGrade{name: e.name, code: -1, err: e.refuse})
			continue
		}
		slots <- struct{}{}
		mu.Lock()
		stop := stopping
		mu.Unlock()
		if stop {
			<-slots
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			record(i, gradeOne(o, e.name, func(cmd *exec.Cmd, started bool) {
				mu.Lock()
				defer mu.Unlock()
				if started {
					running[cmd] = true
				} else {
					delete(running, cmd)
				}
			}))
		}()
	}
	wg.Wait()
	return grades
}

// gradeOne grades one submission in a child process and reads back its
// results.json. track is told when the child starts and ends, so that an
// interrupt can reach it.
func gradeOne(o batchOptions, name string, track func(*exec.Cmd, bool)) submissionGrade {
	g := submissionGrade{name: name, code: -1}
	dir := filepath.Join(o.reports, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		g.err = err.Error()
		return g
	}
	args := append([]string{"grade", "-submission", filepath.Join(o.submissions, name), "-reports", dir, "-label", name}, o.pass...)
	cmd := exec.Command(o.self, args...)
	cmd.Dir = o.root
	// One job summary for the whole batch is the batch's business, not
	// each grade's.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GITHUB_STEP_SUMMARY=") })
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Start()
	if err == nil {
		track(cmd, true)
		err = cmd.Wait()
		track(cmd, false)
	}
	g.duration = time.Since(start)
	_ = os.WriteFile(filepath.Join(dir, "grade.log"), out.Bytes(), 0o644)
	g.code = cmd.ProcessState.ExitCode()
	if err != nil && g.code < 0 {
		g.err = "the grade did not run: " + err.Error()
		return g
	}
	res, rerr := report.ReadResults(dir)
	if rerr != nil {
		g.err = "no results.json: " + lastLine(out.String())
		return g
	}
	g.results = &res
	switch {
	case res.ExtraData.Error != "":
		g.err = oneLine(res.ExtraData.Error)
	case res.ExtraData.Partial:
		g.err = "incomplete: some cases did not run (see " + filepath.Join(dir, report.HTMLFile) + ")"
	case g.code == cmdline.ExitUsage:
		g.err = lastLine(out.String())
	}
	return g
}

// line is the progress line of a finished grade.
func (g submissionGrade) line() string {
	took := g.duration.Round(100 * time.Millisecond)
	if g.results == nil || (g.err != "" && g.results.ExtraData.Error != "") {
		return fmt.Sprintf("%s: error: %s (%s)", g.name, g.err, took)
	}
	score, max, failed := g.points()
	s := fmt.Sprintf("%s: %d/%d", g.name, score, max)
	if failed > 0 {
		s += fmt.Sprintf(", %d of %d cases not passed", failed, len(g.results.Tests))
	}
	if g.err != "" {
		s += " (" + g.err + ")"
	}
	return s + fmt.Sprintf(" (%s)", took)
}

func (g submissionGrade) points() (score, max, failed int) {
	if g.results == nil {
		return 0, 0, 0
	}
	for _, t := range g.results.Tests {
		max += int(t.MaxScore)
		if t.Status != "passed" {
			failed++
		}
	}
	return int(g.results.Score), max, failed
}

// split divides the points earned into the lab's cases and the robustness
// specs.
func (g submissionGrade) split() (score, robust int) {
	if !g.graded() {
		return 0, 0
	}
	for _, t := range g.results.Tests {
		if t.ExtraData.Kind == "robustness" {
			robust += int(t.Score)
		} else {
			score += int(t.Score)
		}
	}
	return score, robust
}

// graded reports whether the submission has points to record: its grade
// ran, even if it was stopped before every spec did. One that could not be
// graded has empty cells, never a 0 that reads as a grade.
func (g submissionGrade) graded() bool {
	return g.results != nil && (g.results.ExtraData.Error == "" || g.results.ExtraData.Partial)
}

// state is the gradebook's word on a submission: graded (all passed or
// how many did not), or the error that kept it from being graded.
func (g submissionGrade) state() string {
	if g.err != "" {
		switch {
		case g.results != nil && g.results.ExtraData.Error == "" && g.results.ExtraData.Partial:
			return g.err
		case g.graded():
			// Stopped before the end (its time limit): the points of what
			// ran stand, and the state says the rest did not run.
			return "incomplete: " + g.err
		}
		return "error: " + g.err
	}
	if _, _, failed := g.points(); failed > 0 {
		return fmt.Sprintf("graded: %d of %d cases not passed", failed, len(g.results.Tests))
	}
	return "graded: all passed"
}

// writeGradebook writes one row per submission: its total, the maximum,
// the points of every case (empty where a case did not run), and its state.
// The case columns are every case any submission reported; the maximum is
// theirs, the same on every row.
func writeGradebook(path string, grades []submissionGrade) error {
	// The columns are the same from one batch to the next, whatever order
	// the suite ran in: the cases by name, then the robustness specs.
	var cases []string
	caseMax := map[string]int{}
	robustness := map[string]bool{}
	for _, g := range grades {
		if g.results == nil {
			continue
		}
		for _, t := range g.results.Tests {
			if _, ok := caseMax[t.ExtraData.Case]; !ok {
				cases = append(cases, t.ExtraData.Case)
				caseMax[t.ExtraData.Case] = int(t.MaxScore)
			}
			robustness[t.ExtraData.Case] = t.ExtraData.Kind == "robustness"
		}
	}
	slices.SortFunc(cases, func(a, b string) int {
		return grader.SpecOrder(robustness[a], a, robustness[b], b)
	})
	fullMarks, robustMax := 0, 0
	for c, m := range caseMax {
		fullMarks += m
		if robustness[c] {
			robustMax += m
		}
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	// The lab's score and the robustness score stand apart, as on the
	// grade's own Score and Robustness lines; total is both, as
	// results.json's score and score.json's total.
	_ = w.Write(append(append([]string{"submission", "score", "max", "robustness", "robustness_max", "total", "total_max"}, cases...), "state"))
	for _, g := range grades {
		score, robust := g.split()
		row := []string{g.name, "", strconv.Itoa(fullMarks - robustMax), "", strconv.Itoa(robustMax), "", strconv.Itoa(fullMarks)}
		if g.graded() {
			row[1], row[3], row[5] = strconv.Itoa(score), strconv.Itoa(robust), strconv.Itoa(score+robust)
		}
		byCase := map[string]report.GradescopeTest{}
		if g.graded() {
			for _, t := range g.results.Tests {
				byCase[t.ExtraData.Case] = t
			}
		}
		for _, c := range cases {
			t, ok := byCase[c]
			if !ok || t.ExtraData.State == report.NotRun {
				row = append(row, "")
				continue
			}
			row = append(row, strconv.Itoa(int(t.Score)))
		}
		row = append(row, g.state())
		for i := range row {
			row[i] = cellText(row[i])
		}
		_ = w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes())
}

// cellText keeps a cell from being read as a formula by a spreadsheet: a
// folder named "=cmd|' /C calc'!A0" is text, not a command. A cell that
// starts with one of the characters spreadsheets take for a formula gets
// a leading apostrophe, which they show as nothing and read as "text".
func cellText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// goPosition finds a file:line in a line of compiler or checker output.
var goPosition = regexp.MustCompile(`[^\s:]+\.go:\d+`)

// oneLine squeezes an error into a gradebook cell: its first line that
// says something, without the command's name in front, and the first line
// that points into a Go file, which is where the student has to look.
func oneLine(s string) string {
	var first, second, where string
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "pbftlab grade:"))
		if line == "" {
			continue
		}
		switch {
		case first == "":
			first = line
		case where == "" && goPosition.MatchString(line):
			where = line
		case second == "":
			second = line
		}
	}
	// A first line that announces what follows ("breaks 1 rule(s): ...")
	// is nothing without its next line, even one that names no Go file.
	if where == "" && strings.HasSuffix(first, ":") {
		where = second
	}
	if where != "" {
		return strings.TrimSuffix(first, ":") + ": " + where
	}
	return first
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
