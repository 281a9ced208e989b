// Package ckptfile reads and writes the lab's checkpoint files. The original
// lab keeps them in a checkpoints/ folder:
//
//	checkpoints/P0_checkpoints.log                   one line per snapshot P0 took or saw become stable
//	checkpoints/final_checkpoint_20260101_000000.log every replica's snapshot at the last stable checkpoint
//
// The formats, the file names and a Writer that decides what goes where live
// here so that every runtime writes the same files: the TCP runtime into a
// real folder with the real clock, the simulator into memory with a clock
// derived from its ticks, so that a run is reproducible to the byte.
//
// Which component writes the final file: the runtime does, from the
// snapshots each replica reports through lab.Env.Checkpointed, never a
// replica on behalf of the others. A faulty replica can lie about its own
// state; it cannot put words into another replica's record.
package ckptfile

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"pbftlab/lab"
)

// Dir is the folder the lab's files go in, relative to where the runtime runs.
const Dir = "checkpoints"

// TimeLayout is how time stamps appear in file names.
const TimeLayout = "20060102_150405"

// lineTime is how time stamps appear inside files.
const lineTime = "2006-01-02 15:04:05"

// ReplicaLog is the name of the file replica id appends its snapshots to.
func ReplicaLog(id lab.ID) string { return id.String() + "_checkpoints.log" }

// FinalPrefix and FinalSuffix frame the name of a final checkpoint file.
const (
	FinalPrefix = "final_checkpoint_"
	FinalSuffix = ".log"
)

// FinalName is the name of the final checkpoint file written at t.
func FinalName(t time.Time) string { return FinalPrefix + t.UTC().Format(TimeLayout) + FinalSuffix }

// IsFinal reports whether name is a final checkpoint file's name.
func IsFinal(name string) bool {
	return strings.HasPrefix(name, FinalPrefix) && strings.HasSuffix(name, FinalSuffix)
}

// Record is one line of a replica's checkpoint log: a snapshot it took
// (Stable false) or a checkpoint it saw become stable.
type Record struct {
	Time     time.Time
	Replica  lab.ID
	Seq      int
	Digest   string
	Stable   bool
	Balances map[string]int
}

// Format renders r as one line, without the newline:
//
//	2026-01-01 00:00:00 P0 taken n=100 digest=3f2a... balances=alice=100,bob=5
func (r Record) Format() string {
	state := "taken"
	if r.Stable {
		state = "stable"
	}
	return fmt.Sprintf("%s %s %s n=%d digest=%s balances=%s", r.Time.UTC().Format(lineTime), r.Replica, state, r.Seq, r.Digest, formatBalances(r.Balances))
}

// ParseRecord reads a line written by Record.Format.
func ParseRecord(line string) (Record, error) {
	var r Record
	w := strings.Fields(line)
	if len(w) != 7 {
		return r, fmt.Errorf("checkpoint record %q: want 7 fields, got %d", line, len(w))
	}
	t, err := time.Parse(lineTime, w[0]+" "+w[1])
	if err != nil {
		return r, fmt.Errorf("checkpoint record %q: %v", line, err)
	}
	r.Time = t
	if r.Replica, err = lab.ParseID(w[2]); err != nil {
		return r, fmt.Errorf("checkpoint record %q: %v", line, err)
	}
	switch w[3] {
	case "taken":
	case "stable":
		r.Stable = true
	default:
		return r, fmt.Errorf("checkpoint record %q: %q is neither taken nor stable", line, w[3])
	}
	if r.Seq, r.Digest, r.Balances, err = parseState(w[4:]); err != nil {
		return r, fmt.Errorf("checkpoint record %q: %v", line, err)
	}
	return r, nil
}

// ParseLog reads a whole replica log.
func ParseLog(text string) ([]Record, error) {
	var out []Record
	for _, line := range lines(text) {
		r, err := ParseRecord(line)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Final is a final checkpoint file: the stable checkpoint and every
// replica's snapshot at its sequence number.
type Final struct {
	Time   time.Time
	Seq    int
	Digest string // the stable checkpoint's digest
	// Reporter is the replica whose report of a stable checkpoint made the
	// runtime write the file.
	Reporter lab.ID
	Replicas []Snapshot
}

// Snapshot is one replica's line in a final file. Missing means the
// replica reported no snapshot at the final file's sequence number.
type Snapshot struct {
	Replica  lab.ID
	Missing  bool
	Digest   string
	Match    bool // Digest equals the stable checkpoint's
	Balances map[string]int
}

// Has returns id's snapshot, if the file lists one for it.
func (f Final) Has(id lab.ID) (Snapshot, bool) {
	for _, s := range f.Replicas {
		if s.Replica == id && !s.Missing {
			return s, true
		}
	}
	return Snapshot{}, false
}

// Format renders the file:
//
//	final checkpoint n=1000 digest=3f2a... time=2026-01-01 00:00:00 reported-by=P0
//	P0 n=1000 digest=3f2a... match=true balances=alice=1000
//	P3 missing
func (f Final) Format() string {
	var b strings.Builder
	fmt.Fprintf(&b, "final checkpoint n=%d digest=%s time=%s reported-by=%s\n", f.Seq, f.Digest, f.Time.UTC().Format(TimeLayout), f.Reporter)
	for _, s := range f.Replicas {
		if s.Missing {
			fmt.Fprintf(&b, "%s missing\n", s.Replica)
			continue
		}
		fmt.Fprintf(&b, "%s n=%d digest=%s match=%t balances=%s\n", s.Replica, f.Seq, s.Digest, s.Match, formatBalances(s.Balances))
	}
	return b.String()
}

// ParseFinal reads a file written by Final.Format.
func ParseFinal(text string) (Final, error) {
	var f Final
	ls := lines(text)
	if len(ls) == 0 {
		return f, fmt.Errorf("final checkpoint file is empty")
	}
	head := strings.Fields(ls[0])
	if len(head) != 6 || head[0] != "final" || head[1] != "checkpoint" {
		return f, fmt.Errorf("final checkpoint header %q: want \"final checkpoint n=N digest=D time=T reported-by=PX\"", ls[0])
	}
	var err error
	if f.Seq, err = intField(head[2], "n"); err != nil {
		return f, err
	}
	if f.Digest, err = field(head[3], "digest"); err != nil {
		return f, err
	}
	ts, err := field(head[4], "time")
	if err != nil {
		return f, err
	}
	if f.Time, err = time.Parse(TimeLayout, ts); err != nil {
		return f, fmt.Errorf("final checkpoint time %q: %v", ts, err)
	}
	rep, err := field(head[5], "reported-by")
	if err != nil {
		return f, err
	}
	if f.Reporter, err = lab.ParseID(rep); err != nil {
		return f, err
	}
	for _, line := range ls[1:] {
		w := strings.Fields(line)
		if len(w) == 0 {
			continue
		}
		id, err := lab.ParseID(w[0])
		if err != nil {
			return f, fmt.Errorf("final checkpoint line %q: %v", line, err)
		}
		s := Snapshot{Replica: id}
		switch {
		case len(w) == 2 && w[1] == "missing":
			s.Missing = true
		case len(w) == 5:
			var seq int
			if seq, s.Digest, s.Balances, err = parseState([]string{w[1], w[2], w[4]}); err != nil {
				return f, fmt.Errorf("final checkpoint line %q: %v", line, err)
			}
			if seq != f.Seq {
				return f, fmt.Errorf("final checkpoint line %q: n=%d in a file for n=%d", line, seq, f.Seq)
			}
			m, err := field(w[3], "match")
			if err != nil {
				return f, err
			}
			if s.Match, err = strconv.ParseBool(m); err != nil {
				return f, fmt.Errorf("final checkpoint line %q: match=%q", line, m)
			}
		default:
			return f, fmt.Errorf("final checkpoint line %q: want \"PX n=N digest=D match=BOOL balances=...\" or \"PX missing\"", line)
		}
		f.Replicas = append(f.Replicas, s)
	}
	return f, nil
}

// parseState reads "n=N digest=D balances=a=1,b=2".
func parseState(w []string) (seq int, digest string, balances map[string]int, err error) {
	if len(w) != 3 {
		return 0, "", nil, fmt.Errorf("want n=, digest= and balances=")
	}
	if seq, err = intField(w[0], "n"); err != nil {
		return
	}
	if digest, err = field(w[1], "digest"); err != nil {
		return
	}
	b, err := field(w[2], "balances")
	if err != nil {
		return
	}
	balances, err = parseBalances(b)
	return
}

func field(s, key string) (string, error) {
	v, ok := strings.CutPrefix(s, key+"=")
	if !ok {
		return "", fmt.Errorf("%q: want %s=VALUE", s, key)
	}
	return v, nil
}

func intField(s, key string) (int, error) {
	v, err := field(s, key)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%q: %s is not a number", s, key)
	}
	return n, nil
}

// formatBalances renders balances sorted by account, "-" when there are none.
func formatBalances(b map[string]int) string {
	if len(b) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(b))
	for _, k := range slices.Sorted(maps.Keys(b)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, b[k]))
	}
	return strings.Join(parts, ",")
}

func parseBalances(s string) (map[string]int, error) {
	b := map[string]int{}
	if s == "-" {
		return b, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(item, "=")
		n, err := strconv.Atoi(v)
		if !ok || k == "" || err != nil {
			return nil, fmt.Errorf("balance %q: want ACCOUNT=AMOUNT", item)
		}
		b[k] = n
	}
	return b, nil
}

func lines(text string) []string {
	var out []string
	for line := range strings.SplitSeq(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}
