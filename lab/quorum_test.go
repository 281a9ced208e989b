package lab

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestQuorumValues(t *testing.T) {
	tests := []struct {
		n, f, q, weak int
	}{
		{1, 0, 1, 1},
		{4, 1, 3, 2},
		{7, 2, 5, 3},
		{10, 3, 7, 4},
		{13, 4, 9, 5},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.f, Faulty(tt.n), "f for n=%d", tt.n)
		assert.Equal(t, tt.q, Quorum(tt.n), "quorum for n=%d", tt.n)
		assert.Equal(t, tt.weak, Weak(tt.n), "weak quorum for n=%d", tt.n)
	}
}

// Any two quorums must share at least f+1 replicas, so that an honest replica
// sits in both; and a quorum must be reachable with f replicas silent.
func TestQuorumsIntersectInAnHonestReplica(t *testing.T) {
	for n := 1; n <= 100; n++ {
		f, q := Faulty(n), Quorum(n)
		assert.GreaterOrEqual(t, 2*q-n, f+1, "n=%d: two quorums of %d overlap in %d", n, q, 2*q-n)
		assert.LessOrEqual(t, q, n-f, "n=%d: quorum %d needs a faulty replica", n, q)
		if n%3 == 1 {
			assert.Equal(t, 2*f+1, q, "n=%d is 3f+1, so the quorum is 2f+1", n)
		}
	}
}

func TestBlocking(t *testing.T) {
	tests := []struct {
		n, against int
		want       bool
	}{
		{4, 0, false},
		{4, 1, false},
		{4, 2, true},
		{7, 2, false},
		{7, 3, true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Blocking(tt.n, tt.against), "n=%d against=%d", tt.n, tt.against)
	}
}
