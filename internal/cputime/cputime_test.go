package cputime

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Work done between two readings shows up as processor time.
func TestUsedGrowsWithWork(t *testing.T) {
	before := Used()
	for i := range 50_000_000 {
		sink ^= i
	}
	assert.Greater(t, Used(), before)
}

// sink keeps the loop's work from being optimised away.
var sink int
