package grader

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
	"pbftlab/solution"
)

func TestNetworkFor(t *testing.T) {
	tests := []struct {
		seed           uint64
		reorder, drops bool
		want           network
	}{
		{seed: 1, reorder: true, drops: true, want: network{duplicate: 0.2}},
		{seed: 3, reorder: true, drops: true, want: network{duplicate: 0, reorder: true}},
		{seed: 3, reorder: false, drops: true, want: network{duplicate: 0}},
		{seed: 6, reorder: true, drops: true, want: network{duplicate: 0, drop: stressDrop}},
		{seed: 6, reorder: true, drops: false, want: network{duplicate: 0}},
		{seed: 11, reorder: true, drops: true, want: network{duplicate: 0.5, reorder: true, drop: stressDrop}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, networkFor(tt.seed, tt.reorder, tt.drops), "seed %d", tt.seed)
	}
	// Twelve seeds in a row cover every combination.
	seen := map[network]bool{}
	for seed := range uint64(12) {
		seen[networkFor(seed+1, true, true)] = true
	}
	assert.Len(t, seen, 12)
}

// stuckReplica never returns from Receive until release is closed: a
// replica in an endless loop, without burning a core.
type stuckReplica struct {
	lab.Replica
	release chan struct{}
}

func (s stuckReplica) Receive(from lab.ID, m lab.Message) {
	<-s.release
	s.Replica.Receive(from, m)
}

func TestStressFindsFailingSeeds(t *testing.T) {
	cases, err := LoadCases(filepath.Join("..", "cases"))
	require.NoError(t, err)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	// The reference with one planted bug: P1 never votes in Case 2, where
	// P3's votes to it are no; and P2 gets stuck in Case 1.
	broken := func(cfg lab.Config, env lab.Env) lab.Replica {
		r := solution.New(cfg, env)
		if cfg.ID == 2 && cfg.Bank.Balance("alice") == 0 && cfg.Manual {
			return stuckReplica{Replica: r, release: release}
		}
		return r
	}
	only := []string{"case1_deposit", "case3_withdraw_fails", "robust4_duplicate_votes"}
	targets := stressTargets(broken, cases, only)
	require.Len(t, targets, 3)
	dir := t.TempDir()
	rep := runStress(targets, 4, 1, 2, 300*time.Millisecond, dir, replayOf("mytree", "/tmp/mycases"), io.Discard)

	require.Len(t, rep.Targets, 3)
	byName := map[string]StressTarget{}
	for _, tg := range rep.Targets {
		byName[tg.Name] = tg
	}
	stuck := byName["case1_deposit"]
	assert.True(t, stuck.Stuck)
	assert.Less(t, stuck.Runs, 4, "the seeds after a stuck one are skipped")
	assert.Equal(t, stuck.Runs, stuck.Failures)
	assert.Contains(t, stuck.Failed[0].Message, "did not finish")
	for _, name := range []string{"case3_withdraw_fails", "robust4_duplicate_votes"} {
		assert.Equal(t, 4, byName[name].Runs, name)
		assert.Zero(t, byName[name].Failures, name)
	}

	data, err := os.ReadFile(filepath.Join(dir, stuck.Failed[0].Transcript))
	require.NoError(t, err)
	assert.Contains(t, string(data), "replay: make stress TREE=mytree CASES=/tmp/mycases CASE=case1_deposit SEED=")
}

func TestStressKeepsTranscriptsOfFailures(t *testing.T) {
	cases, err := LoadCases(filepath.Join("..", "cases"))
	require.NoError(t, err)
	// Votes are never evaluated: every expectation of Case 2 fails.
	lazy := func(cfg lab.Config, env lab.Env) lab.Replica { return noProgress{solution.New(cfg, env)} }
	dir := t.TempDir()
	rep := runStress(stressTargets(lazy, cases, []string{"case2_withdraw"}), 3, 5, 2, time.Minute, dir, replayOf("solution", ""), io.Discard)
	require.Len(t, rep.Targets, 1)
	tg := rep.Targets[0]
	assert.Equal(t, 3, tg.Failures)
	require.Len(t, tg.Failed, 3)
	for _, f := range tg.Failed {
		data, err := os.ReadFile(filepath.Join(dir, f.Transcript))
		require.NoError(t, err)
		text := string(data)
		assert.True(t, strings.HasPrefix(text, "case2_withdraw failed with seed "), text)
		assert.Contains(t, text, "replay: make stress CASE=case2_withdraw SEED=")
		assert.Contains(t, text, "transcript (seed ")
		assert.Contains(t, text, "P3 (replica, Byzantine): prepare to P1 no")
		assert.NotContains(t, text, "ended otherwise", "the run with the trace on fails alike")
	}
	out, err := json.Marshal(rep)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"failures":3`)

	// With more failures than it keeps, a run keeps the lowest seeds, in
	// order, however its workers finish.
	rep = runStress(stressTargets(lazy, cases, []string{"case2_withdraw"}), maxTranscripts+4, 1, 4, time.Minute, t.TempDir(), replayOf("solution", ""), io.Discard)
	require.Len(t, rep.Targets[0].Failed, maxTranscripts)
	for i, f := range rep.Targets[0].Failed {
		assert.Equal(t, uint64(i+1), f.Seed)
	}
}

// noProgress ignores "progress": nothing is ever decided.
type noProgress struct{ lab.Replica }

func (n noProgress) Do(c lab.Command) error {
	if c.Op == lab.OpProgress {
		return nil
	}
	return n.Replica.Do(c)
}

// replayOf is the replay command of a stress run of tree, from cases.
func replayOf(tree, cases string) func(string, uint64) string {
	return func(name string, seed uint64) string { return StressReplay(tree, cases, name, seed) }
}
