package lab

// Forge builds the vote a Byzantine replica sends to a single destination
// ("prepare to P1 no", "ack to P2 commit"). The runtime sends it in the
// replica's name, about the last pre-prepare that replica received, whatever
// the replica's own code would have done: this is how a case scripts
// equivocation without relying on the tree under test.
func Forge(from ID, pp PrePrepare, op Op, yes bool) Message {
	if op == OpAck {
		return &Commit{View: pp.View, Seq: pp.Seq, Digest: pp.Digest, Replica: from, Commit: yes}
	}
	return &Prepare{View: pp.View, Seq: pp.Seq, Digest: pp.Digest, Replica: from, Yes: yes}
}
