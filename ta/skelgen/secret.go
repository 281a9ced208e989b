package skelgen

import (
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// MinSecretLine is the length below which a line of a region is too
// common ("return nil", "e.voted = true") to say anything about where it
// came from.
const MinSecretLine = 24

// Secrets returns the lines of code that only the solution's regions hold,
// each mapped to where it is: what a student release must not contain. A
// line also found outside every region, or shorter than MinSecretLine, is
// left out, as are comments.
func Secrets(o Options) (map[string]string, error) {
	root := filepath.Join(o.Root, o.From)
	fset := token.NewFileSet()
	inside := map[string]string{}
	outside := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, p, src, parser.ParseComments)
		if err != nil {
			return err
		}
		if isReferenceOnly(f) {
			return nil // never released, so it gives nothing away either
		}
		var regions []*region
		var omits []*omission
		if !strings.HasSuffix(p, "_test.go") {
			regions, omits, _ = scanMarkers(fset, f, src)
		}
		off := 0
		for i, line := range strings.Split(string(src), "\n") {
			n, start := i+1, off
			off += len(line) + 1
			key := NormalizeLine(line)
			if key == "" || slices.ContainsFunc(omits, func(o *omission) bool { return start >= o.begin && start < o.end }) {
				continue
			}
			in := false
			for _, r := range regions {
				in = in || (n > r.beginLine && n < r.endLine)
			}
			if !in {
				outside[key] = true
			} else if _, ok := inside[key]; !ok {
				inside[key] = fmt.Sprintf("%s:%d", p, n)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for key := range inside {
		if outside[key] || len(key) < MinSecretLine || strings.HasPrefix(key, "//") {
			delete(inside, key)
		}
	}
	return inside, nil
}

// NormalizeLine is a line as Secrets compares it: without the indentation,
// the trailing space, and the "+" or "-" a diff puts in front.
func NormalizeLine(line string) string {
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "+") || strings.HasPrefix(line, "-") {
		line = strings.TrimSpace(line[1:])
	}
	return line
}
