package sim

import (
	"pbftlab/lab"
)

// Inject is how the case language's Byzantine replica says what its code
// did not (see script.Adversary). It runs only under an identity the
// options list as Byzantine, so the safety checks still hold every other
// replica to the rules.

// Inject sends m to replica to as Byzantine replica from sent it, whatever
// from's own code would do: a forged vote, a replayed message from an
// earlier view, a message naming another replica as its sender. The
// network treats it like any other message (it may duplicate it) and the
// trace marks it as forged; the network then settles.
func (s *Cluster) Inject(from, to lab.ID, m lab.Message) error {
	if err := s.byzantine(from); err != nil {
		return err
	}
	if vc, ok := m.(*lab.ViewChange); ok {
		s.nodes[from].keepViewChange(vc) // a forged NEW-VIEW may rest on it
	}
	s.send(from, to, m, true)
	s.Settle()
	return nil
}
