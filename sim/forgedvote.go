package sim

import "pbftlab/lab"

// ForgedVote builds the vote a Byzantine replica sends to a single destination
// ("prepare to P1 no", "ack to P2 commit"). The runtime sends it in the
// replica's name, about the last pre-prepare that replica received, whatever
// the replica's own code would have done: this is how a case scripts
// equivocation without relying on the tree under test.
func ForgedVote(from lab.ID, pp lab.PrePrepare, op lab.Op, yes bool) lab.Message {
	if op == lab.OpAck {
		return &lab.Commit{View: pp.View, Seq: pp.Seq, Digest: pp.Digest, Replica: from, Yes: yes}
	}
	return &lab.Prepare{View: pp.View, Seq: pp.Seq, Digest: pp.Digest, Replica: from, Yes: yes}
}
