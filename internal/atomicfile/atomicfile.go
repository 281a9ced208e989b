// Package atomicfile replaces a file whole or not at all, so that a reader
// (Gradescope, a TA's browser or spreadsheet, a grade killed half way)
// never finds half of it: the kit's reports, gradebook and autograder zip
// are all written this way.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with data, readable by all (0644), through a
// temporary file in the same folder and a rename.
func Write(path string, data []byte) error {
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
