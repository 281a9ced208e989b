package script

import (
	"pbftlab/lab"
	"pbftlab/sim"
)

// A simulated cluster is a Cluster and an Adversary: cases run on the simulator.
var (
	_ Cluster   = (*sim.Cluster)(nil)
	_ Adversary = (*sim.Cluster)(nil)
)

// RunCase builds a cluster for c with newReplica, plays its steps and
// checks its expectations. The returned Cluster holds the trace.
func RunCase(c *Case, newReplica lab.NewFunc, opts sim.Options) (*sim.Cluster, []Failure, error) {
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
