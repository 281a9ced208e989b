package cli

import (
	"fmt"
	"sync"
	"time"

	"pbftlab/lab"
	"pbftlab/lab/ckptfile"
	"pbftlab/lab/tcp"
)

// The lab's checkpoint files (package ckptfile has their formats): each
// replica appends to checkpoints/<ID>_checkpoints.log every checkpoint it
// takes or sees become stable, and the primary gathers the snapshots of a
// stable checkpoint into checkpoints/final_checkpoint_<YYYYMMDD_HHMMSS>.log.

// replicaFiles writes the files of a replica that runs in a process of its
// own. It sits between the node and the console's events: the replica's
// own checkpoints go to its log, with their balances; the CHECKPOINT
// messages it receives tell it the others' digests, which the final file
// lists while this replica is the primary. Every method runs on the node's
// goroutine.
type replicaFiles struct {
	tcp.Observer
	id      lab.ID
	w       *ckptfile.Writer
	primary lab.ID
}

func newReplicaFiles(dir string, id lab.ID, n int, events tcp.Observer) *replicaFiles {
	f := &replicaFiles{Observer: events, id: id, primary: lab.Primary(0, n)}
	fs := ownFiles{dir: ckptfile.Folder(dir), own: ckptfile.ReplicaLog(id), final: func() bool { return f.primary == f.id }}
	f.w = ckptfile.NewWriter(fs, n, time.Now)
	return f
}

// Delivered passes the digest in a CHECKPOINT message to the writer, as
// the sender's snapshot (without its balances, which it does not send).
func (f *replicaFiles) Delivered(from lab.ID, m lab.Message) {
	if c, ok := m.(*lab.Checkpoint); ok && c.Replica == from {
		f.report(from, lab.Snapshot{Seq: c.Seq, Digest: c.Digest}, false)
	}
	f.Observer.Delivered(from, m)
}

// Stepped keeps track of the primary, which alone writes the final file.
func (f *replicaFiles) Stepped(st lab.Status) {
	f.primary = st.Primary
	f.Observer.Stepped(st)
}

// checkpointed is the node's Checkpointed hook.
func (f *replicaFiles) checkpointed(s lab.Snapshot, stable bool) { f.report(f.id, s, stable) }

func (f *replicaFiles) report(id lab.ID, s lab.Snapshot, stable bool) {
	if err := f.w.Report(id, s, stable); err != nil {
		f.Noted(fmt.Sprintf("checkpoint files: %v", err))
	}
}

// ownFiles lets a replica's process write only its own log, and the final
// file only while it is the primary: every process of a five-terminal
// cluster shares the checkpoints folder.
type ownFiles struct {
	dir   ckptfile.Folder
	own   string
	final func() bool
}

func (o ownFiles) Append(name, text string) error {
	if name != o.own {
		return nil
	}
	return o.dir.Append(name, text)
}

func (o ownFiles) Write(name, text string) error {
	if !o.final() {
		return nil
	}
	return o.dir.Write(name, text)
}

// clusterFiles writes the files of a whole cluster in one process: every
// replica's snapshots reach one writer, which lists them all in the final
// file. Replicas report from their own goroutines, hence the lock.
type clusterFiles struct {
	mu   sync.Mutex
	w    *ckptfile.Writer
	mem  *ckptfile.Mem // when the files are kept in memory
	note func(string)
}

// newClusterFiles writes into dir, or into memory when dir is empty.
func newClusterFiles(dir string, n int, note func(string)) *clusterFiles {
	c := &clusterFiles{note: note}
	var fs ckptfile.FS
	if dir == "" {
		c.mem = ckptfile.NewMem()
		fs = c.mem
	} else {
		fs = ckptfile.Folder(dir)
	}
	c.w = ckptfile.NewWriter(fs, n, time.Now)
	return c
}

func (c *clusterFiles) report(id lab.ID, s lab.Snapshot, stable bool) {
	c.mu.Lock()
	err := c.w.Report(id, s, stable)
	c.mu.Unlock()
	if err != nil && c.note != nil {
		c.note(fmt.Sprintf("checkpoint files: %v", err))
	}
}

// FinalCheckpoint reads back the newest final checkpoint file, for a case's
// expectations; only files kept in memory can be read.
func (c *clusterFiles) FinalCheckpoint() (string, ckptfile.Final, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mem == nil {
		return "", ckptfile.Final{}, fmt.Errorf("the checkpoint files are on disk")
	}
	return c.mem.LatestFinal()
}
