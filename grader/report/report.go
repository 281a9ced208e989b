// Package report writes one grading run in the forms its readers want:
// results.json for Gradescope, junit.xml for CI test views, summary.md for
// a GitHub job summary and report.html, with a message diagram per case,
// for the student who has to find out what went wrong.
//
// The package knows nothing of Ginkgo or of the grade driver: the driver
// fills a Run and asks for the files. Every writer accepts a partial Run
// (some cases never ran), because an interrupted grade must still leave
// reports that name what is missing.
package report

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Run is one grade of one tree or submission.
type Run struct {
	Tree     string        // what was graded, as the reports name it
	Seed     string        // first seed of the message order
	Runs     string        // seeds per case
	Duration time.Duration // wall time of the whole grade
	Cases    []Case        // one per spec, in the order the suite lists them
	// Error is set when grading could not run at all (the tree does not
	// build, a submission was rejected); Cases then say "did not run". In
	// a Partial run it says why the grade stopped early.
	Error string
	// Partial is set while the grade is still going or after it was
	// interrupted: cases that have not reported are in State NotRun.
	Partial bool
}

// Case is one graded spec.
type Case struct {
	Name    string        // the case file's name without .case
	Title   string        // the case's title header
	Kind    string        // "case" or "robustness"
	Phases  []string      // the PBFT phases it tests
	Points  int           // points earned
	Max     int           // points available
	State   string        // passed, failed, panicked, timedout, crashed, NotRun, ...
	Message string        // why it did not pass
	Time    time.Duration // how long the spec ran
	Hidden  bool          // a TA-only case: students see it once grades are published
	Replay  string        // the command that reruns it with the seed that matters
	Trace   *Trace        // the run the report shows, if the suite attached one
}

// NotRun is the state of a case that never reported: the grade was
// interrupted, or the test process died and could not be restarted.
const NotRun = "not run"

// Outcome classes, as JUnit and the badges of the HTML report see them.
const (
	OutcomePassed  = "passed"
	OutcomeFailure = "failure" // the replica ran and got something wrong
	OutcomeError   = "error"   // it panicked, hung, crashed or never ran
	OutcomeSkipped = "skipped"
)

// Outcome sorts a state into one of the four outcome classes. A wrong
// answer is a failure; anything that stopped the case from giving an
// answer at all is an error.
func Outcome(state string) string {
	switch state {
	case "passed":
		return OutcomePassed
	case "failed":
		return OutcomeFailure
	case "skipped", "pending":
		return OutcomeSkipped
	}
	return OutcomeError
}

// Totals are the points of a run, cases and robustness specs apart, as the
// grade prints them.
type Totals struct {
	Score, Max       int
	RobScore, RobMax int
}

// Totals adds up the run's points.
func (r Run) Totals() Totals {
	var t Totals
	for _, c := range r.Cases {
		if c.Kind == "robustness" {
			t.RobScore += c.Points
			t.RobMax += c.Max
		} else {
			t.Score += c.Points
			t.Max += c.Max
		}
	}
	return t
}

// Score is every point earned, robustness included: results.json's score
// and the gradebook's total. A run that could not grade earns nothing.
func (r Run) Score() int {
	if !r.graded() {
		return 0
	}
	t := r.Totals()
	return t.Score + t.RobScore
}

// graded reports whether the run's points stand: it ran, even if it was
// stopped before every case did.
func (r Run) graded() bool { return r.Error == "" || r.Partial }

// MaxScore is every point available.
func (r Run) MaxScore() int { t := r.Totals(); return t.Max + t.RobMax }

// Passed reports whether every case passed and the run was whole.
func (r Run) Passed() bool {
	if r.Error != "" || r.Partial || len(r.Cases) == 0 {
		return false
	}
	return !slices.ContainsFunc(r.Cases, func(c Case) bool { return c.State != "passed" })
}

// Headline is the run's result in one line: "Score: 50/62", or why there
// is none.
func (r Run) Headline() string {
	t := r.Totals()
	s := fmt.Sprintf("Score: %d/%d", t.Score, t.Max)
	if t.RobMax > 0 {
		s += fmt.Sprintf(", robustness: %d/%d", t.RobScore, t.RobMax)
	}
	why := ""
	if r.Error != "" {
		why = firstLine(r.Error) + "; "
	}
	switch {
	case !r.graded():
		s += " (grading could not run)"
	case r.Partial:
		if n := r.count(NotRun); n > 0 {
			s += fmt.Sprintf(" (incomplete: %s%d of %d cases did not run)", why, n, len(r.Cases))
		} else {
			s += " (incomplete)"
		}
	}
	return s
}

func (r Run) count(state string) int {
	n := 0
	for _, c := range r.Cases {
		if c.State == state {
			n++
		}
	}
	return n
}

// reason is the case's message with a fallback that always says something,
// so no failing case is reported without a word of why.
func (c Case) reason() string {
	if strings.TrimSpace(c.Message) != "" {
		return c.Message
	}
	switch c.State {
	case "passed":
		return ""
	case NotRun:
		return "did not run: the grade stopped before this case reported"
	case "timedout":
		return "the case did not finish in time"
	case "crashed":
		return "the test process died while running this case"
	}
	return "the case " + c.State
}

// firstLine is the first non-empty line of s, for one-line summaries.
func firstLine(s string) string {
	for line := range strings.SplitSeq(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

// seconds renders d for people: "1.2s", "35ms".
func seconds(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// FirstProblem is the one line of a failure message that says what went
// wrong first: the first "expected ..., found ..." line when there is one,
// else the first line that is neither the Heading nor a note in
// parentheses. The terminal, summary.md and junit.xml all lead with it, so a
// reader sees the same first fact wherever they look.
func FirstProblem(msg string) string {
	var fallback string
	for line := range strings.SplitSeq(msg, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "reproduce:") {
			continue
		}
		if strings.Contains(line, "expected") && strings.Contains(line, "found") {
			return clip(line, MaxLineLen)
		}
		// A line in parentheses is a note on the run (the order it was
		// shrunk to), not what went wrong.
		if fallback == "" && !failedWithSeed.MatchString(line) && !strings.HasPrefix(line, "(") {
			fallback = line
		}
	}
	if fallback == "" {
		fallback = firstLine(msg)
	}
	return clip(fallback, MaxLineLen)
}

// Heading is the first line of a failure message: the spec, its seed and,
// when every seed played one fixed order of deliveries, that order.
func Heading(name string, seed uint64, schedule string) string {
	if schedule != "" {
		return fmt.Sprintf("%s failed with seed %d on schedule %s", name, seed, schedule)
	}
	return fmt.Sprintf("%s failed with seed %d", name, seed)
}

// failedWithSeed matches a Heading.
var failedWithSeed = regexp.MustCompile(`^\S+ failed with seed \d+( on schedule \S+)?$`)

// clip cuts s to at most n bytes, at a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
