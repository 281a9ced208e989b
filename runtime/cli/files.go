package cli

import (
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"pbftlab/ckptfile"
	"pbftlab/lab"
	"pbftlab/runtime/tcp"
)

// The lab's checkpoint files (package ckptfile has their formats): each
// replica appends to checkpoints/<ID>_checkpoints.log a block for every
// checkpoint it takes or sees become stable, and for every checkpoint
// command typed at it; the primary gathers the snapshots of a stable
// checkpoint into checkpoints/final_checkpoint_<YYYYMMDD_HHMMSS>.log; a
// replica that catches up by state transfer writes what it adopted to
// checkpoints/<ID>_recovered_from_checkpoint.log.

// files is one writer shared by the replicas whose files it writes: every
// replica of a cluster in one process, or the one replica of a process.
// Replicas report from their own goroutines, and the checkpoint command
// from the console's, hence the lock.
type files struct {
	mu   sync.Mutex
	w    *ckptfile.Writer
	mem  *ckptfile.Mem // when the files are kept in memory
	dir  string        // where they are on disk, for messages
	note func(string)
}

// newFiles writes into dir, or into memory when dir is empty; fs, when
// not nil, stands between the writer and the folder.
func newFiles(dir string, n int, note func(string), wrap func(ckptfile.Folder) ckptfile.FS) *files {
	f := &files{note: note, dir: dir}
	var fs ckptfile.FS
	if dir == "" {
		f.mem = ckptfile.NewMem()
		fs = f.mem
	} else if wrap != nil {
		fs = wrap(ckptfile.Folder(dir))
	} else {
		fs = ckptfile.Folder(dir)
	}
	f.w = ckptfile.NewWriter(fs, n, time.Now)
	return f
}

func (f *files) do(what func(w *ckptfile.Writer) error) {
	f.mu.Lock()
	err := what(f.w)
	f.mu.Unlock()
	if err != nil && f.note != nil {
		f.note(fmt.Sprintf("checkpoint files: %v", err))
	}
}

// report is what a replica reported through lab.Env.Checkpointed, with its
// status at that moment.
func (f *files) report(id lab.ID, s lab.Snapshot, stable bool, st lab.Status) {
	f.do(func(w *ckptfile.Writer) error { return w.ReportWith(id, s, stable, contextOf(st)) })
}

// snapshot writes the snapshot the checkpoint command asks for.
func (f *files) snapshot(id lab.ID, s lab.Snapshot, st lab.Status) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.w.Snapshot(id, s, contextOf(st)); err != nil {
		return "", err
	}
	where := ckptfile.ReplicaLog(id)
	if f.dir != "" {
		where = filepath.Join(f.dir, where)
	}
	return fmt.Sprintf("%s (n%d, digest %s)", where, s.Seq, s.Digest), nil
}

// contextOf is what a block says of a replica beside its snapshot; a
// status that could not be read (View -1) says nothing.
func contextOf(st lab.Status) ckptfile.Context {
	if st.View < 0 {
		return ckptfile.Context{}
	}
	return ckptfile.ContextOf(st, 0, 0)
}

// FinalCheckpoint reads back the newest final checkpoint file, for a case's
// expectations; only files kept in memory can be read.
func (f *files) FinalCheckpoint() (string, ckptfile.Final, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mem == nil {
		return "", ckptfile.Final{}, fmt.Errorf("the checkpoint files are on disk")
	}
	return f.mem.LatestFinal()
}

// replicaFiles watches one replica for its files. It sits between the node
// and the console's events: it sees the messages handed to the replica
// and each step's status. In a process of its own (peers true), the
// CHECKPOINT messages of the others tell it their digests, for the final
// file this replica writes while it is the primary, and their balances
// are read from their logs in the shared folder. A state reply that moves
// the replica forward is a recovery, written to the recovered file.
type replicaFiles struct {
	tcp.Observer
	f       *files
	id      lab.ID
	peers   bool
	primary lab.ID
	prev    lab.Status
	cause   lab.Kind
	bank    func() (lab.Snapshot, map[string]int)
}

func (r *replicaFiles) Delivered(from lab.ID, m lab.Message) {
	r.cause = lab.KindOf(m)
	if c, ok := m.(*lab.Checkpoint); ok && r.peers && c.Replica == from {
		r.f.do(func(w *ckptfile.Writer) error {
			return w.Report(from, lab.Snapshot{Seq: c.Seq, Digest: c.Digest}, false)
		})
	}
	r.Observer.Delivered(from, m)
}

func (r *replicaFiles) Stepped(st lab.Status) {
	r.primary = st.Primary
	moved := st.LastExecuted > r.prev.LastExecuted || st.View != r.prev.View || st.StableSeq > r.prev.StableSeq
	if r.cause == lab.KindStateReply && moved && r.bank != nil {
		snap, balances := r.bank()
		rec := ckptfile.Recovered{
			Replica: r.id, StableSeq: st.StableSeq, StableDigest: st.StableDigest, LastExecuted: snap.Seq,
			Context:  ckptfile.ContextOf(st, r.prev.LastExecuted, 0),
			Balances: balances,
		}
		r.f.do(func(w *ckptfile.Writer) error { return w.Recovered(rec) })
	}
	r.cause = 0
	r.prev = st
	r.Observer.Stepped(st)
}

// checkpointed is the node's Checkpointed hook.
func (r *replicaFiles) checkpointed(s lab.Snapshot, stable bool, st lab.Status) {
	r.f.report(r.id, s, stable, st)
}

// ownFiles lets a replica's process write only its own files, and the
// final file only while it is the primary: every process of a
// five-terminal cluster shares the checkpoints folder.
type ownFiles struct {
	ckptfile.Folder
	id    lab.ID
	final func() bool
}

func (o ownFiles) Append(name, text string) error {
	if name != ckptfile.ReplicaLog(o.id) && name != ckptfile.RecoveredLog(o.id) {
		return nil
	}
	return o.Folder.Append(name, text)
}

func (o ownFiles) Write(name, text string) error {
	if !o.final() {
		return nil
	}
	return o.Folder.Write(name, text)
}
