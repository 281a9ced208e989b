package grader

import (
	"regexp"
	"strings"

	"pbftlab/sim"
)

var (
	// deathRE finds what killed a Go process in its last output: a fatal
	// error of the runtime (a stack overflow, memory exhausted) or a panic
	// that nothing recovered, on a goroutine of its own.
	deathRE = regexp.MustCompile(`(?m)^(fatal error: .*|panic: .*)$`)
	// headerRE is the first line of one goroutine's stack in a dump.
	headerRE = regexp.MustCompile(`(?m)^goroutine \d+.*\[[^\]]*\]:$`)
	// stuckRE is the line the simulator's watchdog writes for each stuck
	// call (sim.SetStuckLog): it names the replica and the call.
	stuckRE = regexp.MustCompile(`(?m)^pbftlab: (.* did not return within .*)$`)
)

// ExplainDeath is the failure of a spec whose test process died, made from
// the process's last output: what killed it, the replica and the call when
// the watchdog had found one stuck, and what the dying goroutine's stack
// shows of the replica's code (the cycle of a recursion that overflowed
// the stack, once). The other goroutines' stacks, the runtime's own, are
// left out; when nothing of that can be found, the output's last lines are
// shown instead.
func ExplainDeath(out string) string {
	var b strings.Builder
	b.WriteString("the test process died while running this spec")
	loc := deathRE.FindStringSubmatchIndex(out)
	if loc == nil {
		b.WriteString(" (an os.Exit?); its last output:\n")
		b.WriteString(Tail(out, 20))
		return b.String()
	}
	cause := out[loc[2]:loc[3]]
	b.WriteString(": " + cause)
	if strings.Contains(cause, "stack overflow") {
		b.WriteString(" (a recursion that never ends?)")
	}
	if m := stuckRE.FindAllStringSubmatch(out, -1); len(m) > 0 {
		b.WriteString("\n  " + m[len(m)-1][1])
	}
	rest := out[loc[1]:]
	if h := headerRE.FindStringIndex(rest); h != nil {
		dying := rest[h[0]:]
		if next := headerRE.FindStringIndex(dying[h[1]-h[0]:]); next != nil {
			dying = dying[:h[1]-h[0]+next[0]]
		}
		b.WriteString("\n  " + strings.ReplaceAll(sim.ExplainStack(dying), "\n", "\n  "))
		return b.String()
	}
	b.WriteString("; its last output:\n")
	b.WriteString(Tail(out, 20))
	return b.String()
}
