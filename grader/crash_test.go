package grader

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExplainDeath(t *testing.T) {
	frame := func(fn, file string) string {
		return fn + "(0x0?, 0x1?)\n\t/home/me/pbftlab/" + file + " +0x28 fp=0xc0 sp=0xc8 pc=0x49\n"
	}
	var overflow strings.Builder
	overflow.WriteString("pbftlab: P1 in Receive(PREPARE v0 n1 from P0) did not return within 1s\n" +
		"runtime: goroutine stack exceeds 1000000000-byte limit\nfatal error: stack overflow\n\nruntime stack:\n" +
		frame("runtime.throw", "runtime/panic.go:1") + "\n" +
		"goroutine 21 gp=0xc0 m=3 mp=0xc1 [running]:\n")
	for range 20 {
		overflow.WriteString(frame("pbftlab/skeleton.(*Replica).execute", "skeleton/commit.go:70"))
		overflow.WriteString(frame("pbftlab/skeleton.(*Replica).evaluatePrepare", "skeleton/prepare.go:90"))
	}
	overflow.WriteString("...900 frames elided...\n" + frame("pbftlab/skeleton.(*Replica).Receive", "skeleton/replica.go:120") +
		frame("pbftlab/sim.(*node).receive", "sim/sim.go:390") +
		"\ngoroutine 1 gp=0xc2 m=nil [chan receive]:\n" + frame("testing.(*T).Run", "testing/testing.go:1"))

	gopanic := "some output\npanic: boom\n\ngoroutine 9 [running]:\n" +
		frame("pbftlab/skeleton.(*Replica).Tick.func1", "skeleton/timer.go:20") +
		"created by pbftlab/skeleton.(*Replica).Tick in goroutine 8\n\t/home/me/pbftlab/skeleton/timer.go:19 +0x5\n" +
		"\ngoroutine 1 [chan receive]:\n" + frame("testing.(*T).Run", "testing/testing.go:1") + "exit status 2\n"

	tests := []struct {
		name, out, want string
	}{{
		name: "a recursion overflows the stack",
		out:  overflow.String(),
		want: "the test process died while running this spec: fatal error: stack overflow (a recursion that never ends?)\n" +
			"  P1 in Receive(PREPARE v0 n1 from P0) did not return within 1s\n" +
			"  a recursion that never ends (942 frames deep); it goes round\n" +
			"        evaluatePrepare      skeleton/prepare.go:90\n" +
			"        execute              skeleton/commit.go:70\n" +
			"        evaluatePrepare      and round again",
	}, {
		name: "a panic on a goroutine of its own",
		out:  gopanic,
		want: "the test process died while running this spec: panic: boom\n" +
			"  it was here (innermost first)\n" +
			"        Tick.func1           skeleton/timer.go:20",
	}, {
		name: "an exit",
		out:  "=== RUN TestGrade\nexit status 3\n",
		want: "the test process died while running this spec (an os.Exit?); its last output:\n=== RUN TestGrade\nexit status 3\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ExplainDeath(tt.out))
		})
	}
}
