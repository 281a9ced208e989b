package script

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"pbftlab/lab"
)

// stableStub is a cluster whose replicas made the given checkpoints
// stable, and that has no Adversary side.
type stableStub struct {
	Cluster
	stable map[lab.ID][]int
}

func (s stableStub) N() int                            { return 4 }
func (s stableStub) StableCheckpoints(id lab.ID) []int { return s.stable[id] }

// A stable-count failure names the checkpoints the others made stable and
// this replica did not, so that "found 9" leads somewhere.
func TestMissedCheckpoints(t *testing.T) {
	cl := stableStub{stable: map[lab.ID][]int{
		0: {100, 200},
		1: {100, 200, 300},
		2: {100, 200, 300, 400},
		3: {100},
	}}
	assert.Equal(t, " (n300 is stable at P1 P2; n400 is stable at P2)", missedCheckpoints(cl, 0, cl.stable[0]))
	assert.Equal(t, "", missedCheckpoints(cl, 2, cl.stable[2]), "nothing the others have that P2 lacks")
	assert.Equal(t, " (n200 is stable at P0 P1 P2; n300 is stable at P1 P2; n400 is stable at P2)", missedCheckpoints(cl, 3, cl.stable[3]))
}
