package sim

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Frame is one function of a stack as the runtime prints it.
type Frame struct {
	Func string // "pbftlab/skeleton.(*Replica).vote"
	File string // "/path/to/skeleton/prepare.go"
	Line int
}

// Short is the function's name without its package path: "vote",
// "(*Replica).vote" for a method is shortened to "vote" too, since every
// method of a replica is on the Replica.
func (f Frame) Short() string {
	name := f.Func[strings.LastIndex(f.Func, "/")+1:]
	if i := strings.Index(name, "."); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.Index(name, ")."); i >= 0 && strings.HasPrefix(name, "(") {
		name = name[i+2:]
	}
	return name
}

// Where is the frame's file, relative to its folder's parent, and line:
// "skeleton/prepare.go:45".
func (f Frame) Where() string {
	return fmt.Sprintf("%s/%s:%d", filepath.Base(filepath.Dir(f.File)), filepath.Base(f.File), f.Line)
}

// pkg is the import path of the frame's function.
func (f Frame) pkg() string {
	slash := strings.LastIndex(f.Func, "/")
	dot := strings.Index(f.Func[slash+1:], ".")
	if dot < 0 {
		return f.Func
	}
	return f.Func[:slash+1+dot]
}

// Stack is one goroutine's stack, innermost frame first.
type Stack struct {
	Frames []Frame
	// Elided counts the frames the runtime left out of a deep stack, between
	// the innermost and the outermost ones it printed.
	Elided int
}

var (
	goroutineRE = regexp.MustCompile(`(?m)^goroutine \d+.*\[([^\]]*)\]:$`)
	elidedRE    = regexp.MustCompile(`^\.\.\.(\d+) frames elided\.\.\.$`)
	// A file line: the path, the line, then perhaps the pc offset and, in
	// a fatal error's dump, the frame's registers.
	fileRE = regexp.MustCompile(`^\t(.+):(\d+)(?: \+0x[0-9a-f]+.*)?$`)
)

// splitGoroutines cuts the output of runtime.Stack(all) into one text per
// goroutine.
func splitGoroutines(dump string) []string {
	locs := goroutineRE.FindAllStringIndex(dump, -1)
	out := make([]string, 0, len(locs))
	for i, l := range locs {
		end := len(dump)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		out = append(out, strings.TrimRight(dump[l[0]:end], "\n"))
	}
	return out
}

// isRunning reports whether the goroutine was on a processor, or ready to
// be: what a stuck call is, and a goroutine waiting for it is not.
func isRunning(g string) bool {
	m := goroutineRE.FindStringSubmatch(g)
	return m != nil && (strings.HasPrefix(m[1], "running") || strings.HasPrefix(m[1], "runnable") || strings.HasPrefix(m[1], "preempted"))
}

// inReplicaCall reports whether the goroutine is inside a call the
// simulator made into replica code.
func inReplicaCall(g string) bool {
	return strings.Contains(g, "pbftlab/sim.(*node).receive") || strings.Contains(g, "pbftlab/sim.(*node).call")
}

// ParseStack reads one goroutine's stack, or the first one of a dump.
func ParseStack(text string) Stack {
	var st Stack
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], "\r")
		if m := elidedRE.FindStringSubmatch(line); m != nil {
			st.Elided, _ = strconv.Atoi(m[1])
			continue
		}
		if line == "" || strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "goroutine ") || strings.HasPrefix(line, "created by ") {
			if line == "" && len(st.Frames) > 0 {
				break // the end of the first goroutine
			}
			continue
		}
		if i+1 >= len(lines) {
			break
		}
		m := fileRE.FindStringSubmatch(strings.TrimRight(lines[i+1], "\r"))
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		st.Frames = append(st.Frames, Frame{Func: funcName(line), File: m[1], Line: n})
		i++
	}
	return st
}

// funcName takes the arguments off a stack line: the function's name ends
// at the first parenthesis that does not follow a dot, since "(*T)" of a
// method does.
func funcName(line string) string {
	for i := 1; i < len(line); i++ {
		if line[i] == '(' && line[i-1] != '.' {
			return line[:i]
		}
	}
	return line
}

// kit reports whether a package is the kit's or Go's own rather than the
// replica's. A test package is neither: a replica may be written in one.
func kit(pkg string) bool {
	if strings.HasSuffix(pkg, "_test") {
		return false
	}
	for _, p := range []string{"pbftlab/lab", "pbftlab/sim", "pbftlab/script", "pbftlab/wire", "pbftlab/ckptfile", "pbftlab/runtime", "pbftlab/internal", "pbftlab/grader", "runtime", "testing", "github.com/onsi", "reflect", "sync"} {
		if pkg == p || strings.HasPrefix(pkg, p+"/") || strings.HasPrefix(pkg, p+".") {
			return true
		}
	}
	return !strings.Contains(pkg, "/") && !strings.Contains(pkg, ".") && pkg != "main"
}

// Replica keeps the frames of the replica's own package: of the frames
// inside the simulator's call into replica code, the package of the
// outermost one that is not the kit's or Go's.
func (st Stack) Replica() []Frame {
	inner := len(st.Frames)
	for i, f := range st.Frames {
		if f.Func == "pbftlab/sim.(*node).receive" || f.Func == "pbftlab/sim.(*node).call" {
			inner = i
			break
		}
	}
	pkg := ""
	for i := inner - 1; i >= 0; i-- {
		if p := st.Frames[i].pkg(); !kit(p) {
			pkg = p
			break
		}
	}
	var out []Frame
	for _, f := range st.Frames[:inner] {
		if pkg != "" && f.pkg() == pkg {
			out = append(out, f)
		}
	}
	return out
}

// Cycle finds a recursion at the top of the stack: the shortest run of
// functions that repeats, three times over at least, from the innermost
// frame down. It returns the run innermost first, or nil. What is below the
// repetition, where the recursion was entered, does not matter.
func Cycle(frames []Frame) []Frame {
	for p := 1; 3*p <= len(frames); p++ {
		run := 0
		for run+p < len(frames) && frames[run].Func == frames[run+p].Func {
			run++
		}
		if run >= 2*p {
			return frames[:p]
		}
	}
	return nil
}

// ExplainStack says what a stuck or dying replica's stack shows: the
// functions of a recursion that never ends, once, in the order they call
// each other; otherwise the replica's frames, innermost first.
func ExplainStack(stack string) string {
	st := ParseStack(stack)
	own := st.Replica()
	if len(own) == 0 {
		return "no frame of the replica's code is on its stack"
	}
	var b strings.Builder
	if cyc := Cycle(own); cyc != nil {
		depth := len(st.Frames) + st.Elided
		fmt.Fprintf(&b, "a recursion that never ends (%d frames deep); it goes round", depth)
		for i := len(cyc) - 1; i >= 0; i-- {
			fmt.Fprintf(&b, "\n      %-20s %s", cyc[i].Short(), cyc[i].Where())
		}
		fmt.Fprintf(&b, "\n      %-20s and round again", cyc[len(cyc)-1].Short())
		return b.String()
	}
	b.WriteString("it was here (innermost first)")
	for i, f := range own {
		if i == 8 {
			fmt.Fprintf(&b, "\n      ... %d more", len(own)-i)
			break
		}
		fmt.Fprintf(&b, "\n      %-20s %s", f.Short(), f.Where())
	}
	return b.String()
}
