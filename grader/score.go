package grader

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

// Row is one graded spec.
type Row struct {
	Name    string        `json:"name"`
	Title   string        `json:"title"`
	Kind    string        `json:"kind"` // "case" or "robustness"
	Phases  []string      `json:"phases"`
	Points  int           `json:"points"`
	Max     int           `json:"max"`
	State   string        `json:"state"` // passed, failed, panicked, timedout, skipped, crashed, ...
	Message string        `json:"message,omitempty"`
	Time    time.Duration `json:"time_ns"`
}

// Result is a whole grade.
type Result struct {
	Rows     []Row `json:"cases"`
	Score    int   `json:"score"`
	Max      int   `json:"max"`
	RobScore int   `json:"robustness_score"`
	RobMax   int   `json:"robustness_max"`
}

// Passed reports whether every graded spec passed.
func (r Result) Passed() bool {
	for _, row := range r.Rows {
		if row.State != "passed" {
			return false
		}
	}
	return len(r.Rows) > 0
}

// Score reads a suite report: every It spec that carries a points label is
// a row, worth its points if and only if it passed. Nothing else counts, so
// what a replica prints cannot change a score.
func Score(r types.Report) Result {
	var res Result
	for _, sr := range r.SpecReports {
		if sr.LeafNodeType != types.NodeTypeIt {
			continue
		}
		row, ok := RowOf(sr)
		if !ok {
			continue
		}
		res.Add(row)
	}
	return res
}

// Add appends a row and updates the totals.
func (res *Result) Add(row Row) {
	res.Rows = append(res.Rows, row)
	if row.Kind == "robustness" {
		res.RobScore += row.Points
		res.RobMax += row.Max
	} else {
		res.Score += row.Points
		res.Max += row.Max
	}
}

// RowOf turns a spec report into a row; ok is false for a spec that carries
// no points.
func RowOf(sr types.SpecReport) (Row, bool) {
	row := Row{Title: sr.LeafNodeText, Kind: "case", State: sr.State.String(), Time: sr.RunTime, Max: -1}
	for _, l := range sr.Labels() {
		key, value, _ := strings.Cut(l, ":")
		switch key {
		case "points":
			if n, err := strconv.Atoi(value); err == nil {
				row.Max = n
			}
		case "case":
			row.Name = value
		case "phase":
			row.Phases = append(row.Phases, value)
		case "kind":
			row.Kind = value
		}
	}
	if row.Max < 0 {
		return row, false
	}
	if sr.State == types.SpecStatePassed {
		row.Points = row.Max
	}
	if sr.State.Is(types.SpecStateFailureStates) {
		row.Message = sr.Failure.Message
		if sr.Failure.ForwardedPanic != "" {
			row.Message = "panic: " + sr.Failure.ForwardedPanic + "\n" + sr.Failure.Location.FullStackTrace
		}
	}
	return row, true
}

// Table renders the result as the grade prints it: a row per spec, then
// "Score: X/Y" (and "Robustness: X/Y" when there are robustness specs).
func (res Result) Table() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "CASE\tPHASES\tPOINTS\tSTATE\tTIME")
	for _, row := range res.Rows {
		fmt.Fprintf(w, "%s\t%s\t%d/%d\t%s\t%s\n", row.Name, strings.Join(row.Phases, ","), row.Points, row.Max, row.State, row.Time.Round(time.Millisecond))
	}
	w.Flush()
	fmt.Fprintf(&b, "Score: %d/%d", res.Score, res.Max)
	if res.Max == 0 && res.RobMax > 0 {
		b.WriteString(" (none of the lab's cases is among the specs graded: each needs a later phase)")
	}
	b.WriteString("\n")
	if res.RobMax > 0 {
		fmt.Fprintf(&b, "Robustness: %d/%d\n", res.RobScore, res.RobMax)
	}
	return b.String()
}

// SpecOrder orders specs as every report lists them: the cases first, then
// the robustness specs, each by name with numbers in their natural order
// (robust2 before robust10).
func SpecOrder(aRobust bool, a string, bRobust bool, b string) int {
	if aRobust != bRobust {
		if aRobust {
			return 1
		}
		return -1
	}
	return naturalCompare(a, b)
}

// naturalCompare compares strings with runs of digits compared as numbers.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, _ := strconv.Atoi(a[:da])
			nb, _ := strconv.Atoi(b[:db])
			if na != nb {
				return cmp.Compare(na, nb)
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && n < 9 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
