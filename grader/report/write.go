package report

import (
	"encoding/json"
	"os"
	"path/filepath"
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
	return writeFile(filepath.Join(dir, ResultsFile), data)
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
	if err := writeFile(filepath.Join(dir, ScoreFile), score); err != nil {
		return err
	}
	junit, err := MarshalJUnit(r)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, JUnitFile), junit); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, SummaryFile), []byte(Summary(r))); err != nil {
		return err
	}
	page, err := HTML(r)
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, HTMLFile), page)
}

// writeFile replaces path through a temporary file and a rename, so that
// a reader (Gradescope, a TA's browser, a killed grade) never finds half a
// report.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
