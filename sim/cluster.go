package sim

import (
	"slices"

	"pbftlab/lab"
)

// The methods below are what the case language needs of a cluster (its
// Cluster interface), so cases run on a simulated Cluster.

// Send has the client send a request for op.
func (s *Cluster) Send(op string) int {
	n := s.client.Send(op)
	s.Settle()
	return n
}

// Request returns request n as the client sent it.
func (s *Cluster) Request(n int) lab.Request {
	if n < 1 || n > len(s.client.requests) {
		return lab.Request{}
	}
	return s.client.requests[n-1].req
}

// Outcome says whether the client accepted an outcome for request n.
func (s *Cluster) Outcome(n int) (done, committed bool) {
	o := s.client.Outcome(n)
	if o == nil {
		return false, false
	}
	return true, o.Committed
}

// Replies returns the replies the client holds for request n while it
// has no outcome: one per replica, none agreeing with f others yet.
func (s *Cluster) Replies(n int) []lab.Reply {
	if n < 1 || n > len(s.client.requests) {
		return nil
	}
	return slices.Clone(s.client.requests[n-1].replies)
}

// Balances returns replica id's balances.
func (s *Cluster) Balances(id lab.ID) map[string]int { return s.nodes[id].given.Balances() }

// StableCheckpoints lists the sequence numbers replica id reported stable.
func (s *Cluster) StableCheckpoints(id lab.ID) []int {
	var out []int
	for _, c := range s.nodes[id].checkpoints {
		if c.Stable {
			out = append(out, c.Snapshot.Seq)
		}
	}
	return out
}
