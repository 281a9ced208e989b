package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"pbftlab/internal/atomicfile"
)

// File names the writers use inside a report folder.
const (
	ResultsFile = "results.json"
	JUnitFile   = "junit.xml"
	SummaryFile = "summary.md"
	HTMLFile    = "report.html"
	// GradebookFile is a batch's table of grades (ta/batch), named here so
	// that a single grade in the same folder can remove a stale one.
	GradebookFile = "gradebook.csv"
)

// MarshalResults renders results.json.
func MarshalResults(r Run) ([]byte, error) {
	data, err := json.MarshalIndent(ToGradescope(r), "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// WriteResults writes results.json alone: what a grade in progress keeps
// up to date as cases finish.
func WriteResults(dir string, r Run) error {
	data, err := MarshalResults(r)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, ResultsFile), data)
}

// WriteAll writes every report into dir, score.json included.
func WriteAll(dir string, r Run) error {
	if err := WriteResults(dir, r); err != nil {
		return err
	}
	score, err := MarshalScore(r)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, ScoreFile), score); err != nil {
		return err
	}
	junit, err := MarshalJUnit(r)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, JUnitFile), junit); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, SummaryFile), []byte(Summary(r))); err != nil {
		return err
	}
	page, err := HTML(r)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, HTMLFile), page)
}

// ReadResults reads the results.json a grade left in dir: what batch
// grading and the tests read back.
func ReadResults(dir string) (Gradescope, error) {
	var g Gradescope
	err := readJSON(filepath.Join(dir, ResultsFile), &g)
	return g, err
}

// ReadScore reads the score.json a grade left in dir.
func ReadScore(dir string) (Score, error) {
	var s Score
	err := readJSON(filepath.Join(dir, ScoreFile), &s)
	return s, err
}

func readJSON(file string, v any) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}
