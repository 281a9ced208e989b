package skelgen

import (
	"go/ast"
	"go/token"
	"go/types"
	"strconv"
)

// placement is where a region sits in the syntax tree: a run of whole
// statements, list[i:j], of one block in one function.
type placement struct {
	fn     ast.Node // *ast.FuncDecl or *ast.FuncLit
	ftype  *ast.FuncType
	owner  ast.Node // the *ast.BlockStmt, *ast.CaseClause or *ast.CommClause holding list
	list   []ast.Stmt
	i, j   int
	loops  []*ast.ForStmt // the enclosing for statements, innermost last
	labels map[*ast.ForStmt]string
}

// place finds where r sits in f. The markers must be statements of the
// same block of a function body, with no statement straddling either one.
func place(fset *token.FileSet, f *ast.File, r *region) (*placement, error) {
	fail := func(pos token.Pos, msg string) error {
		p := fset.Position(pos)
		return &Error{File: p.Filename, Line: p.Line, Msg: msg}
	}
	var best *placement
	var stack []ast.Node
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return false
		}
		stack = append(stack, n)
		if n.Pos() > r.beginPos || n.End() < r.endPos {
			if n.End() < r.beginPos || n.Pos() > r.endPos {
				stack = stack[:len(stack)-1]
				return false // nothing of the region below
			}
			return true
		}
		var list []ast.Stmt
		switch b := n.(type) {
		case *ast.BlockStmt:
			list = b.List
		case *ast.CaseClause:
			list = b.Body
		case *ast.CommClause:
			list = b.Body
		default:
			return true
		}
		fn := enclosingFunc(stack)
		if fn == nil {
			return true
		}
		p := &placement{fn: fn, owner: n, list: list, labels: map[*ast.ForStmt]string{}}
		switch fn := fn.(type) {
		case *ast.FuncDecl:
			p.ftype = fn.Type
		case *ast.FuncLit:
			p.ftype = fn.Type
		}
		p.loops, p.labels = enclosingLoops(stack, fn)
		best = p // the walk goes inward, so the last one found is innermost
		return true
	})
	if best == nil {
		return nil, fail(r.beginPos, "the region must be inside a function body")
	}
	best.i, best.j = len(best.list), len(best.list)
	for k, s := range best.list {
		switch {
		case s.End() <= r.beginPos:
			continue
		case s.Pos() < r.beginPos:
			return nil, fail(r.beginPos, "BEGIN TODO is inside a statement; a region must hold whole statements of one block")
		case s.Pos() > r.endPos:
			if best.j == len(best.list) {
				best.j = k
			}
			continue
		case s.End() > r.endPos:
			return nil, fail(r.endPos, "END TODO is inside a statement (or in another block than its BEGIN TODO at line "+strconv.Itoa(r.beginLine)+"); a region must hold whole statements of one block")
		}
		if best.i == len(best.list) {
			best.i = k
		}
	}
	if best.i > best.j {
		best.i = best.j
	}
	return best, nil
}

func enclosingFunc(stack []ast.Node) ast.Node {
	for k := len(stack) - 1; k >= 0; k-- {
		switch stack[k].(type) {
		case *ast.FuncDecl, *ast.FuncLit:
			return stack[k]
		}
	}
	return nil
}

// enclosingLoops lists the for statements between fn and the top of stack.
func enclosingLoops(stack []ast.Node, fn ast.Node) ([]*ast.ForStmt, map[*ast.ForStmt]string) {
	var loops []*ast.ForStmt
	labels := map[*ast.ForStmt]string{}
	inside := false
	for k, n := range stack {
		if n == fn {
			inside = true
			continue
		}
		if !inside {
			continue
		}
		if loop, ok := n.(*ast.ForStmt); ok {
			loops = append(loops, loop)
			if l, ok := stack[k-1].(*ast.LabeledStmt); ok {
				labels[loop] = l.Label.Name
			}
		}
		if _, ok := n.(*ast.FuncLit); ok {
			loops, labels = nil, map[*ast.ForStmt]string{}
		}
	}
	return loops, labels
}

// results returns the types of the function's results.
func (p *placement) results(info *types.Info) []types.Type {
	if p.ftype.Results == nil {
		return nil
	}
	var out []types.Type
	for _, field := range p.ftype.Results.List {
		t := info.TypeOf(field.Type)
		n := max(len(field.Names), 1)
		for range n {
			out = append(out, t)
		}
	}
	return out
}

// endsFunction reports whether the region's statements run to the end of
// the function body.
func (p *placement) endsFunction() bool {
	var body *ast.BlockStmt
	switch fn := p.fn.(type) {
	case *ast.FuncDecl:
		body = fn.Body
	case *ast.FuncLit:
		body = fn.Body
	}
	return p.owner == body && p.j == len(p.list) && p.i < p.j
}

// loopExits reports whether loop can be left by a statement that lies
// outside every range in removed: a break aimed at it, a return, a goto or
// a call to panic.
func loopExits(loop *ast.ForStmt, label string, removed [][2]token.Pos) bool {
	out := func(n ast.Node) bool {
		for _, r := range removed {
			if n.Pos() >= r[0] && n.End() <= r[1] {
				return false
			}
		}
		return true
	}
	found := false
	var walk func(n ast.Node, depth int)
	walk = func(n ast.Node, depth int) {
		ast.Inspect(n, func(c ast.Node) bool {
			if found || c == nil {
				return false
			}
			if c != n {
				switch c.(type) {
				case *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
					walk(c, depth+1)
					return false
				case *ast.FuncLit:
					return false
				}
			}
			switch s := c.(type) {
			case *ast.BranchStmt:
				switch {
				case s.Tok == token.GOTO:
					found = found || out(s)
				case s.Tok == token.BREAK && s.Label == nil && depth == 0:
					found = found || out(s)
				case s.Tok == token.BREAK && s.Label != nil && s.Label.Name == label:
					found = found || out(s)
				}
			case *ast.ReturnStmt:
				found = found || out(s)
			case *ast.CallExpr:
				if id, ok := s.Fun.(*ast.Ident); ok && id.Name == "panic" {
					found = found || out(s)
				}
			}
			return true
		})
	}
	walk(loop.Body, 0)
	return found
}
