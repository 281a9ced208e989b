package main

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
	head := "case7 failed with seed 1\n  line 30, P0 (view 0): expected stable checkpoint at n1000, found stable checkpoint at n0\n\nreproduce: make grade CASE=case7 SEED=1 RUNS=1\n"
	tests := []struct {
		name, msg, want string
	}{{
		name: "a short message is whole",
		msg:  head + "\ntranscript (seed 1):\nstep 1\n",
		want: head + "\ntranscript (seed 1):\nstep 1\n",
	}, {
		name: "a long transcript keeps the failures and its last lines",
		msg:  head + "\ntranscript (seed 1):\n" + long.String(),
		want: head + "\ntranscript (seed 1):\n... 97 earlier lines left out ...\nstep 97\nstep 98\nstep 99\n",
	}, {
		name: "a message without a transcript keeps its end",
		msg:  long.String(),
		want: "... 97 earlier lines left out ...\nstep 97\nstep 98\nstep 99\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, failureText(tt.msg, 3))
		})
	}
}
