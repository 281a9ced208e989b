package submission

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// Bounds of the look below a submission folder that holds none of its
// files: hand-ins come as unpacked archives (pbft-lab-main/skeleton/),
// not as trees worth walking whole.
const (
	lookDepth   = 5    // folders below the submission folder
	lookEntries = 5000 // files and folders seen
)

// whereFilesAre says, for a submission folder src that holds none of the
// editable files, where the student's files may be instead: the folder
// below it holding the most of them (or else the most Go files), or a zip
// to unpack. It returns "" when it finds neither. It follows no link and
// reads no file, and looks at most lookDepth folders down and at
// lookEntries entries.
func whereFilesAre(src string, editable []string) string {
	type candidate struct {
		dir           string
		editable, gos int
		depth         int
	}
	var best *candidate
	better := func(c candidate) bool {
		switch {
		case best == nil:
			return true
		case c.editable != best.editable:
			return c.editable > best.editable
		case c.gos != best.gos:
			return c.gos > best.gos
		}
		return c.depth < best.depth
	}
	var zipFile string
	seen := 0
	counts := map[string]*candidate{}
	_ = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // an unreadable folder: look elsewhere
		}
		if seen++; seen > lookEntries {
			return filepath.SkipAll
		}
		rel, _ := filepath.Rel(src, p)
		depth := strings.Count(filepath.ToSlash(rel), "/") + 1
		if d.IsDir() {
			if p != src && (strings.HasPrefix(d.Name(), ".") || d.Name() == "__MACOSX" || depth > lookDepth) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		name, dir := d.Name(), filepath.Dir(p)
		switch {
		case strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") && dir != src:
			c := counts[dir]
			if c == nil {
				c = &candidate{dir: dir, depth: depth}
				counts[dir] = c
			}
			c.gos++
			if slices.Contains(editable, name) {
				c.editable++
			}
		case strings.EqualFold(filepath.Ext(name), ".zip") && zipFile == "":
			zipFile = p
		}
		return nil
	})
	for _, dir := range slices.Sorted(maps.Keys(counts)) {
		if c := *counts[dir]; better(c) {
			best = &c
		}
	}
	switch {
	case best != nil:
		return fmt.Sprintf("its Go files are in %s: point the grade at that folder (make grade SUBMISSION=%s), or move them into %s",
			best.dir, best.dir, src)
	case zipFile != "":
		return fmt.Sprintf("it holds %s: unpack it first (unzip -d %s %s), then grade again", zipFile, filepath.Dir(zipFile), zipFile)
	}
	return ""
}

// noFilesError is the error of a submission folder holding none of the
// editable files, saying where they may be when that can be found.
func noFilesError(src string, editable []string) error {
	msg := fmt.Sprintf("%s holds none of the files a submission may contain (%s)", src, strings.Join(editable, ", "))
	if where := whereFilesAre(src, editable); where != "" {
		msg += "; " + where
	}
	return errors.New(msg)
}
