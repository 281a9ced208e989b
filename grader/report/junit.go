package report

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// JUnit is junit.xml: one testsuite, one testcase per case. A wrong answer
// is a <failure>; a panic, a hang, a crash or a case that never ran is an
// <error>, the distinction CI test views draw between the two.
type JUnit struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is the run.
type JUnitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []JUnitProperty `xml:"properties>property,omitempty"`
	Cases      []JUnitCase     `xml:"testcase"`
	SystemErr  string          `xml:"system-err,omitempty"`
}

// JUnitProperty is a name and a value.
type JUnitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// JUnitCase is one case. It has no properties of its own: the Jenkins
// schema (junit-10.xsd) allows them on a suite only, so a case's title,
// points, phases and replay command lead its system-out instead.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitProblem `xml:"failure,omitempty"`
	Error     *JUnitProblem `xml:"error,omitempty"`
	Skipped   *JUnitProblem `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitProblem is a failure, error or skip: a one-line message (the first
// thing that went wrong, as the terminal and summary.md show it), its type
// (the spec state) and the full text.
type JUnitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// ToJUnit converts the run.
func ToJUnit(r Run) JUnit {
	suite := JUnitSuite{
		Name: "pbftlab grade",
		Time: fmt.Sprintf("%.3f", r.Duration.Seconds()),
		Properties: []JUnitProperty{
			{"tree", r.Tree}, {"seed", r.Seed}, {"runs", r.Runs},
			{"state", r.State()},
			{"score", fmt.Sprintf("%d/%d", r.Totals().Score, r.Totals().Max)},
			{"robustness", fmt.Sprintf("%d/%d", r.Totals().RobScore, r.Totals().RobMax)},
			{"total", fmt.Sprintf("%d/%d", r.Score(), r.MaxScore())},
		},
		Cases: []JUnitCase{},
	}
	if r.Tree != "" {
		suite.Name += ": " + r.Tree
	}
	if r.Error != "" {
		suite.SystemErr = r.Error
	}
	for _, c := range r.Cases {
		jc := JUnitCase{
			Name:      c.Name,
			Classname: "pbftlab." + c.Kind,
			Time:      fmt.Sprintf("%.3f", c.Time.Seconds()),
		}
		var out strings.Builder
		fmt.Fprintf(&out, "%s\npoints: %d/%d\nphases: %s\n", c.Title, c.Points, c.Max, strings.Join(c.Phases, ", "))
		if c.Replay != "" {
			fmt.Fprintf(&out, "replay: %s\n", c.Replay)
		}
		if c.Trace != nil && c.Trace.Transcript != "" {
			fmt.Fprintf(&out, "\ntranscript (seed %d):\n%s", c.Trace.Seed, c.Trace.Transcript)
		}
		jc.SystemOut = out.String()
		state := c.State
		if !r.graded() && state == "passed" {
			state = NotRun
		}
		problem := &JUnitProblem{Message: FirstProblem(c.reason()), Type: strings.ReplaceAll(state, " ", "-"), Text: c.reason()}
		switch Outcome(state) {
		case OutcomeFailure:
			jc.Failure = problem
			suite.Failures++
		case OutcomeError:
			jc.Error = problem
			suite.Errors++
		case OutcomeSkipped:
			jc.Skipped = problem
			suite.Skipped++
		}
		suite.Cases = append(suite.Cases, jc)
		suite.Tests++
	}
	return JUnit{
		Name: "pbftlab", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Time: suite.Time, Suites: []JUnitSuite{suite},
	}
}

// MarshalJUnit renders junit.xml, declaration included.
func MarshalJUnit(r Run) ([]byte, error) {
	data, err := xml.MarshalIndent(ToJUnit(r), "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(data, '\n')...), nil
}
