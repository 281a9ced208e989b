package report

import (
	"encoding/json"
	"path/filepath"

	"pbftlab/internal/atomicfile"
)

// File names the writers use inside a report folder.
const (
	ResultsFile = "results.json"
	JUnitFile   = "junit.xml"
	SummaryFile = "summary.md"
	HTMLFile    = "report.html"
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
