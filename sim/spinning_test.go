package sim

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOwnCodeInnermost(t *testing.T) {
	frames := func(funcs ...string) Stack {
		var st Stack
		for _, f := range funcs {
			st.Frames = append(st.Frames, Frame{Func: f})
		}
		return st
	}
	for _, tc := range []struct {
		name string
		st   Stack
		want bool
	}{
		{"a loop in the replica", frames("pbftlab/skeleton.(*Replica).vote", "pbftlab/sim.(*node).receive"), true},
		{"a map access inside the loop", frames("runtime.mapaccess2_faststr", "pbftlab/skeleton.(*Replica).vote"), true},
		{"an inlined atomic", frames("sync/atomic.(*Bool).Load", "pbftlab/sim_test.loopUntil"), true},
		{"writing output through fmt", frames("runtime.memmove", "fmt.(*buffer).writeString", "fmt.Printf", "pbftlab/skeleton.(*Replica).onRequest"), false},
		{"in a write system call", frames("internal/runtime/syscall.Syscall6", "syscall.write", "os.(*File).Write", "pbftlab/skeleton.(*Replica).onRequest"), false},
		{"only the runtime", frames("runtime.gopark"), false},
		{"no frames", Stack{}, false},
	} {
		assert.Equal(t, tc.want, ownCodeInnermost(tc.st), tc.name)
	}
}
