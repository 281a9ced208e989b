package driver

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"pbftlab/grader"
	"pbftlab/grader/report"
	"pbftlab/script"
)

// HiddenEnv lists TA-only cases when -hidden is not given: comma-separated
// case names or patterns ("hidden_*"). results.json shows them to students
// only once the grades are published.
const HiddenEnv = "PBFTLAB_HIDDEN"

// SuiteLogFile is the suite's own output, which a grade keeps beside its
// reports.
const SuiteLogFile = "suite.log"

// ReportFiles lists the files a grade writes at the top of its report
// folder, for a batch to remove a single grade's stale ones.
func ReportFiles() []string {
	return []string{report.ScoreFile, report.ResultsFile, report.JUnitFile, report.SummaryFile, report.HTMLFile, SuiteLogFile}
}

// removeGradebook removes the gradebook an earlier batch left in the
// grade's report folder: beside this grade's reports it would read as
// current. It says so, as the gradebook may be the TA's only table of
// that batch; each submission's reports stay in their folders.
func removeGradebook(reports string, stdout io.Writer) error {
	path := filepath.Join(reports, report.GradebookFile)
	err := os.Remove(path)
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "removed %s, an earlier batch's, which would read as current beside this grade's reports (its submissions' reports stay in their folders)\n", path)
	case os.IsNotExist(err):
		err = nil
	}
	return err
}

// followEvery is how often a grade in progress rereads the progress file
// and rewrites results.json. The suite runs in another process and says
// nothing but the lines it appends, so the driver looks; a second is quick
// enough for a person and costs nothing next to a case.
const followEvery = time.Second

// ReportOptions are the grade's report settings and, while it runs, its
// progress.
type ReportOptions struct {
	hidden string
	label  string // what the reports call the graded tree, if not its folder
	from   string // the submission folder, when grading one
	// student writes replay commands for the student's own copy of the
	// kit, which grades its skeleton from its cases/: none of this grade's
	// folders (a server's, on Gradescope) means anything there.
	student bool
	live    *progress
	log     *progressLog // the progress file when the grade is not followed
}

// progress is the progress file, read as the suite appends to it.
func (r ReportOptions) progress() *progressLog {
	if r.live != nil {
		return r.live.log
	}
	return r.log
}

// progressFile is where the suite appends a line per finished spec, or ""
// when nothing follows the grade (the mutants' runs write no reports).
func (r ReportOptions) progressFile() string {
	if p := r.progress(); p != nil {
		return p.file
	}
	return ""
}

// addReportFlags adds grade's report flags.
func addReportFlags(fs *flag.FlagSet, r *ReportOptions) {
	fs.StringVar(&r.hidden, "hidden", os.Getenv(HiddenEnv), "TA-only cases, comma-separated names or patterns, each matching at least one case: results.json shows them to students once grades are published (default $"+HiddenEnv+")")
	fs.StringVar(&r.label, "label", "", "what the reports call the graded tree (default: its folder)")
	fs.BoolVar(&r.student, "student-replay", false, "write replay commands for the student's own copy of the kit (make grade CASE=... SEED=...), without this grade's folders")
}

// followProgress starts following the grade, so that results.json stays
// current and an interrupt still leaves reports; the returned function
// stops it. Without a progress file the grade goes on, reporting at the end.
func followProgress(o *Options, stderr io.Writer) func() {
	live, err := startProgress(*o)
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab grade: results will be written at the end only:", err)
		return func() {}
	}
	o.Report.live = live
	return live.close
}

// reportFailure writes the reports of a grade that could not run, and
// says so if even that fails.
func reportFailure(o Options, why string, d time.Duration, stderr io.Writer) {
	if err := writeFailedReports(o, why, d); err != nil {
		fmt.Fprintln(stderr, "pbftlab grade: writing the reports:", err)
	}
}

// isHidden reports whether the case is TA-only.
func (r ReportOptions) isHidden(name string) bool {
	for p := range strings.SplitSeq(r.hidden, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if hiddenBy(p, name) {
			return true
		}
	}
	return false
}

// listed tells the progress which specs the grade will run, and starts
// keeping results.json current.
func (r ReportOptions) listed(specs []types.SpecReport) {
	if r.live != nil {
		r.live.start(specs)
	}
}

// progress follows a grade while it runs: the suite appends a line per
// finished spec to file, and progress turns what has finished, and what
// has not, into results.json as it goes. If the grade is interrupted, the
// reports it leaves say which cases did not run.
type progress struct {
	o     Options
	dir   string // holds the progress file; removed at the end
	log   *progressLog
	begin time.Time

	mu       sync.Mutex
	specs    []types.SpecReport // every spec the grade will run, once listed
	seen     int                // progress lines read at the last write
	finished bool               // final reports are written; write nothing more
	stop     chan struct{}
	done     chan struct{}
}

// startProgress makes the progress file and starts following it. The
// caller must call close.
func startProgress(o Options) (*progress, error) {
	log, dir, err := tempProgressLog()
	if err != nil {
		return nil, err
	}
	p := &progress{o: o, dir: dir, log: log, begin: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go p.follow()
	return p, nil
}

// start records the specs to run and writes the first results.json, in
// which nothing has run yet.
func (p *progress) start(specs []types.SpecReport) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.specs = specs
	_ = p.writePartialLocked(false, "")
}

// follow rewrites results.json whenever more specs have finished, until
// close.
func (p *progress) follow() {
	defer close(p.done)
	tick := time.NewTicker(followEvery)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
			p.mu.Lock()
			if !p.finished && p.specs != nil {
				p.log.refresh()
				if p.log.count() != p.seen {
					_ = p.writePartialLocked(false, "")
				}
			}
			p.mu.Unlock()
		}
	}
}

// writePartialLocked writes results.json from what has finished; with all
// it writes every report, saying why the grade stopped. Before the specs
// are listed, every case of the case folder and every robustness spec is
// reported as not run: a grade stopped during its build is a grade with
// nothing run, never an empty one that a CI tool would read as a success.
func (p *progress) writePartialLocked(all bool, why string) error {
	reports := p.log.reports()
	p.seen = p.log.count()
	run := p.o.runInfo(time.Since(p.begin))
	run.Partial = true
	run.Error = why
	if p.specs == nil {
		run.Cases = p.o.allCases("did not run: " + why)
	}
	for _, want := range p.specs {
		name := SpecName(want)
		if sr, ok := reports[name]; ok {
			if row, ok := grader.RowOf(sr); ok {
				run.Cases = append(run.Cases, p.o.caseOf(row, p.log.trace(name)))
				continue
			}
		}
		row, _ := grader.RowOf(want)
		row.Points, row.State, row.Time = 0, report.NotRun, 0
		row.Message = "did not run: the grade stopped before this case reported"
		run.Cases = append(run.Cases, p.o.caseOf(row, nil))
	}
	if !all {
		return report.WriteResults(p.o.Reports, run)
	}
	if err := report.WriteAll(p.o.Reports, run); err != nil {
		return err
	}
	return appendJobSummary(run)
}

// writeStopped writes every report of a grade stopped before its end: what
// finished, and the rest as not run.
func (p *progress) writeStopped(why string, _ time.Duration) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return nil
	}
	p.finished = true
	return p.writePartialLocked(true, why)
}

// traces returns the trace each spec reported last, by spec name.
func (p *progress) traces() map[string]*report.Trace {
	out := map[string]*report.Trace{}
	if p == nil {
		return out
	}
	for name := range p.log.reports() {
		if t := p.log.trace(name); t != nil {
			out[name] = t
		}
	}
	return out
}

// finish stops following; from now on only the caller writes reports. It
// returns false when an interrupt got there first.
func (p *progress) finish() bool {
	if p == nil {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return false
	}
	p.finished = true
	return true
}

// close stops following and removes the progress file.
func (p *progress) close() {
	if p == nil {
		return
	}
	close(p.stop)
	<-p.done
	os.RemoveAll(p.dir)
}

// readProgress reads the progress file: the last report of each spec, by
// name.
func readProgress(file string) map[string]types.SpecReport {
	return newProgressLog(file).reports()
}

// maxProgressLine bounds one line of the progress file; a longer one is
// skipped like any line that does not parse.
const maxProgressLine = 16 << 20

// progressLog reads the progress file as the suite appends to it, each
// line once: a grade followed every second for minutes, with every spec's
// trace on its line, would otherwise parse the same megabytes again and
// again. It keeps the last report of each spec, by name; lines that do not
// parse are skipped, since the suite's process may die in the middle of
// one (the next process's first line then shares its line, and both are
// lost, as they would be to any reader of the file).
type progressLog struct {
	file string
	max  int // bytes of the longest line read (maxProgressLine)

	mu     sync.Mutex
	off    int64 // bytes read: whole lines only
	lines  int   // whole lines read
	last   map[string]types.SpecReport
	traces map[string][]string      // the JSON of each trace entry of the spec's last report, by spec name
	traced map[string]*report.Trace // traces decoded so far, by spec name
}

// tempProgressLog makes a progress file in a folder of its own, which the
// caller removes.
func tempProgressLog() (*progressLog, string, error) {
	dir, err := os.MkdirTemp("", "pbftlab-progress-")
	if err != nil {
		return nil, "", err
	}
	return newProgressLog(filepath.Join(dir, "progress.jsonl")), dir, nil
}

func newProgressLog(file string) *progressLog {
	return &progressLog{file: file, max: maxProgressLine, last: map[string]types.SpecReport{},
		traces: map[string][]string{}, traced: map[string]*report.Trace{}}
}

// refresh reads the whole lines appended since it last looked.
func (l *progressLog) refresh() {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.Open(l.file)
	if err != nil {
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() < l.off {
		// Only ever appended to; a file that shrank is read afresh.
		l.off, l.lines = 0, 0
		clear(l.last)
		clear(l.traces)
		clear(l.traced)
	}
	if _, err := f.Seek(l.off, io.SeekStart); err != nil {
		return
	}
	r := bufio.NewReaderSize(f, 1<<20)
	var line []byte
	n, long := 0, false // the line's length so far; longer than l.max
	for {
		chunk, err := r.ReadSlice('\n')
		n += len(chunk)
		if long = long || n > l.max; long {
			line = line[:0]
		} else {
			line = append(line, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return // a line not finished yet: read again next time
		}
		l.off += int64(n)
		l.lines++
		if !long {
			l.add(line)
		}
		line, n, long = line[:0], 0, false
	}
}

// progressLine is one line of the progress file: a spec report, whose
// report entries are read as the JSON they carry. Ginkgo's own decoding
// of an entry decodes that JSON a second time, into values nobody reads,
// which costs more than everything else in the line.
type progressLine struct {
	types.SpecReport
	ReportEntries []struct { // shadows SpecReport.ReportEntries
		Name  string
		Value struct{ AsJSON string }
	}
}

// valid reports whether every entry holds JSON, as Ginkgo's decoding of
// the line requires: a line where one does not is skipped.
func (l *progressLine) valid() bool {
	for _, e := range l.ReportEntries {
		if !json.Valid([]byte(e.Value.AsJSON)) {
			return false
		}
	}
	return true
}

// add takes one line of the file.
func (l *progressLog) add(line []byte) {
	var pl progressLine
	if json.Unmarshal(line, &pl) != nil || !pl.valid() {
		return
	}
	sr := pl.SpecReport
	if sr.LeafNodeType != types.NodeTypeIt || sr.State == types.SpecStateSkipped || sr.State == types.SpecStatePending {
		return
	}
	var traces []string
	for _, e := range pl.ReportEntries {
		if e.Name == report.TraceEntry {
			traces = append(traces, e.Value.AsJSON)
		}
	}
	name := SpecName(sr)
	l.last[name], l.traces[name] = sr, traces
	delete(l.traced, name)
}

// count is how many whole lines the file held when last read.
func (l *progressLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines
}

// reports reads what was appended and returns the last report of each
// spec, by name.
func (l *progressLog) reports() map[string]types.SpecReport {
	if l == nil { // nothing followed the grade: no spec left a line
		return nil
	}
	l.refresh()
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.last)
}

// trace is the trace of the spec's last report, decoded once: the last
// trace entry that decodes.
func (l *progressLog) trace(name string) *report.Trace {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.traced[name]; ok {
		return t
	}
	if _, ok := l.last[name]; !ok {
		return nil
	}
	var t *report.Trace
	for _, data := range slices.Backward(l.traces[name]) {
		var tr report.Trace
		if json.Unmarshal([]byte(data), &tr) == nil {
			t = &tr
			break
		}
	}
	l.traced[name] = t
	return t
}

// runInfo is the report header of this grade.
func (o Options) runInfo(d time.Duration) report.Run {
	seed, runs := o.Seed, o.Runs
	if first, n, err := SeedsOf(o.Seed, o.Runs, grader.DefaultSettings()); err == nil {
		seed, runs = strconv.FormatUint(first, 10), strconv.Itoa(n)
	}
	tree := o.Tree
	switch {
	case o.Report.label != "":
		tree = o.Report.label
	case o.Report.from != "":
		tree = "submission " + o.Report.from
	}
	return report.Run{Tree: tree, Seed: seed, Runs: runs, Duration: d}
}

// maxCaseMessage bounds a case's message in the reports: every report
// carries every case's, so a hundred specs each failing with the most a
// spec may say would make reports of hundreds of megabytes. The start of a
// message says what differed; the transcript is in the trace.
const maxCaseMessage = 64 << 10

// caseOf turns a graded row and its trace into a report case.
func (o Options) caseOf(row grader.Row, t *report.Trace) report.Case {
	c := report.Case{
		Name: row.Name, Title: row.Title, Kind: row.Kind, Phases: row.Phases,
		Points: row.Points, Max: row.Max, State: row.State, Message: report.Bound(row.Message, maxCaseMessage), Time: row.Time,
		Hidden: o.Report.isHidden(row.Name), Trace: t,
	}
	switch {
	case t != nil && t.Replay != "":
		c.Replay = t.Replay
	case row.Name != "":
		c.Replay = o.replayByName(row.Name)
	}
	return c
}

// replayByName is the command that reruns the spec called name when no run
// of it was reported (its process died, or it did not run): every seed,
// unless one was asked for, of what this grade graded, from the case
// folder it graded.
func (o Options) replayByName(name string) string {
	cmd := "make grade CASE=" + name
	if o.Seed != "" {
		cmd += " SEED=" + o.Seed + " RUNS=1"
	}
	if st, err := o.settings(); err == nil {
		cmd += st.ReplayTarget()
	}
	return cmd
}

// writeReports writes every report of a finished grade beside score.json,
// and appends the summary to the GitHub job summary when there is one.
func writeReports(o Options, res grader.Result, d time.Duration) error {
	if !o.Report.live.finish() {
		return nil
	}
	traces := o.Report.live.traces()
	run := o.runInfo(d)
	for _, row := range res.Rows {
		run.Cases = append(run.Cases, o.caseOf(row, traces[row.Name]))
	}
	if err := report.WriteAll(o.Reports, run); err != nil {
		return err
	}
	return appendJobSummary(run)
}

// writeFailedReports writes the reports of a grade that could not run: the
// reason, and every spec it would have graded as not run, each with the
// whole reason (a compiler's errors, a rule the submission breaks), so
// that a rejected or broken submission still gets reports that say why it
// scored nothing, wherever a student looks.
func writeFailedReports(o Options, why string, d time.Duration) error {
	if !o.Report.live.finish() {
		return nil
	}
	if err := os.MkdirAll(o.Reports, 0o755); err != nil {
		return err
	}
	run := o.runInfo(d)
	run.Error = strings.TrimSpace(why)
	run.Cases = o.allCases("did not run: " + run.Error)
	if err := report.WriteAll(o.Reports, run); err != nil {
		return err
	}
	return appendJobSummary(run)
}

// allCases is every spec the grade would run, as not run with message
// why: the case folder's cases and the robustness specs, under the grade's
// -case, -phase and -upto. Its totals are a whole grade's, so that a grade that
// could not run is out of the same maximum as one that did.
func (o Options) allCases(why string) []report.Case {
	cases, err := grader.LoadCases(o.Cases)
	if err != nil {
		return nil
	}
	only := o.Only
	if only != "" {
		// As the grade would have taken it; a list that names no case
		// leaves every case listed.
		if only, err = CaseList(cases, only); err != nil {
			only = ""
		}
	}
	later := script.PhasesAfter(o.Upto)
	var out []report.Case
	for _, c := range cases {
		name := grader.Name(c)
		switch {
		case only != "" && !slices.Contains(strings.Split(only, ","), name),
			o.Phase != "" && !slices.Contains(c.Phases, o.Phase),
			slices.ContainsFunc(c.Phases, func(p string) bool { return slices.Contains(later, p) }):
			continue // not a spec this grade would have run (see labelFilter)
		}
		out = append(out, o.caseOf(grader.Row{Name: name, Title: c.Title, Kind: grader.Kind(c), Phases: c.Phases, Max: c.Points,
			State: report.NotRun, Message: why}, nil))
	}
	return out
}

// appendJobSummary adds the summary to $GITHUB_STEP_SUMMARY, which GitHub
// Actions shows on the job's page.
func appendJobSummary(run report.Run) error {
	file := os.Getenv("GITHUB_STEP_SUMMARY")
	if file == "" {
		return nil
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(f, report.Summary(run)+"\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
