package sim

import (
	"pbftlab/lab"
	"pbftlab/lab/script"
)

// The methods below make a Sim a script.Cluster, so cases run on it.

var _ script.Cluster = (*Sim)(nil)

// Send has the client send a request for op.
func (s *Sim) Send(op string) int {
	n := s.client.Send(op)
	s.Settle()
	return n
}

// Request returns request n as the client sent it.
func (s *Sim) Request(n int) lab.Request {
	if n < 1 || n > len(s.client.requests) {
		return lab.Request{}
	}
	return s.client.requests[n-1].req
}

// Outcome says whether the client accepted an outcome for request n.
func (s *Sim) Outcome(n int) (done, committed bool) {
	o := s.client.Outcome(n)
	if o == nil {
		return false, false
	}
	return true, o.Committed
}

// Balances returns replica id's balances.
func (s *Sim) Balances(id lab.ID) map[string]int { return s.nodes[id].bank.Balances() }

// StableCheckpoints lists the sequence numbers replica id reported stable.
func (s *Sim) StableCheckpoints(id lab.ID) []int {
	var out []int
	for _, c := range s.nodes[id].checkpoints {
		if c.Stable {
			out = append(out, c.Snapshot.Seq)
		}
	}
	return out
}

// RunCase builds a cluster for c with newReplica, plays its steps and
// checks its expectations. The returned Sim holds the trace.
func RunCase(c *script.Case, newReplica lab.New, opts Options) (*Sim, []script.Failure, error) {
	opts.N = c.N
	opts.Manual = c.Manual
	opts.Balances = c.Balances
	opts.Byzantine = c.Byzantine
	opts.CheckpointInterval = c.CheckpointInterval
	opts.Window = c.Window
	s := New(newReplica, opts)
	if err := s.Err(); err != nil {
		return s, nil, err
	}
	failures, err := script.Run(c, s, s.trace.Step)
	return s, failures, err
}
