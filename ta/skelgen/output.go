package skelgen

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// Diff compares the files with what dir holds and lists every difference:
// a file that differs, is missing, or is in dir without being generated.
func (files Files) Diff(dir string) ([]string, error) {
	var diffs []string
	for _, rel := range slices.Sorted(maps.Keys(files)) {
		have, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		switch {
		case os.IsNotExist(err):
			diffs = append(diffs, rel+": missing")
		case err != nil:
			return nil, err
		case !bytes.Equal(have, files[rel]):
			diffs = append(diffs, rel+": differs")
		}
	}
	extra, err := files.extra(dir)
	if err != nil {
		return nil, err
	}
	for _, rel := range extra {
		diffs = append(diffs, rel+": not generated")
	}
	return diffs, nil
}

// Write makes dir hold exactly the files: it writes each one and removes
// any other file, so that nothing stale stays behind.
func (files Files) Write(dir string) error {
	extra, err := files.extra(dir)
	if err != nil {
		return err
	}
	for _, rel := range extra {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			return err
		}
	}
	for rel, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
			continue
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return removeEmptyDirs(dir)
}

// extra lists the files under dir that are not among files.
func (files Files) extra(dir string) ([]string, error) {
	var extra []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if os.IsNotExist(err) && p == dir {
			return filepath.SkipAll
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if _, ok := files[filepath.ToSlash(rel)]; !ok {
			extra = append(extra, filepath.ToSlash(rel))
		}
		return nil
	})
	return extra, err
}

// removeEmptyDirs removes the folders under dir that hold no file.
func removeEmptyDirs(dir string) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != dir {
			dirs = append(dirs, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, d := range slices.Backward(dirs) {
		if entries, err := os.ReadDir(d); err == nil && len(entries) == 0 {
			if err := os.Remove(d); err != nil {
				return err
			}
		}
	}
	return nil
}
