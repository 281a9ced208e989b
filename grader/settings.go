package grader

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"pbftlab/sim"
)

// SettingsEnv is the one environment variable through which the grade
// driver (pbftlab grade, stress, mutants) tells the suite, in the test
// process it starts, how to grade: its value is a Settings in JSON. The
// variable crosses ginkgo and go test untouched. Unset, the suite grades
// with the defaults, as `go test ./solution/` does.
const SettingsEnv = "PBFTLAB_SETTINGS"

// Settings is how the suite grades, as the driver sets it.
type Settings struct {
	Seed      uint64  `json:"seed,omitempty"`      // first seed, default 1
	Runs      int     `json:"runs,omitempty"`      // seeds per case, default 3
	Duplicate float64 `json:"duplicate,omitempty"` // chance a message is delivered twice, default 0.2
	// Cases is the folder of case files; empty, cases/ at the root of the
	// module.
	Cases string `json:"cases,omitempty"`
	// Tree names the tree graded, so that a replay command reruns the code
	// that failed.
	Tree string `json:"tree,omitempty"`
	// Submission, when set, is the hand-in folder graded, as the command
	// named it: a replay command names it instead of the tree, so that it
	// grades the hand-in again and not the kit's tree.
	Submission string `json:"submission,omitempty"`
	// ForStudent writes replay commands for the student's own copy of the
	// kit, naming no tree, hand-in or case folder of this grade's.
	ForStudent bool `json:"for_student,omitempty"`
	// Whole puts a failing run's whole transcript in its message, not its
	// last lines (make grade V=1, which prints the suite's output).
	Whole bool `json:"whole,omitempty"`
	// Progress is the file the suite appends each finished spec's report
	// to (see recordProgress).
	Progress string `json:"progress,omitempty"`
	// Report is the file the suite writes its report to once every spec
	// has run (see writeReport).
	Report string `json:"report,omitempty"`
	// ScheduleText, when set, plays every seed on this order of
	// deliveries instead of the seed's, as sim.ParseSchedule reads it
	// (ReadSettings parses it into Schedule). A failure's replay command
	// names it when the failure was shrunk to one.
	ScheduleText string `json:"schedule,omitempty"`
	// Stress, when set, makes the grade test a stress run instead of a
	// grade (see Stress).
	Stress *StressSettings `json:"stress,omitempty"`

	// Reorder and Drop are for the runs of a stress run: links that do not
	// keep order, and the chance that a message between replicas is lost.
	// A grade keeps links in order (but for the seeds that Network picks)
	// and loses nothing.
	Reorder bool    `json:"-"`
	Drop    float64 `json:"-"`
	// Schedule is ScheduleText parsed (see sim.Schedule).
	Schedule *sim.Schedule `json:"-"`
}

// StressSettings say what a stress run plays and where it writes.
type StressSettings struct {
	Seeds int      `json:"seeds"`          // seeds per case, from Settings.Seed
	Dir   string   `json:"dir"`            // the folder for results and failing transcripts
	Only  []string `json:"only,omitempty"` // some cases and scenarios, by name; none means all
	Tree  string   `json:"tree,omitempty"` // the tree, as the replay commands name it
}

// DefaultSettings are what the suite grades with when told nothing.
func DefaultSettings() Settings { return Settings{Seed: 1, Runs: 3, Duplicate: 0.2} }

// Env returns the environment entry that passes s to the suite.
func (s Settings) Env() string { return SettingsEnv + "=" + s.Encode() }

// Encode returns s as the value of SettingsEnv.
func (s Settings) Encode() string {
	data, err := json.Marshal(s)
	if err != nil {
		panic(err) // plain data: it cannot fail
	}
	return string(data)
}

// ReadSettings reads the settings the driver passed, the defaults filling
// in what it left out.
func ReadSettings() (Settings, error) {
	s := DefaultSettings()
	v := os.Getenv(SettingsEnv)
	if v == "" {
		return s, nil
	}
	var got Settings
	if err := json.Unmarshal([]byte(v), &got); err != nil {
		return s, fmt.Errorf("%s is not a settings value: %v", SettingsEnv, err)
	}
	if got.Seed != 0 {
		s.Seed = got.Seed
	}
	if got.Runs != 0 {
		s.Runs = got.Runs
	}
	if got.Duplicate != 0 {
		s.Duplicate = got.Duplicate
	}
	s.Cases, s.Tree, s.Submission, s.Progress, s.Report, s.Stress = got.Cases, got.Tree, got.Submission, got.Progress, got.Report, got.Stress
	s.ForStudent, s.Whole = got.ForStudent, got.Whole
	if s.ScheduleText = got.ScheduleText; s.ScheduleText != "" {
		sched, err := sim.ParseSchedule(s.ScheduleText)
		if err != nil {
			return s, fmt.Errorf("the schedule %q: %v", s.ScheduleText, err)
		}
		s.Schedule = sched
	}
	return s, s.check()
}

func (s Settings) check() error {
	switch {
	case s.Runs < 1:
		return fmt.Errorf("%d is not a positive number of runs", s.Runs)
	case s.Duplicate < 0 || s.Duplicate >= 1:
		return fmt.Errorf("%g is not a probability in [0, 1)", s.Duplicate)
	case s.Stress != nil && s.Stress.Seeds < 1:
		return fmt.Errorf("%d is not a positive number of seeds", s.Stress.Seeds)
	case s.Stress != nil && s.Stress.Dir == "":
		return errors.New("the stress run names no folder for its results")
	}
	return nil
}
