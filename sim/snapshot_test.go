package sim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

// counter keeps one log entry per sequence number it hears a prepare for,
// with the prepare's sender among the yes votes, and hands out its own
// slices from Status, as a careless replica would. On Do it broadcasts
// prepares for sequence numbers 1..seqs.
type counter struct {
	id     lab.ID
	env    lab.Env
	log    []lab.Entry
	seqs   int
	status func(c *counter) lab.Status // replaces Status when set
}

func (c *counter) Receive(from lab.ID, m lab.Message) {
	p, ok := m.(*lab.Prepare)
	if !ok {
		return
	}
	for i := range c.log {
		if c.log[i].Seq == p.Seq {
			c.log[i].PrepareYes = append(c.log[i].PrepareYes, from)
			return
		}
	}
	c.log = append(c.log, lab.Entry{Seq: p.Seq, Phase: lab.PhasePrePrepared, PrepareYes: []lab.ID{from}})
}
func (c *counter) Tick() {}
func (c *counter) Do(cmd lab.Command) error {
	if cmd.Op == lab.OpCheckpoint { // a change nobody hears of
		c.log = append(c.log, lab.Entry{Seq: 99, Phase: lab.PhaseAborted})
		return nil
	}
	for seq := 1; seq <= c.seqs; seq++ {
		c.env.Broadcast(&lab.Prepare{Seq: seq, Replica: c.id, Yes: true})
	}
	return nil
}
func (c *counter) Status() lab.Status {
	if c.status != nil {
		return c.status(c)
	}
	return lab.Status{ID: c.id, View: 0, Log: c.log}
}

func counters(seqs int, status func(c *counter) lab.Status) lab.NewFunc {
	return func(cfg lab.Config, env lab.Env) lab.Replica {
		return &counter{id: cfg.ID, env: env, seqs: seqs, status: status}
	}
}

func TestSnapshots(t *testing.T) {
	panicky := func(c *counter) lab.Status {
		if c.id == 2 {
			panic("half-written Status")
		}
		return lab.Status{ID: c.id, Log: c.log}
	}
	tests := []struct {
		name      string
		seqs      int
		quiet     bool
		status    func(c *counter) lab.Status
		snapshots int // recorded
		check     func(t *testing.T, s *Cluster)
	}{
		{name: "quiet trace records nothing", seqs: 1, quiet: true, snapshots: 0},
		{name: "one per delivery", seqs: 2, snapshots: 6, check: func(t *testing.T, s *Cluster) {
			events := s.Trace().Events()
			for i, snap := range s.Trace().Snapshots() {
				e := events[snap.Event]
				require.Equal(t, EventDeliver, e.Kind, "snapshot %d follows a delivery", i)
				st := snap.Replicas[e.To]
				// The receiver's state counts the vote it was just handed.
				found := false
				for _, entry := range st.Log {
					if entry.Seq == e.Msg.(*lab.Prepare).Seq {
						found = assert.Contains(t, entry.PrepareYes, lab.ID(0))
					}
				}
				assert.True(t, found, "snapshot %d: %s has an entry for the prepare", i, e.To)
				if i > 0 {
					prev := s.Trace().Snapshots()[i-1]
					assert.Same(t, prev.Replicas[0], snap.Replicas[0], "the sender's state did not change and is shared")
					assert.NotSame(t, prev.Replicas[e.To], st, "the receiver's state changed")
				}
			}
		}},
		{name: "a replica's later changes do not reach a recorded state", seqs: 1, snapshots: 3, check: func(t *testing.T, s *Cluster) {
			first := s.Trace().Snapshots()[0]
			to := s.Trace().Events()[first.Event].To
			require.Len(t, first.Replicas[to].Log, 1)
			assert.Equal(t, []lab.ID{0}, first.Replicas[to].Log[0].PrepareYes)
		}},
		{name: "a panicking Status is shown and does not fail the run", seqs: 1, status: panicky, snapshots: 3, check: func(t *testing.T, s *Cluster) {
			require.NoError(t, s.Err())
			assert.NoError(t, s.Failure(2))
			st := s.Trace().Snapshots()[0].Replicas[2]
			assert.Contains(t, st.Failure, "P2 panicked in Status: half-written Status")
			assert.Empty(t, st.Log)
		}},
		{name: "entries past the cap keep the highest sequence numbers", seqs: MaxSnapshotEntries + 5, snapshots: 3 * (MaxSnapshotEntries + 5), check: func(t *testing.T, s *Cluster) {
			snaps := s.Trace().Snapshots()
			last := snaps[len(snaps)-1].Replicas[1]
			require.Len(t, last.Log, MaxSnapshotEntries)
			assert.Equal(t, 5, last.Omitted)
			assert.Equal(t, 6, last.Log[0].Seq)
			assert.Equal(t, MaxSnapshotEntries+5, last.Log[MaxSnapshotEntries-1].Seq)
		}},
		{name: "a long run records the first MaxSnapshots deliveries", seqs: MaxSnapshots, snapshots: MaxSnapshots, check: func(t *testing.T, s *Cluster) {
			assert.Equal(t, 3*MaxSnapshots, s.Delivered())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(counters(tt.seqs, tt.status), Options{Seed: 3, Quiet: tt.quiet, Balances: map[string]int{"alice": 5}})
			require.NoError(t, s.Do(0, lab.Command{Op: lab.OpProgress}))
			require.Len(t, s.Trace().Snapshots(), tt.snapshots)
			for _, snap := range s.Trace().Snapshots() {
				require.Len(t, snap.Replicas, 4)
				assert.Equal(t, map[string]int{"alice": 5}, snap.Replicas[3].Balances)
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

// Messages to a crashed or failed replica are lost; the states after them
// show the one crashed and, for the one that failed, why instead of a state.
func TestSnapshotsOfCrashedAndFailedReplicas(t *testing.T) {
	s := New(counters(1, func(c *counter) lab.Status {
		return lab.Status{ID: c.id, Log: c.log}
	}), Options{Seed: 1})
	s.Crash(3)
	s.nodes[2].fail(assert.AnError, nil)
	s.err = nil // the run goes on, so that the network settles
	require.NoError(t, s.Do(0, lab.Command{Op: lab.OpProgress}))
	snaps := s.Trace().Snapshots()
	require.Len(t, snaps, 3)
	kinds := map[EventKind]int{}
	for _, snap := range snaps {
		kinds[s.Trace().Events()[snap.Event].Kind]++
		assert.True(t, snap.Replicas[3].Crashed)
		assert.Equal(t, assert.AnError.Error(), snap.Replicas[2].Failure)
	}
	assert.Equal(t, map[EventKind]int{EventDeliver: 1, EventLost: 2}, kinds)
}

// A command changes its replica without a delivery; the next settle's first
// state shows the change, whoever receives its first message.
func TestSnapshotsSeeChangesBetweenSettles(t *testing.T) {
	s := New(counters(1, nil), Options{Seed: 2})
	require.NoError(t, s.Do(0, lab.Command{Op: lab.OpProgress}))
	before := len(s.Trace().Snapshots())
	require.NoError(t, s.Do(3, lab.Command{Op: lab.OpCheckpoint}))
	require.Len(t, s.Trace().Snapshots(), before, "nothing was delivered")
	require.NoError(t, s.Do(0, lab.Command{Op: lab.OpProgress}))
	snaps := s.Trace().Snapshots()
	require.Greater(t, len(snaps), before)
	first := snaps[before]
	require.NotEqual(t, lab.ID(3), s.Trace().Events()[first.Event].To, "the seed makes P3 not the first receiver")
	log := first.Replicas[3].Log
	require.NotEmpty(t, log)
	assert.Equal(t, 99, log[len(log)-1].Seq)
}
