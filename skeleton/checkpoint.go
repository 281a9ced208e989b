package skeleton

import (
	"fmt"

	"pbftlab/lab"
)

// checkpoints is what a replica knows about checkpoints (PBFT §4.3). The
// last stable checkpoint sets the low watermark h; the log holds only the
// sequence numbers in (h, h+L].
type checkpoints struct {
	stableSeq    int
	stableDigest string
	// stableSnap is the state at stableSeq, which state replies carry; nil
	// when this replica learnt that stableSeq is stable without holding
	// that state itself.
	stableSnap *lab.Snapshot
	// proofSeq and proof are the last stable checkpoint this replica can
	// prove with 2f+1 matching CHECKPOINT messages, as a view change must.
	// A checkpoint adopted by state transfer comes without one.
	proofSeq int
	proof    []lab.Checkpoint
	// snapshots holds the checkpoints this replica took above stableSeq.
	snapshots map[int]lab.Snapshot
	// votes holds the CHECKPOINT messages received, by sequence number and
	// sender; the replica's own is among them.
	votes map[int]map[lab.ID]lab.Checkpoint
	// follow holds sequence numbers at which the primary took a checkpoint
	// that this replica has not executed yet; it checkpoints there too.
	follow map[int]bool
}

func (c *checkpoints) init(genesis lab.Snapshot) {
	c.stableSeq, c.stableDigest, c.stableSnap = genesis.Seq, genesis.Digest, &genesis
	c.snapshots = map[int]lab.Snapshot{}
	c.votes = map[int]map[lab.ID]lab.Checkpoint{}
	c.follow = map[int]bool{}
}

// checkpointCommand is "checkpoint" at the primary: every replica takes a
// checkpoint at the primary's last executed sequence number. Typed again
// before that checkpoint is stable, it announces it again, so that a
// replica back from a crash can join in.
func (r *Replica) checkpointCommand() error {
	if !r.isPrimary() {
		return fmt.Errorf("only the primary starts a checkpoint; %s is the primary of view %d", r.primary(), r.view)
	}
	seq := r.bank.LastExecuted()
	if seq <= r.stableSeq {
		return fmt.Errorf("nothing executed since the stable checkpoint at n%d", r.stableSeq)
	}
	if snap, ok := r.snapshots[seq]; ok {
		r.env.Broadcast(&lab.Checkpoint{Seq: seq, Digest: snap.Digest, Replica: r.id})
		return nil
	}
	r.takeCheckpoint()
	return nil
}

// takeCheckpoint records the state after the last executed sequence number,
// reports it to the runtime and announces its digest to the others.
func (r *Replica) takeCheckpoint() {
	snap := r.bank.Snapshot()
	if _, done := r.snapshots[snap.Seq]; done || snap.Seq <= r.stableSeq {
		return
	}
	// TODO(checkpoint): keep the snapshot, report it with env.Checkpointed(snapshot, false), count your own CHECKPOINT(seq, state digest) and send it to every other replica
	r.env.Logf("checkpoint n%d d=%s", snap.Seq, snap.Digest)
	r.checkStable(snap.Seq)
}

// onCheckpoint counts another replica's checkpoint. The primary's also
// tells a backup where to checkpoint when it was asked to by a command.
func (r *Replica) onCheckpoint(from lab.ID, c *lab.Checkpoint) {
	// TODO(checkpoint): keep a checkpoint only if it really comes from its sender and is inside the watermarks; keep one per sender and sequence number
	if from == r.primary() && !r.viewChanging {
		switch last := r.bank.LastExecuted(); {
		case c.Seq == last:
			r.takeCheckpoint()
		case c.Seq > last:
			r.follow[c.Seq] = true
		}
	}
	r.checkStable(c.Seq)
}

func (r *Replica) addCheckpoint(c lab.Checkpoint) bool {
	byReplica := r.votes[c.Seq]
	if byReplica == nil {
		byReplica = map[lab.ID]lab.Checkpoint{}
		r.votes[c.Seq] = byReplica
	}
	if _, dup := byReplica[c.Replica]; dup {
		return false
	}
	byReplica[c.Replica] = c
	return true
}

// checkStable makes the checkpoint at seq stable once a quorum agrees on it.
func (r *Replica) checkStable(seq int) {
	if seq <= r.stableSeq {
		return
	}
	if proof, ok := stableProof(r.votes[seq], r.quorum()); ok {
		r.markStable(proof)
	}
}

// stableProof looks for 2f+1 checkpoints from distinct replicas that agree
// on the state digest, and returns them sorted by replica. votes holds one
// checkpoint per replica, all for one sequence number.
func stableProof(votes map[lab.ID]lab.Checkpoint, quorum int) ([]lab.Checkpoint, bool) {
	// TODO(checkpoint): a checkpoint is stable with 2f+1 matching digests from distinct replicas (f+1 is not enough); return those checkpoints, in replica order, as its proof
	return nil, false
}

// markStable makes the checkpoint that proof vouches for the stable one:
// the watermarks move up to it and the log at or below it is discarded. A
// replica that has not reached that state fetches it from the others.
func (r *Replica) markStable(proof []lab.Checkpoint) {
	seq := proof[0].Seq
	// TODO(checkpoint): record the stable checkpoint and its proof, report your snapshot with env.Checkpointed(snapshot, true) when its digest matches, and discard what it makes unnecessary (collectGarbage: the log at or below it moves the watermarks)
	r.env.Logf("checkpoint n%d stable (%d matching), watermarks (%d, %d]", seq, len(proof), r.low(), r.high())
	if r.bank.LastExecuted() < seq || r.stableSnap == nil {
		r.askForState()
	}
	if r.isPrimary() && !r.viewChanging && !r.cfg.Manual {
		// The window moved: requests that waited for room can be ordered.
		r.proposePending()
	}
}

// caughtUp records that this replica has reached the state of its stable
// checkpoint, which it learnt was stable before it got there (from 2f+1
// checkpoints, or a NEW-VIEW) and then caught up to by executing. From now
// on it can vouch for that state in its own state replies, and it reports
// the checkpoint stable, as the others did.
func (r *Replica) caughtUp() {
	snap := r.bank.Snapshot()
	if snap.Seq != r.stableSeq || snap.Digest != r.stableDigest {
		return
	}
	r.stableSnap = &snap
	r.env.Checkpointed(snap, true)
	r.env.Logf("caught up to the stable checkpoint n%d", snap.Seq)
	r.collectGarbage() // what it executed to get here, at or below the checkpoint, is collected
}

// collectGarbage drops what the stable checkpoint makes unnecessary.
func (r *Replica) collectGarbage() {
	for seq, e := range r.log {
		if seq <= r.stableSeq {
			if e.pp != nil {
				eachRequest(e.pp, func(req *lab.Request) { delete(r.ordered, keyOf(req)) })
			}
			delete(r.log, seq)
		}
	}
	r.archiveHistory(r.stableSeq)
	for seq := range r.snapshots {
		if seq <= r.stableSeq {
			delete(r.snapshots, seq)
		}
	}
	for seq := range r.votes {
		if seq <= r.stableSeq {
			delete(r.votes, seq)
		}
	}
	for seq := range r.follow {
		if seq <= r.stableSeq {
			delete(r.follow, seq)
		}
	}
}

const errNoProof = replicaError("no proof")

// checkProof verifies that proof shows seq stable: 2f+1 checkpoints at seq
// from distinct replicas with one digest. The genesis state needs none.
func checkProof(seq int, proof []lab.Checkpoint, n int) error {
	if seq == 0 {
		return nil
	}
	votes := map[lab.ID]lab.Checkpoint{}
	for _, c := range proof {
		if c.Seq != seq {
			return fmt.Errorf("the proof of checkpoint n%d holds a checkpoint for n%d", seq, c.Seq)
		}
		votes[c.Replica] = c
	}
	if _, ok := stableProof(votes, lab.Quorum(n)); !ok {
		return fmt.Errorf("checkpoint n%d: %w of 2f+1 = %d matching checkpoints from distinct replicas", seq, errNoProof, lab.Quorum(n))
	}
	return nil
}
