package sim

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"pbftlab/ckptfile"
	"pbftlab/lab"
)

// Epoch is the time of tick 0 in the checkpoint files the simulator writes;
// tick t is Epoch plus t seconds. Time stamps therefore come from the run,
// not from the machine, and the same seed writes the same files.
func Epoch() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// Clock returns the simulated time: Epoch plus one second per tick.
func (s *Cluster) Clock() time.Time { return Epoch().Add(time.Duration(s.now) * time.Second) }

// checkpointState is what the simulator keeps about checkpoints: the
// lab's files and, for the safety check, which replicas reported taking a
// checkpoint with each (sequence number, digest).
type checkpointState struct {
	mem    *ckptfile.Mem // nil when Options.Files sends the files elsewhere
	writer *ckptfile.Writer
	taken  map[takenKey][]lab.ID
}

type takenKey struct {
	seq    int
	digest string
}

func (s *Cluster) initCheckpoints() {
	fs := s.opts.Files
	if fs == nil {
		s.ckpt.mem = ckptfile.NewMem()
		fs = s.ckpt.mem
	}
	s.ckpt.writer = ckptfile.NewWriter(fs, s.opts.N, s.Clock)
	s.ckpt.taken = map[takenKey][]lab.ID{}
}

// CheckpointFiles returns the in-memory folder holding the lab's checkpoint
// files, or nil when Options.Files sent them elsewhere.
func (s *Cluster) CheckpointFiles() *ckptfile.Mem { return s.ckpt.mem }

// FinalCheckpoint reads the newest final checkpoint file back; cases check
// the file itself rather than what the simulator meant to write in it.
func (s *Cluster) FinalCheckpoint() (string, ckptfile.Final, error) {
	if s.ckpt.mem == nil {
		return "", ckptfile.Final{}, errors.New("the checkpoint files went to Options.Files, which this check cannot read")
	}
	return s.ckpt.mem.LatestFinal()
}

// checkpointed handles a replica's report of a checkpoint: it goes to the
// trace and the files, and a checkpoint reported stable must have been
// taken, with the same digest, by 2f+1 replicas. A replica that counts f+1
// matching checkpoints as enough fails the run here, at the moment it
// does so.
func (s *Cluster) checkpointed(n *node, snap lab.Snapshot, stable bool) {
	if !stable && n.honest && (snap.Seq != n.given.LastExecuted() || snap.Digest != n.given.Digest()) {
		// A checkpoint taken is the replica's state as it is: one of any
		// other state would let replicas vouch for states none reached.
		s.fail(fmt.Errorf("%s reported taking a checkpoint at n%d (digest %s), but its bank is at n%d (digest %s): a checkpoint is a snapshot of the replica's own state when it takes it",
			n.id, snap.Seq, snap.Digest, n.given.LastExecuted(), n.given.Digest()))
		return
	}
	if n.honest {
		// The files and the state replies show a snapshot's contents:
		// they must be the state its digest names.
		if err := lab.NewBank(nil, nil).Restore(snap); err != nil {
			s.fail(fmt.Errorf("%s reported a checkpoint whose contents are not the state its digest names (%v): report the snapshot the bank made", n.id, err))
			return
		}
	}
	// The maps are the replica's, to change after the report: kept as
	// they are now.
	snap.Balances, snap.Clients = maps.Clone(snap.Balances), maps.Clone(snap.Clients)
	n.checkpoints = append(n.checkpoints, CheckpointReport{Snapshot: snap, Stable: stable, Time: s.now})
	if stable {
		n.heard.prune(snap.Seq)
		for seq := range n.executed { // a reply or state reply below it is not checked against it
			if seq <= snap.Seq {
				delete(n.executed, seq)
			}
		}
	}
	s.trace.event(Event{Kind: EventCheckpoint, From: n.id, To: n.id, Seq: snap.Seq, Stable: stable, Text: snap.Digest})
	if err := s.ckpt.writer.Report(n.id, snap, stable); err != nil {
		s.fail(err)
	}
	k := takenKey{snap.Seq, snap.Digest}
	if !stable {
		if !slices.Contains(s.ckpt.taken[k], n.id) {
			s.ckpt.taken[k] = append(s.ckpt.taken[k], n.id)
		}
		return
	}
	if takers := s.ckpt.taken[k]; n.honest && len(takers) < lab.Quorum(s.opts.N) {
		s.fail(fmt.Errorf("%s (%s) reported checkpoint n%d stable with digest %s, but only %d replicas [%s] reported taking a checkpoint with that digest: a checkpoint is stable at 2f+1 = %d matching digests",
			n.id, n.describeView(), snap.Seq, snap.Digest, len(takers), lab.JoinIDs(takers, " "), lab.Quorum(s.opts.N)))
	}
}

// describeView asks the replica for its view, for a failure message. It
// is called from inside the replica's own call, so a panic here is
// swallowed: the message matters more than the detail.
func (n *node) describeView() (s string) {
	defer func() {
		if recover() != nil {
			s = "view unknown"
		}
	}()
	st := n.replica.Status()
	return fmt.Sprintf("view %d", st.View)
}
