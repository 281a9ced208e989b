package grader

import (
	"encoding/json"
	"errors"
	"os"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"pbftlab/grader/report"
	"pbftlab/internal/atomicfile"
	"pbftlab/lab"
	"pbftlab/script"
	"pbftlab/sim"
)

// recordProgress appends the finished spec's report to the progress file
// (Settings.Progress): one JSON line per finished spec, its whole spec
// report, trace entry included. The grade driver names the file, so that
// results written while the suite runs, and after its process dies, know
// every spec that did finish.
// Each line is written with one call on a file opened for appending, so a
// process that dies leaves whole lines behind, and the file is closed at
// once, so nothing waits in a buffer.
func recordProgress(sr ginkgo.SpecReport) {
	st, err := ReadSettings()
	path := st.Progress
	if err != nil || path == "" || sr.LeafNodeType != types.NodeTypeIt || sr.State == types.SpecStateSkipped {
		return
	}
	line, err := json.Marshal(sr)
	if err != nil {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.Write(append(line, '\n'))
}

// writeReport writes the suite's report to the file the driver names
// (Settings.Report) once every spec has run, or the suite was stopped:
// Ginkgo's report, in the shape of its JSON report, less the report
// entries of each spec, whose traces the progress file has carried
// already. That the file exists tells the driver the process ended by
// itself; Ginkgo's own JSON report would tell it as much at twice the
// cost, every trace encoded and decoded once more. It is written whole or
// not at all, so that a process killed while writing it has written none.
func writeReport(r ginkgo.Report) {
	st, err := ReadSettings()
	if err != nil || st.Report == "" {
		return
	}
	specs := make(types.SpecReports, len(r.SpecReports))
	for i, sr := range r.SpecReports {
		sr.ReportEntries = nil
		specs[i] = sr
	}
	r.SpecReports = specs
	data, err := json.Marshal([]types.Report{r})
	if err != nil {
		ginkgo.Fail("the suite's report does not encode: " + err.Error())
	}
	if err := atomicfile.Write(st.Report, data); err != nil {
		ginkgo.Fail("writing the suite's report: " + err.Error())
	}
}

// traceOf captures a finished run of case c for the reports.
func traceOf(c *script.Case, s *sim.Cluster, r run, failures []script.Failure, err error) *report.Trace {
	if s == nil {
		return nil
	}
	t := simTrace(s)
	t.Seed = r.seed
	t.Passed = err == nil && len(failures) == 0
	t.Replay = reproduce(c, r)
	for _, id := range c.Byzantine {
		t.Byzantine = append(t.Byzantine, id.String())
	}
	if err != nil {
		t.Error = err.Error()
		if pe, ok := errors.AsType[*sim.PanicError](err); ok && pe.Replica != lab.Client {
			t.Error += "\n\n" + Tail(pe.Stack, 30)
		}
		if se, ok := errors.AsType[*sim.StuckError](err); ok {
			t.Error = se.Explain()
		}
	}
	for _, f := range failures {
		t.Failures = append(t.Failures, f.Error())
	}
	return t
}

// attachTrace hangs the trace on the running spec, where the progress
// file carries it to the driver. It is never printed: the
// failure message already has the transcript.
func attachTrace(t *report.Trace) {
	if t != nil {
		t.Fit(report.MaxTraceBytes)
		ginkgo.AddReportEntry(report.TraceEntry, t, ginkgo.ReportEntryVisibilityNever)
	}
}

// played is what one seed's run hands back to the spec: the failure
// message ("" when it passed) and its trace.
type played struct {
	msg   string
	trace *report.Trace
	sched *sim.Schedule // the order the run delivered in, when recorded
	// key tells two runs apart: what failed and the transcript, but not
	// a panic's stack, which differs from one run to the next.
	key string
	// delivered counts the messages the run delivered.
	delivered int
	// stuck says a call of the run overran its limit and was unwound:
	// where it stopped depends on time, so the run is not played again.
	stuck bool
}
