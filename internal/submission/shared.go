package submission

import (
	"fmt"
	"go/ast"
	"go/token"
	"strings"
)

// A replica shares nothing with the other replicas of its cluster, nor with
// the specs graded before and after it: four replicas and every spec run in
// one test process, so anything that outlives a call to New is a channel
// between them. A replica that copies a peer's state out of a package-level
// map needs no STATE messages, and a TA-only case could leave its contents
// where a visible one reads them. The rules here close those channels:
//
//   - no package-level variables, blank ones included (their initialisers
//     run before any spec, and they outlive every replica);
//   - no init functions (code that runs before any spec, unbounded);
//   - no use of a variable of an allowed standard package (errors,
//     strconv and unicode export a few, all writable), and so no dot
//     import, which would hide such a use behind a bare name;
//   - no iter.Pull: its coroutine is a goroutine in all but name, and one
//     never stopped outlives the replica;
//   - nothing that reaches fmt's own printers and scanners, which fmt keeps
//     in a pool that every replica in the process (and the grader) draws
//     from, so that one kept is a mailbox between them and a window on
//     what the grader printed last: no fmt.State or fmt.ScanState, no
//     method named Format or Scan (fmt hands it the printer or scanner,
//     and generics can name its type without writing it), and no
//     fmt.Fprint or fmt.Fscan family (fmt hands the writer its buffer).
//
// Constants, types and functions stay legal: they hold no state.

// stdVars lists, per allowed standard package, the exported variables a
// submission may not use. A package missing here exports none; "unicode"
// exports hundreds (its range tables), so it is listed the other way
// round, by what is not a variable (see unicodeNonVars). Zero-sized
// variables (binary.LittleEndian and friends) can hold nothing and stay
// legal. TestStdVars checks the list against the packages themselves.
var stdVars = map[string][]string{
	"bytes":        {"ErrTooLarge"},
	"encoding/hex": {"ErrLength"},
	"errors":       {"ErrUnsupported"},
	"strconv":      {"ErrRange", "ErrSyntax"},
}

// unicodeNonVars is everything package unicode exports that is not a
// variable: its functions, constants and types.
var unicodeNonVars = map[string]bool{
	// functions
	"In": true, "Is": true, "IsControl": true, "IsDigit": true, "IsGraphic": true, "IsLetter": true,
	"IsLower": true, "IsMark": true, "IsNumber": true, "IsOneOf": true, "IsPrint": true, "IsPunct": true,
	"IsSpace": true, "IsSymbol": true, "IsTitle": true, "IsUpper": true, "SimpleFold": true,
	"To": true, "ToLower": true, "ToTitle": true, "ToUpper": true,
	// constants
	"LowerCase": true, "MaxASCII": true, "MaxCase": true, "MaxLatin1": true, "MaxRune": true,
	"ReplacementChar": true, "TitleCase": true, "UpperCase": true, "UpperLower": true, "Version": true,
	// types
	"CaseRange": true, "Range16": true, "Range32": true, "RangeTable": true, "SpecialCase": true,
}

// isStdVar reports whether name, selected from the standard package at
// path, is one of its variables.
func isStdVar(path, name string) bool {
	if !ast.IsExported(name) {
		return false
	}
	if path == "unicode" {
		return !unicodeNonVars[name]
	}
	for _, v := range stdVars[path] {
		if v == name {
			return true
		}
	}
	return false
}

// fmtPooled names what of fmt hands replica code one of fmt's pooled
// printers or scanners, or its buffer, and how.
var fmtPooled = map[string]string{
	"State":     "is fmt's own printer",
	"ScanState": "is fmt's own scanner",
	"Formatter": "is how fmt hands a Format method its own printer",
	"Scanner":   "is how fmt hands a Scan method its own scanner",
	"Fprint":    "hands the writer fmt's own buffer",
	"Fprintf":   "hands the writer fmt's own buffer",
	"Fprintln":  "hands the writer fmt's own buffer",
	"Fscan":     "reads through fmt's own scanner",
	"Fscanf":    "reads through fmt's own scanner",
	"Fscanln":   "reads through fmt's own scanner",
}

// sharedState reports every way file f keeps state outside a replica.
func sharedState(f *ast.File, at func(token.Pos, string)) {
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			if d.Tok != token.VAR {
				continue
			}
			for _, spec := range d.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					at(n.Pos(), "package-level variable "+n.Name+": the four replicas and every spec share one process, so a package variable is shared by all of them; keep state in your Replica (a constant is fine)")
				}
			}
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name == "init" {
				at(d.Pos(), "func init: code that runs before any spec is not allowed; set up a replica in New")
			}
		}
	}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv != nil && (fn.Name.Name == "Format" || fn.Name.Name == "Scan") {
			at(fn.Pos(), "method "+fn.Name.Name+": fmt calls a method of that name with its own printer or scanner, which every replica in the process shares; a replica's types may not have one (write a String method)")
		}
	}
	for _, spec := range f.Imports {
		if spec.Name != nil && spec.Name.Name == "." {
			// Without the package's name in front, its variables read as
			// the file's own names, and no rule below would see them.
			at(spec.Pos(), fmt.Sprintf("import . %s: a dot import is not allowed; import the package by its name", spec.Path.Value))
		}
	}
	// Which local names refer to which allowed standard packages.
	names := importNames(f)
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); ok {
			ip, ok := names[x.Name]
			switch {
			case ok && isStdVar(ip, sel.Sel.Name):
				at(sel.Pos(), ip+"."+sel.Sel.Name+" is a variable that every replica in the process shares: a replica may not use it")
			case ok && ip == "iter" && strings.HasPrefix(sel.Sel.Name, "Pull"):
				at(sel.Pos(), "iter."+sel.Sel.Name+" starts a coroutine, which outlives the call that made it unless stopped: a replica may not start one (range over the sequence instead)")
			case ok && ip == "fmt" && fmtPooled[sel.Sel.Name] != "":
				at(sel.Pos(), "fmt."+sel.Sel.Name+" "+fmtPooled[sel.Sel.Name]+", which fmt keeps in a pool that every replica in the process shares: a replica may not use it (format with fmt.Sprint, fmt.Sprintf or fmt.Appendf, and give a type a String method)")
			}
		}
		return true
	})
}
