package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Gradescope is results.json in the format of Gradescope's autograder
// specification: a top-level score and one entry per test.
type Gradescope struct {
	Score         float64 `json:"score"`
	ExecutionTime float64 `json:"execution_time"` // seconds
	Output        string  `json:"output"`
	OutputFormat  string  `json:"output_format"`
	// StdoutVisibility hides the autograder's own output (the grade's
	// table, with every case) from students while TA-only cases exist.
	StdoutVisibility string           `json:"stdout_visibility"`
	Tests            []GradescopeTest `json:"tests"`
	ExtraData        RunData          `json:"extra_data"`
}

// RunData is what Gradescope stores beside the results without showing
// it, and what a gradebook reads back: the run's own terms, not
// Gradescope's.
type RunData struct {
	Tree    string `json:"tree"`
	Error   string `json:"error,omitempty"`   // why grading could not run, or stopped early
	Partial bool   `json:"partial,omitempty"` // some cases did not report
	State   string `json:"state"`             // as score.json's state
	// The score split as the grade prints it: the lab's cases and the
	// robustness specs. The top-level score is their sum.
	LabScore int `json:"lab_score"`
	LabMax   int `json:"lab_max"`
	RobScore int `json:"robustness_score"`
	RobMax   int `json:"robustness_max"`
}

// TestData is a test's own terms: the case name and its spec state, which
// "failed" alone does not tell apart.
type TestData struct {
	Case  string `json:"case"`
	Kind  string `json:"kind"`
	State string `json:"state"`
}

// GradescopeTest is one case as Gradescope shows it.
type GradescopeTest struct {
	Name         string   `json:"name"`
	Number       string   `json:"number"`
	Score        float64  `json:"score"`
	MaxScore     float64  `json:"max_score"`
	Status       string   `json:"status"` // "passed" or "failed"
	Tags         []string `json:"tags"`
	Output       string   `json:"output"`
	OutputFormat string   `json:"output_format"`
	Visibility   string   `json:"visibility"`
	ExtraData    TestData `json:"extra_data"`
}

// Gradescope visibility settings the kit uses: public cases are shown at
// once, TA-only ones when the TA publishes the grades.
const (
	VisibilityVisible        = "visible"
	VisibilityAfterPublished = "after_published"
	VisibilityHidden         = "hidden"
)

// ToGradescope converts the run. A case that did not pass, for whatever
// reason, is "failed" with no points: Gradescope has no other status.
func ToGradescope(r Run) Gradescope {
	t := r.Totals()
	hidden := slices.ContainsFunc(r.Cases, func(c Case) bool { return c.Hidden })
	g := Gradescope{
		Score:            float64(r.Score()),
		ExecutionTime:    roundTo(r.Duration.Seconds(), 3),
		Output:           overview(r, hidden),
		OutputFormat:     "md",
		StdoutVisibility: VisibilityVisible,
		Tests:            []GradescopeTest{},
		ExtraData: RunData{Tree: r.Tree, Error: r.Error, Partial: r.Partial, State: r.State(),
			LabScore: t.Score, LabMax: t.Max, RobScore: t.RobScore, RobMax: t.RobMax},
	}
	if hidden {
		g.StdoutVisibility = VisibilityHidden
	}
	if !r.graded() {
		g.ExtraData.LabScore, g.ExtraData.RobScore = 0, 0
	}
	for i, c := range r.Cases {
		t := GradescopeTest{
			Name:         c.Title + " (" + c.Name + ")",
			Number:       strconv.Itoa(i + 1),
			Score:        float64(c.Points),
			MaxScore:     float64(c.Max),
			Status:       "failed",
			Tags:         append([]string{}, c.Phases...),
			Output:       CaseMarkdown(c),
			OutputFormat: "md",
			Visibility:   VisibilityVisible,
			ExtraData:    TestData{Case: c.Name, Kind: c.Kind, State: c.State},
		}
		if c.Title == "" {
			t.Name = c.Name
		}
		if c.Kind == "robustness" {
			t.Tags = append(t.Tags, "robustness")
		}
		if c.State == "passed" && r.graded() {
			t.Status = "passed"
		} else {
			t.Score = 0
		}
		if c.Hidden {
			t.Visibility = VisibilityAfterPublished
		}
		g.Tests = append(g.Tests, t)
	}
	return g
}

// overview is the text shown above the tests: the score and, when the
// grade is not whole, why. While TA-only cases exist it gives no total at
// all: Gradescope shows this text at once, and any total (even of the
// visible tests, which with the top-level score gives the hidden ones
// away) would tell a student how the TA-only cases went. The tests
// themselves carry their own visibility.
func overview(r Run, hidden bool) string {
	var b strings.Builder
	if hidden {
		b.WriteString("**Results of the visible tests are below.** More tests are graded, and shown with your total once the grades are published.\n")
		if r.Error != "" && !r.graded() {
			fmt.Fprintf(&b, "\nGrading could not run:\n\n%s\n", fence(r.Error))
		}
		return b.String()
	}
	fmt.Fprintf(&b, "**%s**", r.Headline())
	if r.Tree != "" {
		fmt.Fprintf(&b, " for `%s`", r.Tree)
	}
	if r.Seed != "" {
		fmt.Fprintf(&b, " (seeds from %s, %s per case)", r.Seed, r.Runs)
	}
	b.WriteString("\n")
	if r.Error != "" && !r.graded() {
		fmt.Fprintf(&b, "\nGrading could not run:\n\n%s\n", fence(r.Error))
	}
	if n := r.count(NotRun); n > 0 {
		fmt.Fprintf(&b, "\n%d case(s) did not run; they are listed with no points.\n", n)
	}
	return b.String()
}

// CaseMarkdown is a case's story in Markdown: its outcome, what differed,
// the command that replays it, and the transcript of the run.
func CaseMarkdown(c Case) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**: %d/%d points", c.State, c.Points, c.Max)
	if len(c.Phases) > 0 {
		fmt.Fprintf(&b, " · phases: %s", strings.Join(c.Phases, ", "))
	}
	if c.Trace != nil {
		fmt.Fprintf(&b, " · seed %d", c.Trace.Seed)
	}
	b.WriteString("\n")
	if c.State != "passed" {
		b.WriteString("\n#### What differed\n\n")
		if c.Trace != nil && (len(c.Trace.Failures) > 0 || c.Trace.Error != "") {
			var lines []string
			if c.Trace.Error != "" {
				lines = append(lines, c.Trace.Error)
			}
			lines = append(lines, c.Trace.Failures...)
			b.WriteString(fence(strings.Join(lines, "\n")))
		} else {
			b.WriteString(fence(BoundLines(c.reason(), 80, MaxLineLen)))
		}
	}
	if c.Replay != "" {
		fmt.Fprintf(&b, "\n#### Replay\n\n```\n%s\n```\n", c.Replay)
	}
	if c.Trace != nil && c.Trace.Transcript != "" {
		fmt.Fprintf(&b, "\n#### Transcript (seed %d)\n\n%s", c.Trace.Seed, fence(c.Trace.Transcript))
	}
	return b.String()
}

// fence puts s in a code block whose fence no line of s can close.
func fence(s string) string {
	s = Printable(s) // a lone carriage return is a line end to Markdown
	f := "```"
	for strings.Contains(s, f) {
		f += "`"
	}
	return f + "\n" + strings.TrimRight(s, "\n") + "\n" + f + "\n"
}

func roundTo(x float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(x*p+0.5)) / p
}
