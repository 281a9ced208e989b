package skelgen

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"path"
	"regexp"
	"slices"
	"strings"
)

// stub is what replaces one region.
type stub struct {
	decls    []string // "var yes, no []lab.ID": what code after the region reads
	blanks   []string // variables only the region read
	terminal string   // "return ...", "break" or ""
}

func (s *stub) text(r *region, indent string) string {
	lines := []string{"// TODO(" + r.phase + "): " + r.hint[0]}
	for _, h := range r.hint[1:] {
		lines = append(lines, "// "+h)
	}
	lines = append(lines, s.decls...)
	for _, b := range s.blanks {
		lines = append(lines, "_ = "+b)
	}
	if s.terminal != "" {
		lines = append(lines, s.terminal)
	}
	return indent + strings.Join(lines, "\n"+indent) + "\n"
}

// planStubs works out each region's declarations and terminal statement
// from the solution's types.
func (f *file) planStubs(g *generator, info *types.Info, tpkg *types.Package) error {
	q := f.qualifier(g, tpkg)
	off := func(pos token.Pos) string {
		p := g.fset.Position(pos)
		return fmt.Sprintf("%s:%d", p.Filename, p.Line)
	}
	for k, r := range f.regions {
		pl, st := f.places[k], f.stubs[k]
		inside := func(pos token.Pos) bool { return pos >= r.beginPos && pos < r.endPos }

		// Variables the region declares and later code reads keep their
		// declaration, with the zero value.
		var escaping []*types.Var
		for id, obj := range info.Defs {
			if obj == nil || !inside(id.Pos()) {
				continue
			}
			usedAfter := false
			for use, o := range info.Uses {
				if o == obj && !inside(use.Pos()) {
					usedAfter = true
				}
			}
			if !usedAfter {
				continue
			}
			v, ok := obj.(*types.Var)
			if !ok {
				return fmt.Errorf("%s: the region declares %s %s, which code after it uses; only variables may be used after a region", off(r.beginPos), kindOf(obj), obj.Name())
			}
			escaping = append(escaping, v)
		}
		slices.SortFunc(escaping, func(a, b *types.Var) int { return int(a.Pos() - b.Pos()) })
		for i := 0; i < len(escaping); {
			t := types.TypeString(escaping[i].Type(), q)
			names := []string{escaping[i].Name()}
			i++
			for i < len(escaping) && types.TypeString(escaping[i].Type(), q) == t {
				names = append(names, escaping[i].Name())
				i++
			}
			st.decls = append(st.decls, "var "+strings.Join(names, ", ")+" "+t)
		}

		// A region that ended its function ends the stub with a return.
		if res := pl.results(info); len(res) > 0 && pl.endsFunction() {
			var zeros []string
			for _, t := range res {
				zeros = append(zeros, zero(t, q))
			}
			st.terminal = "return " + strings.Join(zeros, ", ")
		}
	}
	return f.planBreaks(g)
}

// planBreaks keeps every endless loop that had a way out in the solution
// from losing it in the skeleton: the region that took the last exit away
// ends with a break, provided it ends the loop's body.
func (f *file) planBreaks(g *generator) error {
	var removed [][2]token.Pos
	for _, r := range f.regions {
		removed = append(removed, [2]token.Pos{r.beginPos, r.endPos})
	}
	done := map[*ast.ForStmt]bool{}
	for k, pl := range f.places {
		for _, loop := range pl.loops {
			if loop.Cond != nil || done[loop] {
				continue
			}
			done[loop] = true
			label := pl.labels[loop]
			if !loopExits(loop, label, nil) || loopExits(loop, label, removed) {
				continue
			}
			fixed := false
			for k2, pl2 := range f.places {
				if pl2.owner == loop.Body && pl2.j == len(pl2.list) && f.stubs[k2].terminal == "" {
					f.stubs[k2].terminal = "break"
					fixed = true
					break
				}
			}
			if !fixed {
				p := g.fset.Position(f.regions[k].beginPos)
				return &Error{File: p.Filename, Line: p.Line, Msg: fmt.Sprintf("taking this region out leaves the loop at line %d with no way out; end a region at the end of that loop's body", g.fset.Position(loop.Pos()).Line)}
			}
		}
	}
	return nil
}

// qualifier names packages as the file imports them.
func (f *file) qualifier(g *generator, self *types.Package) types.Qualifier {
	return func(p *types.Package) string {
		if p == self {
			return ""
		}
		for _, spec := range f.ast.Imports {
			if strings.Trim(spec.Path.Value, `"`) != p.Path() {
				continue
			}
			if spec.Name != nil {
				return spec.Name.Name
			}
			if p.Path() == g.fromPath {
				return g.toName
			}
			return p.Name()
		}
		return p.Name()
	}
}

func kindOf(obj types.Object) string {
	switch obj.(type) {
	case *types.Const:
		return "constant"
	case *types.TypeName:
		return "type"
	case *types.Label:
		return "label"
	case *types.Func:
		return "function"
	}
	return "name"
}

// zero is Go source for the zero value of t.
func zero(t types.Type, q types.Qualifier) string {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsBoolean != 0:
			return "false"
		case u.Info()&types.IsString != 0:
			return `""`
		case u.Info()&types.IsNumeric != 0:
			return "0"
		}
		return "nil"
	case *types.Struct, *types.Array:
		return types.TypeString(t, q) + "{}"
	}
	return "nil"
}

var (
	unusedVarRE    = regexp.MustCompile(`^declared and not used: (\w+)$`)
	unusedImportRE = regexp.MustCompile(`^"([^"]+)" imported (as \w+ )?and not used$`)
)

// settle renders the package, type-checks the result and fixes what taking
// the regions out left unused, until the skeleton compiles.
func (p *pkg) settle(g *generator, info *types.Info) error {
	for round := 0; ; round++ {
		var files []*ast.File
		backs := map[string]func(int) int{}
		byPath := map[string]*file{}
		texts := map[*file][]byte{}
		for _, f := range p.files {
			if f.refOnly {
				continue
			}
			out, back := f.render(g)
			texts[f] = out
			if f.test {
				continue
			}
			af, err := parser.ParseFile(g.fset, f.path, out, parser.ParseComments)
			if err != nil {
				return fmt.Errorf("%s: the generated file does not parse: %v", f.path, err)
			}
			files = append(files, af)
			backs[f.path], byPath[f.path] = back, f
		}
		var terrs []types.Error
		conf := types.Config{Importer: g.imp, Error: func(err error) { terrs = append(terrs, err.(types.Error)) }}
		_, _ = conf.Check(path.Join(g.toPath, p.dir), g.fset, files, nil)
		if len(terrs) == 0 {
			for _, f := range p.files {
				if f.refOnly {
					continue
				}
				if err := g.emit(f, texts[f]); err != nil {
					return err
				}
			}
			return nil
		}
		progress := false
		var hard []string
		for _, te := range terrs {
			pos := g.fset.Position(te.Pos)
			f := byPath[pos.Filename]
			if m := unusedImportRE.FindStringSubmatch(te.Msg); m != nil && f != nil && !f.drop[m[1]] {
				f.drop[m[1]] = true
				progress = true
				continue
			}
			if m := unusedVarRE.FindStringSubmatch(te.Msg); m != nil && f != nil {
				if f.blankFor(g, info, backs[f.path](pos.Offset), m[1]) {
					progress = true
					continue
				}
			}
			hard = append(hard, fmt.Sprintf("%s (in the skeleton %s makes)", te.Msg, f.where(g, backs[pos.Filename], pos)))
		}
		if len(hard) > 0 || !progress || round > 20 {
			return fmt.Errorf("the generated skeleton does not compile:\n  %s", strings.Join(hard, "\n  "))
		}
	}
}

// where names the solution's line behind a position in the generated
// file, or the region that replaced it.
func (f *file) where(g *generator, back func(int) int, pos token.Position) string {
	if f == nil || back == nil {
		return pos.String()
	}
	if orig := back(pos.Offset); orig >= 0 {
		return fmt.Sprintf("from %s:%d", f.path, lineOf(f.src, orig))
	}
	return "from a region of " + f.path
}

func lineOf(src []byte, off int) int { return strings.Count(string(src[:off]), "\n") + 1 }

// blankFor gives "_ = name" to the first region that read the variable
// declared at offset orig of the solution file.
func (f *file) blankFor(g *generator, info *types.Info, orig int, name string) bool {
	if orig < 0 {
		return false
	}
	var obj types.Object
	for id, o := range info.Defs {
		if o != nil && id.Name == name && g.fset.Position(id.Pos()).Filename == f.path && g.fset.Position(id.Pos()).Offset == orig {
			obj = o
		}
	}
	if obj == nil {
		return false
	}
	for k, r := range f.regions {
		for id, o := range info.Uses {
			if o == obj && id.Pos() >= r.beginPos && id.Pos() < r.endPos {
				if !slices.Contains(f.stubs[k].blanks, name) {
					f.stubs[k].blanks = append(f.stubs[k].blanks, name)
					return true
				}
			}
		}
	}
	return false
}

// render applies the renames, the stubs, the omissions and the dropped
// imports.
func (f *file) render(g *generator) ([]byte, func(int) int) {
	var edits []edit
	inRegion := func(e edit) bool {
		for _, r := range f.regions {
			if e.start >= r.begin && e.end <= r.end {
				return true
			}
		}
		for _, o := range f.omits {
			if e.start >= o.begin && e.end <= o.end {
				return true
			}
		}
		return false
	}
	for _, o := range f.omits {
		edits = append(edits, edit{o.begin, o.end, ""})
	}
	for _, e := range f.renames {
		if !inRegion(e) {
			edits = append(edits, e)
		}
	}
	for k, r := range f.regions {
		line := f.src[r.begin:]
		n := 0
		for n < len(line) && (line[n] == ' ' || line[n] == '\t') {
			n++
		}
		indent := string(line[:n])
		edits = append(edits, edit{r.begin, r.end, f.stubs[k].text(r, indent)})
	}
	edits = append(edits, f.importDrops(g)...)
	return apply(f.src, edits)
}

// importDrops deletes the lines of the imports in f.drop.
func (f *file) importDrops(g *generator) []edit {
	var edits []edit
	for _, d := range f.ast.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			continue
		}
		kept := 0
		var dropped []ast.Spec
		for _, s := range gd.Specs {
			if f.drop[strings.Trim(s.(*ast.ImportSpec).Path.Value, `"`)] {
				dropped = append(dropped, s)
			} else {
				kept++
			}
		}
		if len(dropped) == 0 {
			continue
		}
		if kept == 0 {
			start := lineStart(f.src, g.fset.Position(gd.Pos()).Offset)
			edits = append(edits, edit{start, lineEnd(f.src, g.fset.Position(gd.End()).Offset), ""})
			continue
		}
		for _, s := range dropped {
			start := lineStart(f.src, g.fset.Position(s.Pos()).Offset)
			end := lineEnd(f.src, g.fset.Position(s.End()).Offset)
			// A blank line left just before ")" or after "(" would stay.
			if prev := lineStart(f.src, max(start-1, 0)); start > 0 && strings.TrimSpace(string(f.src[prev:start])) == "" && nextIsClose(f.src, end) {
				start = prev
			}
			edits = append(edits, edit{start, end, ""})
		}
	}
	return edits
}

func nextIsClose(src []byte, off int) bool {
	return strings.HasPrefix(strings.TrimSpace(string(src[off:lineEnd(src, off)])), ")")
}
