package sim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

// sendOnDo makes every fake broadcast a CHECKPOINT at n1 when told to do
// anything, so tests can make traffic on demand.
func sendOnDo(f *fake) {
	f.onDo = func(f *fake, c lab.Command) error {
		f.env.Broadcast(&lab.Checkpoint{Seq: 1, Digest: "d", Replica: f.id})
		return nil
	}
}

func TestHoldKeepsMessagesUntilReleased(t *testing.T) {
	tests := []struct {
		name    string
		hold    Filter
		release Filter
		reverse bool
		// what P2 has received after the hold, and after the release
		before, after []string
	}{
		{
			name:   "everything to P2, released in order",
			hold:   Filter{To: []lab.ID{2}},
			before: nil,
			after:  []string{"P0:CHECKPOINT n1 d=d", "P1:CHECKPOINT n1 d=d"},
		},
		{
			name:    "released in reverse",
			hold:    Filter{To: []lab.ID{2}},
			reverse: true,
			before:  nil,
			after:   []string{"P1:CHECKPOINT n1 d=d", "P0:CHECKPOINT n1 d=d"},
		},
		{
			name:    "only P1's, by kind and sender",
			hold:    Filter{Kinds: []lab.Kind{lab.KindCheckpoint}, From: []lab.ID{1}},
			release: Filter{From: []lab.ID{1}},
			before:  []string{"P0:CHECKPOINT n1 d=d"},
			after:   []string{"P0:CHECKPOINT n1 d=d", "P1:CHECKPOINT n1 d=d"},
		},
		{
			name:   "another kind passes",
			hold:   Filter{Kinds: []lab.Kind{lab.KindPrepare}},
			before: []string{"P0:CHECKPOINT n1 d=d", "P1:CHECKPOINT n1 d=d"},
			after:  []string{"P0:CHECKPOINT n1 d=d", "P1:CHECKPOINT n1 d=d"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, fs := cluster(t, Options{}, sendOnDo)
			s.Hold(tt.hold)
			require.NoError(t, s.Do(0, lab.Command{Op: lab.OpCheckpoint}))
			require.NoError(t, s.Do(1, lab.Command{Op: lab.OpCheckpoint}))
			assert.Equal(t, tt.before, fs[2].got)
			s.Release(tt.release, tt.reverse)
			assert.Equal(t, tt.after, fs[2].got)
			assert.Zero(t, s.Held())
			// A release ends the hold: what is sent next passes.
			require.NoError(t, s.Do(0, lab.Command{Op: lab.OpCheckpoint}))
			assert.Len(t, fs[2].got, len(tt.after)+1)
		})
	}
}

func TestLieRewritesWhatOneByzantineReplicaSends(t *testing.T) {
	s, fs := cluster(t, Options{Byzantine: []lab.ID{3}}, sendOnDo)
	assert.Error(t, s.Lie(1, nil), "an honest replica cannot be made to lie")
	require.NoError(t, s.Lie(3, func(to lab.ID, m lab.Message) lab.Message {
		if to == 1 {
			return nil
		}
		m.(*lab.Checkpoint).Digest = "lie"
		return m
	}))
	require.NoError(t, s.Do(3, lab.Command{Op: lab.OpCheckpoint}))
	assert.Empty(t, fs[1].got, "withheld from P1")
	assert.Equal(t, []string{"P3:CHECKPOINT n1 d=lie"}, fs[0].got)
	require.NoError(t, s.Lie(3, nil))
	require.NoError(t, s.Do(3, lab.Command{Op: lab.OpCheckpoint}))
	assert.Equal(t, []string{"P3:CHECKPOINT n1 d=lie", "P3:CHECKPOINT n1 d=d"}, fs[0].got)
	assert.Equal(t, 5, s.Sent(3, lab.KindCheckpoint), "what left it: two the first time (P1's withheld), three the second")
}

func TestPrePrepareAtFollowsTheNewView(t *testing.T) {
	s, _ := cluster(t, Options{Byzantine: []lab.ID{3}}, nil)
	req := lab.Request{Client: "c", Timestamp: 1, Op: "account=a,amount=1,operation=deposit"}
	old := &lab.PrePrepare{View: 0, Seq: 1, Digest: lab.Digest(&req), Request: &req}
	require.NoError(t, s.Inject(3, 2, old)) // P3 is Byzantine: it may send anything
	pp, ok := s.PrePrepareAt(2, 1, -1)
	require.True(t, ok)
	assert.Equal(t, 0, pp.View)
	s.nodes[2].see(1, &lab.NewView{View: 1, PrePrepares: []lab.PrePrepare{{View: 1, Seq: 1, Digest: old.Digest, Request: &req}}})
	pp, ok = s.PrePrepareAt(2, 1, -1)
	require.True(t, ok)
	assert.Equal(t, 1, pp.View, "the re-issued pre-prepare of view 1")
	assert.Equal(t, 1, s.nodes[2].lastPP.View, "a scripted vote is about view 1")
	_, ok = s.PrePrepareAt(2, 1, 0)
	assert.False(t, ok, "view 0's was replaced")
}

func TestRegisteredRequestsAreNeverResent(t *testing.T) {
	s, fs := cluster(t, Options{ClientTimeout: 1}, nil)
	n := s.Register("account=a,amount=1,operation=deposit")
	assert.Equal(t, 1, n)
	for range 3 {
		s.Tick()
	}
	for _, f := range fs {
		assert.Empty(t, f.got, "%s got the registered request", f.id)
	}
	s.Queue("account=a,amount=2,operation=deposit")
	assert.Empty(t, fs[0].got, "queued, not yet delivered")
	s.Settle()
	assert.Equal(t, []string{"client:REQUEST client#2 account=a,amount=2,operation=deposit"}, fs[0].got)
}

// A PCT schedule keeps links of low priority waiting while one of higher
// priority has messages: the three CHECKPOINTs of P0 and the three of P1
// reach P3 one sender's after the other's far more often than under a
// uniform choice, which interleaves them. The same seed gives the same
// order.
func TestPCTKeepsALinkWaiting(t *testing.T) {
	order := func(seed uint64, pct bool) []string {
		s, fs := cluster(t, Options{Seed: seed, PCT: pct}, sendOnDo)
		s.Hold(Filter{To: []lab.ID{3}})
		for range 3 {
			require.NoError(t, s.Do(0, lab.Command{Op: lab.OpCheckpoint}))
			require.NoError(t, s.Do(1, lab.Command{Op: lab.OpCheckpoint}))
		}
		s.Release(Filter{}, false)
		return fs[3].got
	}
	grouped := func(got []string) bool {
		switches := 0
		for i := 1; i < len(got); i++ {
			if got[i][:2] != got[i-1][:2] {
				switches++
			}
		}
		return switches == 1
	}
	assert.Equal(t, order(5, true), order(5, true), "same seed, same order")
	pct, uniform := 0, 0
	for seed := range uint64(50) {
		if grouped(order(seed, true)) {
			pct++
		}
		if grouped(order(seed, false)) {
			uniform++
		}
	}
	assert.Greater(t, pct, 40, "PCT delivers one link's messages together")
	assert.Less(t, uniform, 20, "a uniform choice interleaves them")
}
