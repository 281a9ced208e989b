package mutate

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path"
	"reflect"
	"slices"
	"strings"

	"pbftlab/ta/skelgen"
)

// form is how a schema guards a site, which depends on what the site is.
type form int

const (
	formStmt form = iota // a statement: skipped when its mutant is on
	formBool             // a boolean expression: an alternative per mutant
	formInt              // an integer: one more or one less
	formPick             // any other expression: a neighbour read instead
)

// quorumFuncs are the lab's quorum helpers that return a count.
var quorumFuncs = []string{"Quorum", "Faulty", "Weak"}

// blockingFunc is the lab's helper that compares a count with a quorum; its
// count moves by one instead.
const blockingFunc = "Blocking"

// walker finds the mutants of one type-checked package.
type walker struct {
	plan *Plan
	fset *token.FileSet
	info *types.Info
	pkg  *types.Package
	seen map[string]bool // file, offsets and new text of every mutant
	// omitted is the code the skeleton leaves out (REFERENCE ONLY lines
	// and reference-only files): no student writes it, so none of it is
	// mutated.
	omitted []skelgen.Span
}

// isOmitted reports whether n lies wholly in code the skeleton leaves out.
func (w *walker) isOmitted(n ast.Node) bool {
	return slices.ContainsFunc(w.omitted, func(s skelgen.Span) bool { return s.Holds(n) })
}

// run plans the mutants of every function that holds a region, within its
// regions, and of every helper those regions call, in its whole body.
func (w *walker) run(files []*ast.File) error {
	w.seen = map[string]bool{}
	scopes := map[*ast.FuncDecl][]scope{}
	helperPhases := map[types.Object][]string{}
	var decls []*ast.FuncDecl
	for _, f := range files {
		name := w.fset.File(f.Pos()).Name()
		regions, err := regionsOf(w.fset, f, w.plan.src[name])
		if err != nil {
			return err
		}
		omitted, err := skelgen.ReferenceOnly(w.fset, f, w.plan.src[name])
		if err != nil {
			return err
		}
		w.omitted = append(w.omitted, omitted...)
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			decls = append(decls, fd)
			for _, r := range regions {
				if r.Begin < fd.Body.Lbrace || r.End > fd.Body.Rbrace {
					continue
				}
				sc := scope{start: r.Begin, end: r.End, phases: []string{r.Phase}}
				scopes[fd] = append(scopes[fd], sc)
				// A function called only to word a message is no helper.
				ast.Inspect(fd.Body, func(n ast.Node) bool {
					if call, ok := n.(*ast.CallExpr); ok && w.isMessage(call) {
						return false
					}
					if call, ok := n.(*ast.CallExpr); ok && sc.holds(call) {
						if fn := w.callee(call); fn != nil && fn.Pkg() == w.pkg {
							helperPhases[fn] = append(helperPhases[fn], r.Phase)
						}
					}
					return true
				})
			}
		}
	}
	for _, fd := range decls {
		if len(scopes[fd]) > 0 || w.isOmitted(fd) {
			continue
		}
		phases, ok := helperPhases[w.info.Defs[fd.Name]]
		if !ok {
			continue
		}
		slices.SortFunc(phases, PhaseOrder)
		scopes[fd] = []scope{{start: fd.Body.Lbrace, end: fd.Body.Rbrace + 1, phases: slices.Compact(phases), helper: true}}
	}
	for _, fd := range decls {
		if scs := scopes[fd]; len(scs) > 0 {
			w.function(fd, scs)
		}
	}
	return nil
}

// callee is the function or method a call calls, if it names one.
func (w *walker) callee(call *ast.CallExpr) *types.Func {
	var id *ast.Ident
	switch fun := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		id = fun
	case *ast.SelectorExpr:
		id = fun.Sel
	default:
		return nil
	}
	fn, _ := w.info.Uses[id].(*types.Func)
	return fn
}

// messageFuncs are the functions that only word a message, by package
// path (the lab's by its last element) and name: a line of a replica's
// trace, and the text of an error.
var messageFuncs = map[string][]string{"lab": {"Logf"}, "fmt": {"Errorf"}, "errors": {"New"}}

// isMessage reports whether call only words a message: a trace line
// (lab.Env's Logf) or an error's text. People read those, never a spec:
// whether an error is returned is what mutants change, not what it says,
// and a trace line changed or left out is no bug. Mutants inside such a
// call would only be equivalent ones.
func (w *walker) isMessage(call *ast.CallExpr) bool {
	fn := w.callee(call)
	if fn == nil || fn.Pkg() == nil {
		return false
	}
	p := fn.Pkg().Path()
	if p != "fmt" && p != "errors" {
		p = path.Base(p)
	}
	return slices.Contains(messageFuncs[p], fn.Name())
}

// onlyMessages reports whether an if does nothing but word messages: no
// init, no else, and a body of message calls (a trace line guarded by
// "if r.tracing", say). Mutants of its condition would only be equivalent
// ones.
func (w *walker) onlyMessages(ifs *ast.IfStmt) bool {
	if ifs.Init != nil || ifs.Else != nil || len(ifs.Body.List) == 0 {
		return false
	}
	for _, st := range ifs.Body.List {
		es, ok := st.(*ast.ExprStmt)
		if !ok {
			return false
		}
		call, ok := es.X.(*ast.CallExpr)
		if !ok || !w.isMessage(call) {
			return false
		}
	}
	return true
}

func isBlank(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "_"
}

// isBuiltin reports whether call calls the builtin function name.
func (w *walker) isBuiltin(call *ast.CallExpr, name string) bool {
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return false
	}
	b, ok := w.info.Uses[id].(*types.Builtin)
	return ok && b.Name() == name
}

// funcName names a declared function as IDs do: Type.method or function.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
			continue
		case *ast.IndexExpr:
			t = x.X
			continue
		case *ast.IndexListExpr:
			t = x.X
			continue
		case *ast.Ident:
			return x.Name + "." + fd.Name.Name
		}
		return fd.Name.Name
	}
}

// site is where a mutant is found: the function and scope it is in.
type site struct {
	fn  string
	sc  scope
	ctx string // the head of the statement around it, which IDs hash
}

// function applies every operator to the code of fd that its scopes hold.
func (w *walker) function(fd *ast.FuncDecl, scopes []scope) {
	name := funcName(fd)
	var stack []ast.Node
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return false
		}
		if call, ok := n.(*ast.CallExpr); ok && w.isMessage(call) {
			return false // nothing below is pushed, so nothing is popped
		}
		if ifs, ok := n.(*ast.IfStmt); ok && w.onlyMessages(ifs) {
			return false // its condition decides only whether a message is worded
		}
		var parent, grand ast.Node
		if k := len(stack); k > 0 {
			parent = stack[k-1]
			if k > 1 {
				grand = stack[k-2]
			}
		}
		stack = append(stack, n)
		// A region's statements are deleted one by one although the block
		// that holds them starts before the region.
		ctx := w.context(stack)
		switch b := n.(type) {
		case *ast.BlockStmt:
			w.deletions(name, ctx, scopes, b.List, parent, grand)
		case *ast.CaseClause:
			w.deletions(name, ctx, scopes, b.Body, nil, nil)
		case *ast.CommClause:
			w.deletions(name, ctx, scopes, b.Body, nil, nil)
		}
		for _, sc := range scopes {
			if sc.holds(n) {
				w.visit(site{fn: name, sc: sc, ctx: w.context(stack[:len(stack)-1])}, n, parent)
				break
			}
		}
		return true
	})
}

// context is the heads of the two innermost statements of stack
// (outermost first) that are not blocks: what tells apart two equal changes
// of one function, such as two "return" deleted under different ifs.
func (w *walker) context(stack []ast.Node) string {
	var heads []string
	for i := len(stack) - 1; i >= 0 && len(heads) < 2; i-- {
		if h, ok := w.head(stack[i]); ok {
			heads = append(heads, h)
		}
	}
	return strings.Join(heads, " / ")
}

// head is what names a statement: its header, or all of a simple one.
func (w *walker) head(n ast.Node) (string, bool) {
	switch x := n.(type) {
	case *ast.BlockStmt:
		return "", false
	case *ast.IfStmt:
		return "if " + w.texts(x.Init, x.Cond), true
	case *ast.ForStmt:
		return "for " + w.texts(x.Init, x.Cond, x.Post), true
	case *ast.RangeStmt:
		return "range " + w.texts(x.Key, x.Value, x.X), true
	case *ast.SwitchStmt:
		return "switch " + w.texts(x.Init, x.Tag), true
	case *ast.TypeSwitchStmt:
		return "switch " + w.texts(x.Init, x.Assign), true
	case *ast.CaseClause:
		var list []ast.Node
		for _, e := range x.List {
			list = append(list, e)
		}
		return "case " + w.texts(list...), true
	case *ast.FuncLit:
		return "func", true
	case ast.Stmt:
		return w.text(x), true
	}
	return "", false
}

// texts joins the source of the nodes that are there.
func (w *walker) texts(nodes ...ast.Node) string {
	var out []string
	for _, n := range nodes {
		if n != nil && !reflect.ValueOf(n).IsNil() {
			out = append(out, w.text(n))
		}
	}
	return strings.Join(out, "; ")
}

// visit applies the operators that fit node n, whose parent in the
// syntax tree is given. Statements are deleted by deletions.
func (w *walker) visit(s site, n, parent ast.Node) {
	switch n := n.(type) {
	case *ast.IfStmt:
		w.condition(s, n.Cond)
	case *ast.ForStmt:
		if n.Cond != nil {
			w.condition(s, n.Cond)
		}
	case *ast.SwitchStmt:
		if n.Tag == nil {
			for _, c := range n.Body.List {
				for _, e := range c.(*ast.CaseClause).List {
					w.condition(s, e)
				}
			}
		}
	case *ast.BinaryExpr:
		switch n.Op {
		case token.LAND, token.LOR:
			if p, ok := parent.(*ast.BinaryExpr); !ok || p.Op != n.Op {
				w.chain(s, n)
			}
		case token.LSS, token.LEQ, token.GTR, token.GEQ:
			shifted := map[token.Token]token.Token{token.LSS: token.LEQ, token.LEQ: token.LSS, token.GTR: token.GEQ, token.GEQ: token.GTR}
			w.add(s, Boundary, n, w.withOp(n, shifted[n.Op]), formBool)
		}
	case *ast.CallExpr:
		w.quorum(s, n, parent)
	case *ast.SelectorExpr:
		w.swap(s, n, parent)
	}
}

// condition negates the condition of an if, a for or a case of a switch
// without a tag. The operands of a && or || chain are negated one by one
// as a chain (see chain); here the chain as a whole is.
func (w *walker) condition(s site, e ast.Expr) {
	e = ast.Unparen(e)
	w.add(s, Negate, e, w.negation(e), formBool)
}

// chain drops each operand of a chain of one operator (a && b && c), and
// negates each.
func (w *walker) chain(s site, e *ast.BinaryExpr) {
	ops := flatten(e, e.Op)
	for i, op := range ops {
		var rest []string
		for j, o := range ops {
			if j != i {
				rest = append(rest, w.text(o))
			}
		}
		w.add(s, DropOperand, e, strings.Join(rest, " "+e.Op.String()+" "), formBool)
		w.add(s, Negate, op, w.negation(op), formBool)
	}
}

// flatten lists the operands of a chain of op, left to right.
func flatten(e ast.Expr, op token.Token) []ast.Expr {
	if b, ok := e.(*ast.BinaryExpr); ok && b.Op == op {
		return append(flatten(b.X, op), flatten(b.Y, op)...)
	}
	return []ast.Expr{e}
}

// negated turns each comparison into its negation.
var negated = map[token.Token]token.Token{
	token.EQL: token.NEQ, token.NEQ: token.EQL,
	token.LSS: token.GEQ, token.GEQ: token.LSS,
	token.GTR: token.LEQ, token.LEQ: token.GTR,
}

// negation writes the negation of a boolean expression as a person would:
// a comparison turned around, a "!" taken off, or one put on.
func (w *walker) negation(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.BinaryExpr:
		if op, ok := negated[x.Op]; ok {
			return w.withOp(x, op)
		}
		return "!(" + w.text(x) + ")"
	case *ast.UnaryExpr:
		if x.Op == token.NOT {
			return w.text(x.X)
		}
	}
	return "!" + w.text(e)
}

// withOp writes a binary expression with another operator, its operands
// and spacing as they are.
func (w *walker) withOp(b *ast.BinaryExpr, op token.Token) string {
	start, end := w.offset(b.Pos()), w.offset(b.End())
	at := w.offset(b.OpPos)
	src := w.src(b)
	return string(src[start:at]) + op.String() + string(src[at+len(b.Op.String()):end])
}

// quorum moves by one a quorum that a call of the lab's helpers computes:
// the count Quorum, Faulty or Weak returns, or the count Blocking weighs.
func (w *walker) quorum(s site, call *ast.CallExpr, parent ast.Node) {
	fn := w.callee(call)
	if fn == nil || fn.Pkg() == nil || path.Base(fn.Pkg().Path()) != "lab" {
		return
	}
	var target ast.Expr = call
	switch {
	case slices.Contains(quorumFuncs, fn.Name()):
	case fn.Name() == blockingFunc && len(call.Args) == 2:
		target, parent = call.Args[1], call
	default:
		return
	}
	text := w.text(target)
	if needsParens(target, parent) {
		text = "(" + text + "%s)"
	} else {
		text += "%s"
	}
	for _, delta := range []int{1, -1} {
		if m := w.add(s, Quorum, target, strings.Replace(text, "%s", fmt.Sprintf("%+d", delta), 1), formInt); m != nil {
			m.delta = delta
		}
	}
}

// needsParens reports whether "e+1" would bind otherwise than intended
// where e stands.
func needsParens(e ast.Expr, parent ast.Node) bool {
	if b, ok := e.(*ast.BinaryExpr); ok && b.Op.Precedence() < token.ADD.Precedence() {
		return true
	}
	switch p := parent.(type) {
	case *ast.UnaryExpr, *ast.StarExpr:
		return true
	case *ast.BinaryExpr:
		return p.Op.Precedence() > token.EQL.Precedence()
	}
	return false
}

// swap reads, instead of a field, the nearest field before it and the
// nearest after it of the same type in the same struct. Only fields read as
// values of a plain chain of selectors are swapped: a field assigned,
// addressed, called or selected from stays, and so does one reached through
// a call, which the schema would call twice.
func (w *walker) swap(s site, sel *ast.SelectorExpr, parent ast.Node) {
	selection := w.info.Selections[sel]
	if selection == nil || selection.Kind() != types.FieldVal || !pure(sel.X) || !rvalue(sel, parent) {
		return
	}
	idx := selection.Index()
	t := selection.Recv()
	for _, i := range idx[:len(idx)-1] {
		st := structOf(t)
		if st == nil {
			return
		}
		t = st.Field(i).Type()
	}
	st := structOf(t)
	if st == nil {
		return
	}
	me := idx[len(idx)-1]
	field := st.Field(me)
	f := formPick
	if b, ok := field.Type().Underlying().(*types.Basic); ok && b.Kind() == types.Bool {
		f = formBool
	}
	for _, dir := range []int{-1, 1} {
		for j := me + dir; j >= 0 && j < st.NumFields(); j += dir {
			other := st.Field(j)
			if other.Embedded() || !types.Identical(other.Type(), field.Type()) || (!other.Exported() && other.Pkg() != w.pkg) {
				continue
			}
			// The neighbour must be what the same selector finds by its
			// name: a field of that name nearer the receiver would hide it.
			if obj, _, _ := types.LookupFieldOrMethod(selection.Recv(), true, w.pkg, other.Name()); obj != other {
				break
			}
			src := w.src(sel)
			w.add(s, SwapField, sel, string(src[w.offset(sel.Pos()):w.offset(sel.Sel.Pos())])+other.Name(), f)
			break
		}
	}
}

// structOf is the struct type t is, or points to.
func structOf(t types.Type) *types.Struct {
	if p, ok := t.Underlying().(*types.Pointer); ok {
		t = p.Elem()
	}
	st, _ := t.Underlying().(*types.Struct)
	return st
}

// pure reports whether evaluating e twice does what evaluating it once
// does: names and selections, no calls.
func pure(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.Ident:
		return true
	case *ast.SelectorExpr:
		return pure(x.X)
	case *ast.ParenExpr:
		return pure(x.X)
	case *ast.StarExpr:
		return pure(x.X)
	}
	return false
}

// rvalue reports whether sel, under parent, is only read as a value.
func rvalue(sel *ast.SelectorExpr, parent ast.Node) bool {
	switch p := parent.(type) {
	case *ast.AssignStmt:
		return !slices.Contains(p.Lhs, ast.Expr(sel))
	case *ast.IncDecStmt:
		return false
	case *ast.UnaryExpr:
		return p.Op != token.AND
	case *ast.SelectorExpr:
		return p.X != sel
	case *ast.IndexExpr:
		return p.X != sel
	case *ast.IndexListExpr:
		return p.X != sel
	case *ast.SliceExpr:
		return p.X != sel
	case *ast.CallExpr:
		return p.Fun != sel
	case *ast.RangeStmt:
		return p.Key != sel && p.Value != sel
	case *ast.KeyValueExpr:
		return p.Key != sel
	}
	return true
}

// deletions deletes, one at a time, the statements of a block (whose
// parent and grandparent are given) that a scope holds and that do
// something on their own: assignments to what exists already, increments,
// calls, and a return that an if guards. A return is kept when its if has
// an else, since the function may need the chain to end it.
func (w *walker) deletions(fn, ctx string, scopes []scope, list []ast.Stmt, parent, grand ast.Node) {
	for _, st := range list {
		i := slices.IndexFunc(scopes, func(sc scope) bool { return sc.holds(st) })
		if i < 0 {
			continue
		}
		s := site{fn: fn, sc: scopes[i], ctx: ctx}
		switch x := st.(type) {
		case *ast.AssignStmt:
			// A definition is needed by what follows; "_ = v" does
			// nothing but use v.
			if x.Tok == token.DEFINE || slices.IndexFunc(x.Lhs, func(e ast.Expr) bool { return !isBlank(e) }) < 0 {
				continue
			}
		case *ast.IncDecStmt:
		case *ast.ExprStmt:
			// A panic may be what ends its function, which without it
			// would not compile.
			call, ok := x.X.(*ast.CallExpr)
			if !ok || w.isBuiltin(call, "panic") || w.isMessage(call) {
				continue
			}
		case *ast.ReturnStmt:
			ifs, ok := parent.(*ast.IfStmt)
			if !ok || ifs.Else != nil {
				continue
			}
			if outer, ok := grand.(*ast.IfStmt); ok && outer.Else == ast.Stmt(ifs) {
				continue
			}
		default:
			continue
		}
		w.add(s, Delete, st, "", formStmt)
	}
}

// add records a mutant replacing node by text, unless the same change is
// already planned or node is code the skeleton leaves out, and returns it.
func (w *walker) add(s site, kind Kind, node ast.Node, text string, f form) *Mutant {
	if w.isOmitted(node) {
		return nil
	}
	start, end := w.offset(node.Pos()), w.offset(node.End())
	file := w.fset.File(node.Pos()).Name()
	old := string(w.plan.src[file][start:end])
	key := fmt.Sprintf("%s:%d:%d:%s", file, start, end, text)
	if old == text || w.seen[key] {
		return nil
	}
	w.seen[key] = true
	m := &Mutant{
		ctx:    s.ctx,
		Phases: s.sc.phases, File: file, Line: w.fset.Position(node.Pos()).Line, Func: s.fn,
		Kind: kind, Helper: s.sc.helper, Old: old, New: text, start: start, end: end, form: f,
	}
	w.plan.Mutants = append(w.plan.Mutants, m)
	return m
}

func (w *walker) offset(p token.Pos) int { return w.fset.File(p).Offset(p) }

func (w *walker) src(n ast.Node) []byte { return w.plan.src[w.fset.File(n.Pos()).Name()] }

func (w *walker) text(n ast.Node) string {
	return string(w.src(n)[w.offset(n.Pos()):w.offset(n.End())])
}
