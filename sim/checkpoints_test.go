package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/ckptfile"
	"pbftlab/lab"
)

// reporter is a replica that reports checkpoints when told to: "tx" makes
// it report a snapshot of its bank taken, "progress" reports it stable.
type reporter struct {
	env  lab.Env
	bank *lab.Bank
}

func (r *reporter) Receive(lab.ID, lab.Message) {}
func (r *reporter) Tick()                       {}
func (r *reporter) Status() lab.Status          { return lab.Status{View: 3} }
func (r *reporter) Do(c lab.Command) error {
	r.env.Checkpointed(r.bank.Snapshot(), c.Op == lab.OpProgress)
	return nil
}

func reporters(t *testing.T, opts Options) *Cluster {
	t.Helper()
	s := New(func(cfg lab.Config, env lab.Env) lab.Replica { return &reporter{env: env, bank: cfg.Bank} }, opts)
	require.NoError(t, s.Err())
	return s
}

var (
	take   = lab.Command{Op: lab.OpPropose}
	stable = lab.Command{Op: lab.OpProgress}
)

func TestStableNeedsQuorumOfTakers(t *testing.T) {
	tests := []struct {
		name   string
		takers []lab.ID
		fails  bool
	}{
		{"2f+1 took it", []lab.ID{0, 1, 2}, false},
		{"f+1 took it", []lab.ID{0, 1}, true},
		{"only the reporter took it", []lab.ID{0}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := reporters(t, Options{})
			for _, id := range tt.takers {
				require.NoError(t, s.Do(id, take))
			}
			err := s.Do(0, stable)
			if !tt.fails {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "P0 (view 3) reported checkpoint n0 stable")
			assert.Contains(t, err.Error(), "2f+1 = 3")
		})
	}
}

func TestByzantineStableReportIsNotChecked(t *testing.T) {
	s := reporters(t, Options{Byzantine: []lab.ID{3}})
	assert.NoError(t, s.Do(3, stable))
}

func TestCheckpointFiles(t *testing.T) {
	s := reporters(t, Options{Balances: map[string]int{"alice": 5}})
	for _, id := range []lab.ID{0, 1, 2} {
		require.NoError(t, s.Do(id, take))
	}
	s.Tick()
	s.Tick()
	require.NoError(t, s.Do(1, stable))
	require.NoError(t, s.Do(3, take))

	name, f, err := s.FinalCheckpoint()
	require.NoError(t, err)
	at := Epoch().Add(2 * time.Second)
	assert.Equal(t, ckptfile.FinalName(at), name, "time stamps come from the simulated clock")
	assert.Equal(t, lab.ID(1), f.Reporter)
	for id := range lab.ID(4) {
		snap, ok := f.Has(id)
		assert.True(t, ok, "%s is in the final file", id)
		assert.True(t, snap.Match)
		assert.Equal(t, map[string]int{"alice": 5}, snap.Balances)
	}

	text, ok := s.CheckpointFiles().Read(ckptfile.ReplicaLog(1))
	require.True(t, ok)
	recs, err := ckptfile.ParseLog(text)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, Epoch(), recs[0].Time)
	assert.True(t, recs[1].Stable)
	assert.Equal(t, at, recs[1].Time)
}

func TestCheckpointFilesElsewhere(t *testing.T) {
	mem := ckptfile.NewMem()
	s := reporters(t, Options{Files: mem})
	require.NoError(t, s.Do(2, take))
	assert.Nil(t, s.CheckpointFiles())
	_, _, err := s.FinalCheckpoint()
	assert.Error(t, err)
	_, ok := mem.Read(ckptfile.ReplicaLog(2))
	assert.True(t, ok)
}

// A checkpoint's contents are the state its digest names: a snapshot with
// a balance added after the bank made it is refused, stable or taken.
func TestACheckpointsContentsMatchItsDigest(t *testing.T) {
	for _, stable := range []bool{false, true} {
		s := New(func(cfg lab.Config, env lab.Env) lab.Replica {
			return &forger{reporter{env: env, bank: cfg.Bank}, stable}
		}, Options{})
		err := s.Do(0, take)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "P0 reported a checkpoint whose contents are not the state its digest names")
	}
}

// forger reports its bank's snapshot with one more account in it.
type forger struct {
	reporter
	stable bool
}

func (f *forger) Do(lab.Command) error {
	snap := f.bank.Snapshot()
	snap.Balances["x\n# Node P3"] = 1
	f.env.Checkpointed(snap, f.stable)
	return nil
}
