// Package rewrite reads and applies rewrites: small changes to the
// reference, written like the hunks of a diff without line numbers.
package rewrite

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A Rewrite is a small change to the reference, written like the hunks of
// a diff without line numbers, so that it keeps applying while the code
// around it moves:
//
//	# What the change does, and why it is a bug.
//	phase: prepare
//	@@ solution/prepare.go
//	 	e := r.entry(p.Seq)
//	-	for _, q := range e.prepares {
//	...
//	+	e.prepares = append(e.prepares, p)
//
// A line starting with a space is context, "-" is taken out, "+" put in;
// an empty line is an empty context line. The text a hunk takes out (its
// context and "-" lines) must occur exactly once in the file, or the
// rewrite no longer fits the code and says so. Mutants (ta/mutants/*.mutant)
// and hostile submissions (ta/gradetest/testdata/hostile/*.rewrite) are
// rewrites.
type Rewrite struct {
	Name   string
	About  string            // the comment lines, joined
	Fields map[string]string // "key: value" header lines
	Hunks  []Hunk
}

// Hunk is one change to one file.
type Hunk struct {
	File     string // slash path from the module root
	Line     int    // where the hunk starts in the rewrite file
	Old, New string
}

// Parse reads a rewrite; name is what errors and reports call it.
func Parse(name string, data []byte) (Rewrite, error) {
	rw := Rewrite{Name: name, Fields: map[string]string{}}
	var about []string
	var cur *Hunk
	var old, new []string
	flush := func() {
		if cur != nil {
			cur.Old, cur.New = joinLines(old), joinLines(new)
			rw.Hunks = append(rw.Hunks, *cur)
		}
		cur, old, new = nil, nil, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if file, ok := strings.CutPrefix(line, "@@ "); ok {
			flush()
			cur = &Hunk{File: strings.TrimSpace(file), Line: n}
			continue
		}
		if cur == nil {
			switch key, value, ok := strings.Cut(line, ":"); {
			case strings.HasPrefix(line, "#"):
				about = append(about, strings.TrimSpace(strings.TrimPrefix(line, "#")))
			case strings.TrimSpace(line) == "":
			case ok && !strings.ContainsAny(key, " \t"):
				rw.Fields[key] = strings.TrimSpace(value)
			default:
				return rw, fmt.Errorf("%s:%d: expected a # comment, a key: value line or @@ FILE, found %q", name, n, line)
			}
			continue
		}
		switch {
		case line == "":
			old, new = append(old, ""), append(new, "")
		case line[0] == ' ':
			old, new = append(old, line[1:]), append(new, line[1:])
		case line[0] == '-':
			old = append(old, line[1:])
		case line[0] == '+':
			new = append(new, line[1:])
		default:
			return rw, fmt.Errorf("%s:%d: a hunk line starts with a space, - or +, found %q", name, n, line)
		}
	}
	if err := sc.Err(); err != nil {
		return rw, err
	}
	flush()
	rw.About = strings.Join(about, " ")
	if len(rw.Hunks) == 0 {
		return rw, fmt.Errorf("%s: no @@ FILE hunk", name)
	}
	for _, h := range rw.Hunks {
		switch {
		case strings.Trim(h.Old, "\n") == "":
			return rw, fmt.Errorf("%s:%d: the hunk has no line to find in %s (no context or - line)", name, h.Line, h.File)
		case h.Old == h.New:
			return rw, fmt.Errorf("%s:%d: the hunk changes nothing", name, h.Line)
		}
	}
	return rw, nil
}

// joinLines joins lines into text, trailing empty lines left out, each
// line ending in a newline.
func joinLines(lines []string) string {
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// Files lists the Files the rewrite changes, sorted.
func (rw Rewrite) Files() []string {
	var out []string
	for _, h := range rw.Hunks {
		out = append(out, h.File)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ApplyTo changes the files the rewrite names, read by read, and returns
// their new contents by file. Nothing is written.
func (rw Rewrite) ApplyTo(read func(file string) ([]byte, error)) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, h := range rw.Hunks {
		src, ok := out[h.File]
		if !ok {
			data, err := read(h.File)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", rw.Name, h.Line, err)
			}
			src = data
		}
		// Match whole lines: the text starts a line.
		text := "\n" + string(src)
		switch n := strings.Count(text, "\n"+h.Old); n {
		case 1:
			text = strings.Replace(text, "\n"+h.Old, "\n"+h.New, 1)
		case 0:
			return nil, fmt.Errorf("%s:%d: what the hunk takes out is not in %s (the code changed; update the rewrite)", rw.Name, h.Line, h.File)
		default:
			return nil, fmt.Errorf("%s:%d: what the hunk takes out occurs %d times in %s; give it more context", rw.Name, h.Line, n, h.File)
		}
		out[h.File] = []byte(text[1:])
	}
	return out, nil
}

// ReadUnder reads slash paths below root.
func ReadUnder(root string) func(string) ([]byte, error) {
	return func(file string) ([]byte, error) { return os.ReadFile(filepath.Join(root, filepath.FromSlash(file))) }
}

// Load parses every file with the extension ext in dir, sorted by
// name; a rewrite's name is its file name without the extension.
func Load(dir, ext string) ([]Rewrite, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "*"+ext))
	if err != nil {
		return nil, err
	}
	if len(matches) == 0 {
		return nil, fmt.Errorf("no %s files in %s", ext, dir)
	}
	slices.Sort(matches)
	var out []Rewrite
	for _, p := range matches {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		rw, err := Parse(strings.TrimSuffix(filepath.Base(p), ext), data)
		if err != nil {
			return nil, err
		}
		out = append(out, rw)
	}
	return out, nil
}
