// Package submission takes a student's files into a clean copy of the kit
// for grading. Only the files a student may edit are taken, and each is
// checked before any of it is compiled: a replica is a deterministic event
// handler, so it needs no I/O, no goroutines, no clock and no way around
// the type system, and a submission that reaches for one is turned away
// with the file, the line and the rule it breaks.
package submission

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Standard returns the standard packages a submission may import, besides
// the kit's lab package: pure computation, nothing that reaches outside
// the replica or makes a run depend on more than its inputs.
func Standard() []string { return slices.Clone(standard) }

var standard = []string{
	"bytes", "cmp", "container/heap", "container/list", "container/ring",
	"crypto/sha256", "encoding/binary", "encoding/hex", "errors", "fmt",
	"hash", "hash/fnv", "iter", "maps", "math", "math/bits", "slices",
	"sort", "strconv", "strings", "unicode", "unicode/utf8",
}

// forbidden explains why the packages a replica might be tempted by are
// refused; a package is covered with everything below it.
var forbidden = []struct{ path, why string }{
	{"C", "cgo is not allowed"},
	{"unsafe", "a replica may not step around the type system"},
	{"os", "a replica does no I/O of its own: it talks through lab.Env"},
	{"syscall", "a replica does no I/O of its own: it talks through lab.Env"},
	{"net", "a replica does no I/O of its own: messages go through lab.Env"},
	{"plugin", "a replica may not load code"},
	{"reflect", "a replica may not inspect or change the kit's values by reflection"},
	{"runtime", "a replica may not reach into the Go runtime"},
}

// MaxFileSize bounds a submitted file; the reference's largest is a few
// kilobytes.
const MaxFileSize = 1 << 20

// Violation is a rule one submitted file breaks.
type Violation struct {
	File string // as found in the submission folder
	Line int
	Rule string
}

func (v Violation) String() string {
	if v.Line == 0 {
		return fmt.Sprintf("%s: %s", v.File, v.Rule)
	}
	return fmt.Sprintf("%s:%d: %s", v.File, v.Line, v.Rule)
}

// Rules checks one submitted file. pkg is the package name it must have
// and module the kit's module path (so that module/lab is allowed).
func Rules(path string, src []byte, pkg, module string) []Violation {
	var vs []Violation
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		line := 0
		if list, ok := errors.AsType[scanner.ErrorList](err); ok && len(list) > 0 {
			line = list[0].Pos.Line
		}
		return []Violation{{File: path, Line: line, Rule: "the file does not parse: " + err.Error()}}
	}
	at := func(pos token.Pos, rule string) {
		vs = append(vs, Violation{File: path, Line: fset.Position(pos).Line, Rule: rule})
	}
	if f.Name.Name != pkg {
		at(f.Name.Pos(), fmt.Sprintf("package %s: every file must be in package %s", f.Name.Name, pkg))
	}
	for _, spec := range f.Imports {
		ip, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			at(spec.Pos(), "malformed import path")
			continue
		}
		if why, ok := refused(ip, module); ok {
			at(spec.Pos(), fmt.Sprintf("import %q is not allowed: %s", ip, why))
		}
	}
	sharedState(f, at)
	ast.Inspect(f, func(n ast.Node) bool {
		if g, ok := n.(*ast.GoStmt); ok {
			at(g.Pos(), "go statement: a replica may not start goroutines; the kit calls it from one goroutine at a time")
		}
		return true
	})
	return vs
}

// refused reports whether a submission may not import ip, and why.
func refused(ip, module string) (string, bool) {
	if ip == module+"/lab" || slices.Contains(standard, ip) {
		return "", false
	}
	for _, f := range forbidden {
		if ip == f.path || strings.HasPrefix(ip, f.path+"/") {
			return f.why, true
		}
	}
	if ip == module || strings.HasPrefix(ip, module+"/") {
		return "of the kit, only " + module + "/lab may be imported", true
	}
	return "it is not on the allowlist (" + module + "/lab and the standard packages " + strings.Join(standard, ", ") + ")", true
}

// readChecked reads a submitted file, refusing anything but a regular
// file of reasonable size.
func readChecked(path string) ([]byte, *Violation) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, &Violation{File: path, Rule: err.Error()}
	}
	if !fi.Mode().IsRegular() {
		return nil, &Violation{File: path, Rule: "not a regular file (a link or a device is not taken)"}
	}
	if fi.Size() > MaxFileSize {
		return nil, &Violation{File: path, Rule: fmt.Sprintf("%d bytes: a file may hold at most %d", fi.Size(), MaxFileSize)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Violation{File: path, Rule: err.Error()}
	}
	return data, nil
}
