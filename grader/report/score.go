package report

import (
	_ "embed"
	"encoding/json"
	"slices"
	"time"
)

//go:embed score.schema.json
var scoreSchema []byte

// ScoreSchema returns score.json's JSON Schema (score.schema.json).
func ScoreSchema() []byte { return slices.Clone(scoreSchema) }

// ScoreFile is the name of score.json, the grade's own report: every
// case, its state and message, and the totals. Its schema is
// score.schema.json beside this file, which README's Reports section
// describes and the tests validate every kind of grade against.
const ScoreFile = "score.json"

// Grade states: how a whole grade ended.
const (
	GradePassed     = "passed"     // every spec ran and passed
	GradeFailed     = "failed"     // every spec ran; some did not pass
	GradeIncomplete = "incomplete" // stopped (an interrupt, the time limit) before every spec ran
	GradeNotGraded  = "not graded" // could not run: refused, does not build, bad cases
)

// Score is score.json.
type Score struct {
	Tree     string        `json:"tree"`
	Seed     string        `json:"seed"`
	Runs     string        `json:"runs"`
	Duration time.Duration `json:"duration_ns"`
	State    string        `json:"state"`
	// ExitCode is the grade command's: 0 passed, 1 failed, 2 anything
	// else.
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty"` // why it is not graded, or incomplete
	// The lab's cases (100 points) and the robustness specs apart, as the
	// grade prints them; Total is both, what results.json's score is.
	LabScore int         `json:"score"`
	LabMax   int         `json:"max"`
	RobScore int         `json:"robustness_score"`
	RobMax   int         `json:"robustness_max"`
	Total    int         `json:"total"`
	TotalMax int         `json:"total_max"`
	Cases    []ScoreCase `json:"cases"`
}

// ScoreCase is one spec in score.json.
type ScoreCase struct {
	Name    string        `json:"name"`
	Title   string        `json:"title"`
	Kind    string        `json:"kind"`
	Phases  []string      `json:"phases"`
	Points  int           `json:"points"`
	Max     int           `json:"max"`
	State   string        `json:"state"`
	Problem string        `json:"problem,omitempty"` // the first line of what went wrong
	Message string        `json:"message,omitempty"`
	Time    time.Duration `json:"time_ns"`
	Hidden  bool          `json:"hidden,omitempty"`
	Replay  string        `json:"replay,omitempty"`
}

// State is how the run ended, as score.json names it.
func (r Run) State() string {
	switch {
	case r.Error != "" && !r.Partial:
		return GradeNotGraded
	case r.Partial || r.count(NotRun) > 0:
		return GradeIncomplete
	case r.Passed():
		return GradePassed
	}
	return GradeFailed
}

// ExitCode is the grade command's exit code for the run.
func (r Run) ExitCode() int {
	switch r.State() {
	case GradePassed:
		return 0
	case GradeFailed:
		return 1
	}
	return 2
}

// ToScore converts the run.
func ToScore(r Run) Score {
	t := r.Totals()
	s := Score{
		Tree: r.Tree, Seed: r.Seed, Runs: r.Runs, Duration: r.Duration,
		State: r.State(), ExitCode: r.ExitCode(), Error: r.Error,
		LabScore: t.Score, LabMax: t.Max, RobScore: t.RobScore, RobMax: t.RobMax,
		Total: t.Score + t.RobScore, TotalMax: t.Max + t.RobMax,
		Cases: []ScoreCase{},
	}
	if r.Error != "" && !r.Partial {
		s.LabScore, s.RobScore, s.Total = 0, 0, 0
	}
	for _, c := range r.Cases {
		sc := ScoreCase{
			Name: c.Name, Title: c.Title, Kind: c.Kind, Phases: append([]string{}, c.Phases...),
			Points: c.Points, Max: c.Max, State: c.State, Time: c.Time, Hidden: c.Hidden, Replay: c.Replay,
		}
		if c.State != "passed" {
			sc.Message = c.reason()
			sc.Problem = FirstProblem(sc.Message)
		}
		s.Cases = append(s.Cases, sc)
	}
	return s
}

// MarshalScore renders score.json.
func MarshalScore(r Run) ([]byte, error) {
	data, err := json.MarshalIndent(ToScore(r), "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
