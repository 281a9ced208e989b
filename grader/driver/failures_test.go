package driver

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFailureText(t *testing.T) {
	var long strings.Builder
	for i := range 100 {
		fmt.Fprintf(&long, "step %d\n", i)
	}
	head := "case7 failed with seed 1\n  line 30, P0 (view 0): expected stable checkpoint at n1000, found stable checkpoint at n0\n  line 31, P1 (view 0): expected executed 5, found executed 0\n\nreproduce: make grade CASE=case7 SEED=1 RUNS=1\n"
	tests := []struct {
		name, msg, want string
	}{{
		name: "the first expectation that broke and the replay command",
		msg:  head + "\ntranscript (seed 1):\n" + long.String(),
		want: "  line 30, P0 (view 0): expected stable checkpoint at n1000, found stable checkpoint at n0\n  replay: make grade CASE=case7 SEED=1 RUNS=1\n",
	}, {
		name: "a crash names the process's death, and the case replays by name",
		msg:  "the test process died while running this spec (an os.Exit, or a panic on a goroutine of its own?); its last output:\n" + long.String(),
		want: "  the test process died while running this spec (an os.Exit, or a panic on a goroutine of its own?); its last output:\n  replay: make grade CASE=case7\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := failureText(tt.msg, "case7")
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, strings.Count(got, "\n"), 2, "a few lines per spec")
		})
	}
}
