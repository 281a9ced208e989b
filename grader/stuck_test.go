package grader

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
	"pbftlab/sim"
	"pbftlab/solution"
)

// loggingReplica loops in Receive, logging as it goes around, until the
// watchdog unwinds it at a Logf.
type loggingReplica struct {
	lab.Replica
	env lab.Env
}

func (l loggingReplica) Receive(from lab.ID, m lab.Message) {
	for i := 0; ; i++ {
		l.env.Logf("still thinking, %d", i)
	}
}

// A run whose call was unwound stopped where the clock stopped it, so a
// replay would differ and call the replica not deterministic. The run
// itself must say it was stuck: the news on sim.StuckCalls can lose the
// race with the run's own end.
func TestAnUnwoundRunIsMarkedStuck(t *testing.T) {
	old := sim.SetStuckLog(io.Discard)
	t.Cleanup(func() { sim.SetStuckLog(old) })
	cases, err := LoadCases(filepath.Join("..", "cases"))
	require.NoError(t, err)
	newReplica := func(cfg lab.Config, env lab.Env) lab.Replica {
		r := solution.New(cfg, env)
		if cfg.ID == 1 {
			return loggingReplica{Replica: r, env: env}
		}
		return r
	}
	p := playOnce(cases[0], newReplica, DefaultSettings(), run{seed: 1})
	assert.True(t, p.stuck)
	assert.Contains(t, p.msg, "did not return within")
}
