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

// LatestFinal returns the newest final checkpoint file in m: file names
// carry their time stamp, so the newest sorts last.
func (m *Mem) LatestFinal() (name string, f Final, err error) {
	for _, n := range m.Names() {
		if IsFinal(n) {
			name = n
		}
	}
	if name == "" {
		return "", f, errors.New("no final checkpoint file was written")
	}
	text, _ := m.Read(name)
	f, err = ParseFinal(text)
	return name, f, err
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
	// taken holds the snapshots reported at each sequence number not below
	// the final file's.
	taken     map[int]map[lab.ID]lab.Snapshot
	final     *Final
	finalName string
}

// NewWriter returns a writer for a cluster of n replicas that writes into fs
// and stamps records with clock.
func NewWriter(fs FS, n int, clock func() time.Time) *Writer {
	return &Writer{fs: fs, n: n, clock: clock, taken: map[int]map[lab.ID]lab.Snapshot{}}
}

// Report records what replica id passed to lab.Env.Checkpointed.
func (w *Writer) Report(id lab.ID, s lab.Snapshot, stable bool) error {
	now := w.clock()
	rec := Record{Time: now, Replica: id, Seq: s.Seq, Digest: s.Digest, Stable: stable, Balances: s.Balances}
	if err := w.fs.Append(ReplicaLog(id), rec.Format()+"\n"); err != nil {
		return fmt.Errorf("checkpoint log of %s: %w", id, err)
	}
	if w.final != nil && s.Seq < w.final.Seq {
		return nil
	}
	// A replica that reports a checkpoint stable holds that state too, even
	// when it got it by state transfer rather than by taking it.
	if _, ok := w.taken[s.Seq][id]; !ok {
		if w.taken[s.Seq] == nil {
			w.taken[s.Seq] = map[lab.ID]lab.Snapshot{}
		}
		w.taken[s.Seq][id] = s
	}
	switch {
	case stable && (w.final == nil || s.Seq > w.final.Seq):
		w.final = &Final{Time: now, Seq: s.Seq, Digest: s.Digest, Reporter: id}
		w.finalName = FinalName(now)
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

func (w *Writer) writeFinal() error {
	f := w.final
	f.Replicas = f.Replicas[:0]
	for i := range w.n {
		id := lab.ID(i)
		s, ok := w.taken[f.Seq][id]
		if !ok {
			f.Replicas = append(f.Replicas, Snapshot{Replica: id, Missing: true})
			continue
		}
		f.Replicas = append(f.Replicas, Snapshot{Replica: id, Digest: s.Digest, Match: s.Digest == f.Digest, Balances: s.Balances})
	}
	if err := w.fs.Write(w.finalName, f.Format()); err != nil {
		return fmt.Errorf("final checkpoint file: %w", err)
	}
	return nil
}

// FinalName is the name of the last final file written, "" before any.
func (w *Writer) FinalName() string { return w.finalName }
