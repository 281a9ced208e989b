package script

import (
	"pbftlab/lab"
	"pbftlab/sim"
)

// A Sim is a Cluster and an Adversary: cases run on the simulator.
var (
	_ Cluster   = (*sim.Sim)(nil)
	_ Adversary = (*sim.Sim)(nil)
)

// RunCase builds a cluster for c with newReplica, plays its steps and
// checks its expectations. The returned Sim holds the trace.
func RunCase(c *Case, newReplica lab.New, opts sim.Options) (*sim.Sim, []Failure, error) {
	opts.N = c.N
	opts.Manual = c.Manual
	opts.Balances = c.Balances
	opts.Byzantine = c.Byzantine
	opts.CheckpointInterval = c.CheckpointInterval
	opts.Window = c.Window
	s := sim.New(newReplica, opts)
	if err := s.Err(); err != nil {
		return s, nil, err
	}
	failures, err := Run(c, s, s.Trace().Step)
	return s, failures, err
}
