package mutate

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"
)

// The names the schema adds to the package.
const (
	guardVar  = "pbftlabMutant"
	shiftFunc = "pbftlabShift"
	pickFunc  = "pbftlabPick"
)

// GuardFile is the file the schema adds to the package: the switch, read
// once, and the two helpers the guards call.
const GuardFile = "zz_pbftlab_mutants.go"

const guardSrc = `package %s

// This file is the switch of a mutant schema: every mutant of the package
// is compiled in, and %s turns one on by its number.

import (
	"os"
	"strconv"
)

var %s = func() int {
	n, _ := strconv.Atoi(os.Getenv(%q))
	return n
}()

// %s moves v by one when the mutant up or down is on.
func %s[T ~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64](v T, up, down int) T {
	switch %s {
	case up:
		return v + 1
	case down:
		return v - 1
	}
	return v
}

// %s is alt when mutant n is on, orig otherwise.
func %s[T any](n int, alt, orig T) T {
	if %s == n {
		return alt
	}
	return orig
}
`

// Schema returns the package with every mutant compiled in: its files
// rewritten, by slash path from the module root, and the guard file. With
// no mutant on, the package behaves as the reference.
func (p *Plan) Schema() map[string][]byte {
	out := map[string][]byte{}
	byFile := map[string][]*Mutant{}
	for _, m := range p.Mutants {
		byFile[m.File] = append(byFile[m.File], m)
	}
	for _, file := range p.Files() {
		out[file] = []byte(render(p.src[file], byFile[file]))
	}
	out[path.Join(p.Dir, GuardFile)] = fmt.Appendf(nil, guardSrc, p.Pkg, EnvVar, guardVar, EnvVar,
		shiftFunc, shiftFunc, guardVar, pickFunc, pickFunc, guardVar)
	return out
}

// node is a place of a file that mutants replace, with the places inside it.
type node struct {
	start, end int
	form       form
	mutants    []*Mutant
	children   []*node
}

// render writes src with the mutants' guards around their places. Places
// nest (a comparison inside a chain inside a deleted statement), and each
// guard's unmutated branch holds the guards of the places inside it.
func render(src []byte, mutants []*Mutant) string {
	var nodes []*node
	for _, m := range mutants {
		i := slices.IndexFunc(nodes, func(n *node) bool { return n.start == m.start && n.end == m.end && n.form == m.form })
		if i < 0 {
			nodes = append(nodes, &node{start: m.start, end: m.end, form: m.form})
			i = len(nodes) - 1
		}
		nodes[i].mutants = append(nodes[i].mutants, m)
	}
	// Outer places first; at one place, a statement guard outside an
	// expression's.
	slices.SortFunc(nodes, func(a, b *node) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(b.end, a.end), cmp.Compare(a.form, b.form))
	})
	root := &node{start: 0, end: len(src)}
	stack := []*node{root}
	for _, n := range nodes {
		for {
			top := stack[len(stack)-1]
			if top.start <= n.start && n.end <= top.end {
				break
			}
			stack = stack[:len(stack)-1]
		}
		top := stack[len(stack)-1]
		top.children = append(top.children, n)
		stack = append(stack, n)
	}
	return root.render(src)
}

func (n *node) render(src []byte) string {
	var b strings.Builder
	at := n.start
	for _, c := range n.children {
		b.Write(src[at:c.start])
		b.WriteString(c.render(src))
		at = c.end
	}
	b.Write(src[at:n.end])
	inner := b.String()
	if len(n.mutants) == 0 {
		return inner
	}
	switch n.form {
	case formStmt:
		// A statement has one mutant: its deletion.
		return fmt.Sprintf("if %s != %d { %s }", guardVar, n.mutants[0].N, inner)
	case formInt:
		up, down := 0, 0
		for _, m := range n.mutants {
			if m.delta > 0 {
				up = m.N
			} else {
				down = m.N
			}
		}
		return fmt.Sprintf("%s(%s, %d, %d)", shiftFunc, inner, up, down)
	case formPick:
		for _, m := range n.mutants {
			inner = fmt.Sprintf("%s(%d, %s, %s)", pickFunc, m.N, m.New, inner)
		}
		return inner
	}
	var alts, offs []string
	for _, m := range n.mutants {
		alts = append(alts, fmt.Sprintf("%s == %d && (%s)", guardVar, m.N, m.New))
		offs = append(offs, fmt.Sprintf("%s != %d", guardVar, m.N))
	}
	return fmt.Sprintf("(%s || %s && (%s))", strings.Join(alts, " || "), strings.Join(offs, " && "), inner)
}

// Apply returns the source of m's file with m alone planted.
func (p *Plan) Apply(m *Mutant) []byte {
	src := p.src[m.File]
	out := slices.Concat(src[:m.start], []byte(m.New), src[m.end:])
	if m.New != "" {
		return out
	}
	// A deleted statement leaves no blank line behind.
	ls, le := lineBounds(out, m.start, m.start)
	if strings.TrimSpace(string(out[ls:le])) == "" {
		out = slices.Concat(out[:ls], out[min(le+1, len(out)):])
	}
	return out
}

// lineBounds widens [start, end) to whole lines, without the last newline.
func lineBounds(src []byte, start, end int) (int, int) {
	for start > 0 && src[start-1] != '\n' {
		start--
	}
	for end < len(src) && src[end] != '\n' {
		end++
	}
	return start, end
}

// Hunk writes m as a rewrite of the kit's mutant catalogue (a diff without
// line numbers, see package ta/rewrite): the lines it changes, with
// enough lines around them that what it takes out occurs once in the file.
// A survivor written so can be planted again by hand, and kept.
func (p *Plan) Hunk(m *Mutant) string {
	src := p.src[m.File]
	ls, le := lineBounds(src, m.start, m.end)
	changed := string(src[ls:m.start]) + m.New + string(src[m.end:le])
	oldLines := strings.Split(string(src[ls:le]), "\n")
	var newLines []string
	for _, l := range strings.Split(changed, "\n") {
		if m.New == "" && strings.TrimSpace(l) == "" {
			continue
		}
		newLines = append(newLines, l)
	}
	all := strings.Split(string(src), "\n")
	first := strings.Count(string(src[:ls]), "\n")
	last := first + len(oldLines) // one past the changed lines
	before, after := 0, 0
	for {
		block := strings.Join(all[first-before:last+after], "\n")
		if strings.Count("\n"+string(src), "\n"+block) == 1 || (first-before == 0 && last+after >= len(all)) {
			break
		}
		if first-before > 0 {
			before++
		}
		if last+after < len(all) {
			after++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "@@ %s\n", m.File)
	for _, l := range all[first-before : first] {
		b.WriteString(hunkLine(' ', l))
	}
	for _, l := range oldLines {
		b.WriteString(hunkLine('-', l))
	}
	for _, l := range newLines {
		b.WriteString(hunkLine('+', l))
	}
	for _, l := range all[last : last+after] {
		b.WriteString(hunkLine(' ', l))
	}
	return b.String()
}

// hunkLine writes one line of a hunk; an empty context line stays empty.
func hunkLine(mark byte, l string) string {
	if mark == ' ' && l == "" {
		return "\n"
	}
	return string(mark) + l + "\n"
}
