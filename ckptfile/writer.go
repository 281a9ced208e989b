package ckptfile

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"pbftlab/lab"
)

// FS is where checkpoint files go: a folder on disk (Folder) or memory (Mem).
type FS interface {
	// Append adds text at the end of the file, creating it if needed.
	Append(name, text string) error
	// Write replaces the file's contents.
	Write(name, text string) error
}

// Folder is a directory on disk, created on the first write.
type Folder string

// Append implements FS.
func (d Folder) Append(name, text string) error {
	if err := os.MkdirAll(string(d), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(string(d), name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	return errors.Join(err, f.Close())
}

// Write implements FS.
func (d Folder) Write(name, text string) error {
	if err := os.MkdirAll(string(d), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(string(d), name), []byte(text), 0o644)
}

// Mem keeps files in memory; the simulator uses it so that a run touches no
// disk and specs can read what it wrote.
type Mem struct{ files map[string]*strings.Builder }

// NewMem returns an empty in-memory folder.
func NewMem() *Mem { return &Mem{files: map[string]*strings.Builder{}} }

// Append implements FS.
func (m *Mem) Append(name, text string) error {
	b, ok := m.files[name]
	if !ok {
		b = &strings.Builder{}
		m.files[name] = b
	}
	b.WriteString(text)
	return nil
}

// Write implements FS.
func (m *Mem) Write(name, text string) error {
	b := &strings.Builder{}
	b.WriteString(text)
	m.files[name] = b
	return nil
}

// Names lists the files, sorted.
func (m *Mem) Names() []string { return slices.Sorted(maps.Keys(m.files)) }

// Read returns a file's contents and whether it exists.
func (m *Mem) Read(name string) (string, bool) {
	b, ok := m.files[name]
	if !ok {
		return "", false
	}
	return b.String(), true
}

// LatestFinal returns the final checkpoint file of the highest sequence
// number in m (the newest, as checkpoints only move forward).
func (m *Mem) LatestFinal() (name string, f Final, err error) {
	found := false
	for _, n := range m.Names() {
		if !IsFinal(n) {
			continue
		}
		text, _ := m.Read(n)
		g, err := ParseFinal(text)
		if err != nil {
			return n, g, err
		}
		if !found || g.Seq >= f.Seq {
			name, f, found = n, g, true
		}
	}
	if !found {
		return "", f, errors.New("no final checkpoint file was written")
	}
	return name, f, nil
}

// Exists implements Lister.
func (m *Mem) Exists(name string) bool { _, ok := m.files[name]; return ok }

// Exists implements Lister.
func (d Folder) Exists(name string) bool {
	_, err := os.Stat(filepath.Join(string(d), name))
	return err == nil
}

// Lister is an FS that can tell whether a file exists, so that a final
// file never replaces one written before (by another process, say).
type Lister interface {
	Exists(name string) bool
}

// Find reads replica id's log in d for its snapshot at seq: in five
// terminals, every process writes its own log in the shared folder, and
// the primary's final file gathers the others' balances from there, as
// the original's primary gathers every node's snapshot.
func (d Folder) Find(id lab.ID, seq int) (Record, bool) {
	text, err := os.ReadFile(filepath.Join(string(d), ReplicaLog(id)))
	if err != nil {
		return Record{}, false
	}
	recs, err := ParseLog(string(text))
	if err != nil {
		return Record{}, false
	}
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Seq == seq && !recs[i].Requested && recs[i].Balances != nil {
			return recs[i], true
		}
	}
	return Record{}, false
}

// Writer turns the checkpoints replicas report into the lab's files. Every
// report is appended to the reporting replica's log. When a replica reports
// a checkpoint stable that is newer than the last final file, the writer
// writes a final file for it, listing each replica's snapshot at that
// sequence number and whether its digest matches the stable one; snapshots
// reported later for the same sequence number rewrite that file in place,
// so it ends up naming every replica that took the checkpoint.
type Writer struct {
	fs    FS
	n     int
	clock func() time.Time
	// Gather, when set, finds a replica's snapshot that was reported
	// without its balances (a CHECKPOINT message carries a digest only).
	Gather func(id lab.ID, seq int) (Record, bool)
	// taken holds the snapshots reported at each sequence number not below
	// the final file's.
	taken     map[int]map[lab.ID]taken
	stable    map[lab.ID]int // the last stable checkpoint each replica reported
	final     *Final
	finalName string
	used      map[string]bool // final file names written
}

// taken is one replica's snapshot at a sequence number.
type taken struct {
	at   time.Time
	snap lab.Snapshot
	ctx  Context
}

// NewWriter returns a writer for a cluster of n replicas that writes into fs
// and stamps records with clock.
func NewWriter(fs FS, n int, clock func() time.Time) *Writer {
	return &Writer{fs: fs, n: n, clock: clock, taken: map[int]map[lab.ID]taken{}, stable: map[lab.ID]int{}, used: map[string]bool{}}
}

// Report records what replica id passed to lab.Env.Checkpointed, knowing
// nothing else of the replica.
func (w *Writer) Report(id lab.ID, s lab.Snapshot, stable bool) error {
	return w.ReportWith(id, s, stable, Context{})
}

// since keeps the transactions of c above id's last stable checkpoint and
// up to seq.
func (w *Writer) since(id lab.ID, seq int, c Context) Context {
	var keep []Tx
	for _, t := range c.Transactions {
		if t.Seq > w.stable[id] && t.Seq <= seq {
			keep = append(keep, t)
		}
	}
	c.Transactions = keep
	return c
}

// ReportWith is Report with what the runtime knows of the replica: its
// view, primary and transactions (those since its last stable checkpoint
// go in the block).
func (w *Writer) ReportWith(id lab.ID, s lab.Snapshot, stable bool, c Context) error {
	now := w.clock()
	c = w.since(id, s.Seq, c)
	rec := Record{Time: now, Replica: id, Seq: s.Seq, Digest: s.Digest, Stable: stable, Context: c, Balances: s.Balances}
	if err := w.fs.Append(ReplicaLog(id), rec.Format()); err != nil {
		return fmt.Errorf("checkpoint log of %s: %w", id, err)
	}
	if stable {
		w.stable[id] = max(w.stable[id], s.Seq)
	}
	if w.final != nil && s.Seq < w.final.Seq {
		return nil
	}
	// A replica that reports a checkpoint stable holds that state too, even
	// when it got it by state transfer rather than by taking it.
	if _, ok := w.taken[s.Seq][id]; !ok {
		if w.taken[s.Seq] == nil {
			w.taken[s.Seq] = map[lab.ID]taken{}
		}
		w.taken[s.Seq][id] = taken{at: now, snap: s, ctx: c}
	}
	switch {
	case stable && (w.final == nil || s.Seq > w.final.Seq):
		w.final = &Final{Time: now, Seq: s.Seq, Digest: s.Digest, Reporter: id}
		w.finalName = w.newFinalName(now, s.Seq)
		for seq := range w.taken {
			if seq < s.Seq {
				delete(w.taken, seq)
			}
		}
	case w.final != nil && s.Seq == w.final.Seq:
	default:
		return nil
	}
	return w.writeFinal()
}

// Snapshot appends to id's log a snapshot asked for with the checkpoint
// command: written whatever the protocol says, and never part of a final
// file, since no other replica vouches for it.
func (w *Writer) Snapshot(id lab.ID, s lab.Snapshot, c Context) error {
	c = w.since(id, s.Seq, c)
	rec := Record{Time: w.clock(), Replica: id, Seq: s.Seq, Digest: s.Digest, Requested: true, Context: c, Balances: s.Balances}
	if err := w.fs.Append(ReplicaLog(id), rec.Format()); err != nil {
		return fmt.Errorf("checkpoint log of %s: %w", id, err)
	}
	return nil
}

// Recovered appends to r.Replica's recovered file the state it adopted.
func (w *Writer) Recovered(r Recovered) error {
	r.Time = w.clock()
	if err := w.fs.Append(RecoveredLog(r.Replica), r.Format()); err != nil {
		return fmt.Errorf("recovered file of %s: %w", r.Replica, err)
	}
	return nil
}

// newFinalName names the final file of the checkpoint at seq written at
// t: the original's name, unless a file of that name exists already
// (two stable checkpoints within a second), then with the sequence
// number added, so no final file ever replaces another.
func (w *Writer) newFinalName(t time.Time, seq int) string {
	name := FinalName(t)
	l, canList := w.fs.(Lister)
	taken := func(n string) bool { return w.used[n] || (canList && l.Exists(n)) }
	if taken(name) {
		base := strings.TrimSuffix(name, FinalSuffix) + fmt.Sprintf("_n%d", seq)
		name = base + FinalSuffix
		for k := 2; taken(name); k++ {
			name = fmt.Sprintf("%s_%d%s", base, k, FinalSuffix)
		}
	}
	w.used[name] = true
	return name
}

func (w *Writer) writeFinal() error {
	f := w.final
	f.Replicas = f.Replicas[:0]
	for i := range w.n {
		id := lab.ID(i)
		tk, ok := w.taken[f.Seq][id]
		if !ok {
			f.Replicas = append(f.Replicas, Snapshot{Replica: id, Missing: true})
			continue
		}
		if tk.snap.Balances == nil && w.Gather != nil {
			if rec, found := w.Gather(id, f.Seq); found && rec.Digest == tk.snap.Digest {
				tk = taken{at: rec.Time, snap: lab.Snapshot{Seq: rec.Seq, Digest: rec.Digest, Balances: rec.Balances}, ctx: rec.Context}
				w.taken[f.Seq][id] = tk
			}
		}
		f.Replicas = append(f.Replicas, Snapshot{Replica: id, Time: tk.at, Digest: tk.snap.Digest, Match: tk.snap.Digest == f.Digest, Context: tk.ctx, Balances: tk.snap.Balances})
	}
	if err := w.fs.Write(w.finalName, f.Format()); err != nil {
		return fmt.Errorf("final checkpoint file: %w", err)
	}
	return nil
}

// FinalName is the name of the last final file written, "" before any.
func (w *Writer) FinalName() string { return w.finalName }
