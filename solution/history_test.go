package solution

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

// A stable checkpoint moves the history below it into a chunk of its own;
// nothing is lost, and outcomes still finds every sequence number's records,
// a batch's included.
func TestHistoryArchive(t *testing.T) {
	r, _ := newTestReplica(1, false)
	var all []lab.Outcome
	for seq := 1; seq <= 1000; seq++ {
		n := 1 + seq%3 // one request, or a batch of two or three
		if seq%10 == 0 {
			n = 0 // a null request leaves no record
		}
		for i := range n {
			all = append(all, lab.Outcome{Seq: seq, Request: lab.Request{Client: "c", Timestamp: int64(seq*10 + i)}})
		}
	}
	r.history = append(r.history, all...)
	for _, stable := range []int{100, 600, 650, 1000} {
		r.stableSeq = stable
		r.collectGarbage()
		assert.Equal(t, all, r.allOutcomes(), "after a checkpoint at n%d", stable)
	}
	require.Len(t, r.archived, 2, "600 and 1000; 100 and 650 were too few to move")
	for seq := 0; seq <= 1001; seq++ {
		var want []lab.Outcome
		for _, o := range all {
			if o.Seq == seq {
				want = append(want, o)
			}
		}
		got := r.outcomes(seq)
		if len(want) == 0 {
			assert.Empty(t, got, "n%d", seq)
			continue
		}
		assert.Equal(t, want, got, "n%d", seq)
	}
}

// Status after Status, the history grows while checkpoints archive it; each
// call returns all of it, and an earlier result, or a caller's append to
// one, is never changed by a later step.
func TestHistoryGrowsUnderStatus(t *testing.T) {
	r, _ := newTestReplica(1, false)
	var all []lab.Outcome
	var earlier, extended [][]lab.Outcome
	marker := lab.Outcome{Seq: -1}
	for seq := 1; seq <= 2000; seq++ {
		o := lab.Outcome{Seq: seq, Committed: true, Request: lab.Request{Client: "c", Timestamp: int64(seq)}}
		all = append(all, o)
		r.history = append(r.history, o)
		if seq%100 == 0 {
			r.stableSeq = seq
			r.collectGarbage()
		}
		if seq%7 == 0 || seq%100 == 0 {
			got := r.Status().History
			require.Equal(t, all, got, "after n%d", seq)
			earlier = append(earlier, got)
			extended = append(extended, append(got, marker))
		}
	}
	require.NotEmpty(t, r.archived, "the history was archived")
	for i, h := range earlier {
		assert.Equal(t, all[:len(h)], h, "a Status of %d outcomes, read again at the end", len(h))
		assert.Equal(t, append(all[:len(h):len(h)], marker), extended[i], "a caller's append to a Status of %d outcomes", len(h))
	}
}
