package solution_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
	"pbftlab/sim"
	"pbftlab/solution"
)

// sendAll has the client send ops in bursts of burst requests, letting the
// network settle after each.
func sendAll(s *sim.Cluster, burst int, ops ...string) {
	for i, op := range ops {
		s.Client().Send(op)
		if (i+1)%burst == 0 || i == len(ops)-1 {
			s.Settle()
		}
	}
}

func deposits(n int) []string {
	ops := make([]string, n)
	for i := range ops {
		ops[i] = fmt.Sprintf("account=a%d,amount=%d,operation=deposit", i%7, i+1)
	}
	return ops
}

// requireSameState checks that every replica executed as far, with the
// same state, and returns that state's digest.
func requireSameState(t *testing.T, s *sim.Cluster) {
	t.Helper()
	want := s.Bank(0)
	for id := range lab.ID(s.N()) {
		b := s.Bank(id)
		require.Equal(t, want.LastExecuted(), b.LastExecuted(), "%s executed up to n%d, P0 up to n%d", id, b.LastExecuted(), want.LastExecuted())
		require.Equal(t, want.Digest(), b.Digest(), "%s's state", id)
	}
}

// With batching on, every request commits, every replica ends in the same
// state, and batches of more than one request need fewer messages per
// request than the lab's protocol.
func TestBatchingCommitsEveryRequest(t *testing.T) {
	for _, batch := range []int{0, 1, 10, 100} {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("batch=%d/seed=%d", batch, seed), func(t *testing.T) {
				s := sim.New(solution.New, sim.Options{Seed: seed, BatchSize: batch, Duplicate: 0.1, Quiet: true})
				const n = 600
				sendAll(s, 60, deposits(n)...)
				require.NoError(t, s.Err())
				c := s.Client()
				for i := 1; i <= n; i++ {
					o := c.Outcome(i)
					require.NotNil(t, o, "request %d has no outcome", i)
					require.True(t, o.Committed, "request %d: %+v", i, o)
				}
				requireSameState(t, s)
				st, err := s.Status(1)
				require.NoError(t, err)
				assert.Len(t, st.History, n, "one outcome per request")
				perRequest := float64(s.Delivered()) / n
				if batch > 1 {
					assert.Less(t, perRequest, 20.0, "messages per request")
					assert.Less(t, s.Bank(0).LastExecuted(), n, "some sequence number held more than one request")
				} else {
					assert.Equal(t, n, s.Bank(0).LastExecuted(), "one request per sequence number")
				}
			})
		}
	}
}

// A batching cluster votes on form, not on the state: an overdraft still
// commits, and execution rejects it, while a malformed request goes alone
// and aborts without taking its neighbours with it.
func TestBatchingRejectsOverdraftsAtExecution(t *testing.T) {
	for _, batch := range []int{1, 10} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			s := sim.New(solution.New, sim.Options{Seed: 2, BatchSize: batch, Balances: map[string]int{"alice": 10}})
			sendAll(s, 5,
				"account=alice,amount=8,operation=withdraw",
				"account=alice,amount=8,operation=withdraw",
				"account=alice,amount=-1,operation=deposit",
				"account=alice,amount=5,operation=deposit",
				"account=alice,amount=7,operation=withdraw",
			)
			require.NoError(t, s.Err())
			c := s.Client()
			want := []struct {
				committed bool
				result    string
			}{
				{true, "alice=2"},
				{true, "rejected: insufficient funds: alice has 2, withdraw 8"},
				{false, "aborted"},
				{true, "alice=7"},
				{true, "alice=0"},
			}
			for i, w := range want {
				o := c.Outcome(i + 1)
				require.NotNil(t, o, "request %d", i+1)
				assert.Equal(t, w.committed, o.Committed, "request %d", i+1)
				assert.Equal(t, w.result, o.Result, "request %d", i+1)
			}
			requireSameState(t, s)
			assert.Equal(t, 0, s.Bank(2).Balance("alice"))
		})
	}
}

// Batches keep their place through view changes: the primary crashes, the
// next primary re-issues the batches prepared above the stable checkpoint,
// whole, and the replicas that executed them vote for what they executed;
// then that primary crashes too. The first one, back, catches up.
func TestBatchingSurvivesViewChanges(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			s := sim.New(solution.New, sim.Options{Seed: seed, BatchSize: 10, Duplicate: 0.1, Quiet: true})
			ops := deposits(300)
			c := s.Client()
			settle := func(upTo int) {
				for tick := 0; tick < 500 && c.Answered() < upTo; tick++ {
					s.Tick()
				}
				require.NoError(t, s.Err())
				require.Equal(t, upTo, c.Answered(), "requests answered")
			}
			sendAll(s, 30, ops[:120]...)
			s.Crash(0)
			sendAll(s, 30, ops[120:200]...)
			settle(200)
			require.NoError(t, s.Recover(0))
			s.Crash(1)
			sendAll(s, 30, ops[200:]...)
			settle(len(ops))
			for i := 1; i <= len(ops); i++ {
				require.True(t, c.Outcome(i).Committed, "request %d", i)
			}
			st, err := s.Status(2)
			require.NoError(t, err)
			assert.Equal(t, 2, st.View, "both crashed primaries were replaced")
			require.NoError(t, s.Recover(1))
			requireSameState(t, s)
		})
	}
}

// A replica that missed many batches catches up by state transfer: the
// others' checkpoint and the batches they executed after it.
func TestBatchingRecovery(t *testing.T) {
	s := sim.New(solution.New, sim.Options{Seed: 5, BatchSize: 10, Quiet: true})
	ops := deposits(2000)
	sendAll(s, 40, ops[:40]...)
	s.Crash(3)
	sendAll(s, 40, ops[40:]...)
	require.NoError(t, s.Err())
	require.Less(t, s.Bank(3).LastExecuted(), s.Bank(0).LastExecuted())
	require.Greater(t, s.Bank(0).LastExecuted(), lab.DefaultCheckpointInterval, "a checkpoint the crashed replica missed")
	require.NoError(t, s.Recover(3))
	require.NoError(t, s.Err())
	requireSameState(t, s)
	st, err := s.Status(3)
	require.NoError(t, err)
	assert.Equal(t, s.Bank(0).LastExecuted(), st.LastExecuted)
}
