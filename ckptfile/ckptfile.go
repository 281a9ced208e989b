// Package ckptfile reads and writes the lab's checkpoint files. The original
// lab keeps them in a checkpoints/ folder:
//
//	checkpoints/P0_checkpoints.log                   a block per snapshot P0 took, saw become stable, or was asked for
//	checkpoints/final_checkpoint_20260101_000000.log every replica's snapshot at the last stable checkpoint
//	checkpoints/P3_recovered_from_checkpoint.log     the state P3 adopted when it recovered
//
// A snapshot block, in a replica's log and in the final file, is the
// original lab's (a "# Node P1 snapshot @ TIME (view=V, leader=P)" line,
// the transactions with their status and data, the balances) with the
// kit's sequence number, digest and, in the final file, whether the digest
// matches the stable one.
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
	"unicode"

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

// RecoveredLog is the name of the file replica id writes the state it
// adopted to when it recovers.
func RecoveredLog(id lab.ID) string { return id.String() + "_recovered_from_checkpoint.log" }

// Tx is one transaction in a snapshot block: what ran at a sequence
// number, its status and its data.
type Tx struct {
	Seq       int
	View      int
	Client    string
	Timestamp int64
	Op        string
	Committed bool
	Result    string
}

// TxOf is the transaction of a decided request.
func TxOf(o lab.Outcome) Tx {
	return Tx{Seq: o.Seq, View: o.View, Client: o.Request.Client, Timestamp: o.Request.Timestamp, Op: o.Request.Op, Committed: o.Committed, Result: o.Result}
}

// Status is the word a transaction's line shows: committed, rejected (run,
// and refused by the bank) or aborted.
func (t Tx) Status() string {
	switch {
	case !t.Committed:
		return "aborted"
	case strings.HasPrefix(t.Result, "rejected:"), strings.HasPrefix(t.Result, "duplicate:"):
		return "rejected"
	}
	return "committed"
}

// format writes "n99 v0 client7000#17 committed account=...,operation=deposit => alice=99".
func (t Tx) format() string {
	return oneLine(fmt.Sprintf("n%d v%d %s#%d %s %s => %s", t.Seq, t.View, t.Client, t.Timestamp, t.Status(), t.Op, t.Result))
}

// oneLine keeps what a replica chose (an account, a client's name, an
// operation) on the line it belongs to: a string with a line break or
// another character that does not print is written quoted, so that it
// cannot start a block of its own in the file.
func oneLine(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	return strconv.Quote(s)
}

func parseTx(line string) (Tx, error) {
	var t Tx
	head, result, ok := strings.Cut(line, " => ")
	w := strings.SplitN(head, " ", 5)
	if !ok || len(w) != 5 {
		return t, fmt.Errorf("transaction %q: want \"nN vV CLIENT#TS STATUS OPERATION => RESULT\"", line)
	}
	var err error
	if t.Seq, err = prefixedInt(w[0], "n"); err != nil {
		return t, fmt.Errorf("transaction %q: %v", line, err)
	}
	if t.View, err = prefixedInt(w[1], "v"); err != nil {
		return t, fmt.Errorf("transaction %q: %v", line, err)
	}
	i := strings.LastIndexByte(w[2], '#')
	if i < 0 {
		return t, fmt.Errorf("transaction %q: %q is not CLIENT#TIMESTAMP", line, w[2])
	}
	t.Client = w[2][:i]
	if t.Timestamp, err = strconv.ParseInt(w[2][i+1:], 10, 64); err != nil {
		return t, fmt.Errorf("transaction %q: %q is not CLIENT#TIMESTAMP", line, w[2])
	}
	switch w[3] {
	case "committed", "rejected":
		t.Committed = true
	case "aborted":
	default:
		return t, fmt.Errorf("transaction %q: status %q is not committed, rejected or aborted", line, w[3])
	}
	t.Op, t.Result = w[4], result
	if t.Status() != w[3] {
		return t, fmt.Errorf("transaction %q: status %s, but the result says %s", line, w[3], t.Status())
	}
	return t, nil
}

func prefixedInt(s, prefix string) (int, error) {
	v, ok := strings.CutPrefix(s, prefix)
	n, err := strconv.Atoi(v)
	if !ok || err != nil {
		return 0, fmt.Errorf("%q is not %sNUMBER", s, prefix)
	}
	return n, nil
}

// Context is what a runtime knows of a replica beside its snapshot: its
// view and primary, and the transactions it ran since its last stable
// checkpoint. The zero Context knows nothing, and blocks say so.
type Context struct {
	Known        bool // View and Primary are known
	View         int
	Primary      lab.ID
	Transactions []Tx
}

// ContextOf reads a replica's status: its view, its primary and the
// transactions above sequence number since, up to upTo (all when upTo is
// 0).
func ContextOf(st lab.Status, since, upTo int) Context {
	c := Context{Known: true, View: st.View, Primary: st.Primary}
	for _, o := range st.History {
		if o.Seq > since && (upTo == 0 || o.Seq <= upTo) {
			c.Transactions = append(c.Transactions, TxOf(o))
		}
	}
	return c
}

// block writes a snapshot block: the original's head line, then a line
// with the kit's facts, the transactions, the balances.
func (c Context) block(b *strings.Builder, t time.Time, id lab.ID, what, facts string, balances map[string]int) {
	view, leader := "?", "?"
	if c.Known {
		view, leader = strconv.Itoa(c.View), c.Primary.String()
	}
	fmt.Fprintf(b, "# Node %s %s @ %s (view=%s, leader=%s)\n", id, what, t.UTC().Format(lineTime), view, leader)
	fmt.Fprintf(b, "Checkpoint: %s\n", facts)
	fmt.Fprintf(b, "Transactions: %d\n", len(c.Transactions))
	for _, tx := range c.Transactions {
		fmt.Fprintf(b, "  %s\n", tx.format())
	}
	fmt.Fprintf(b, "Balances: %s\n", formatBalances(balances))
}

// parsed is a block read back.
type parsed struct {
	id       lab.ID
	what     string
	time     time.Time
	ctx      Context
	facts    []string
	balances map[string]int
}

// parseBlocks reads the blocks of a file, and returns apart the lines
// before the first one (a final file's header).
func parseBlocks(text string) ([]parsed, []string, error) {
	var out []parsed
	var before []string
	var cur *parsed
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(trimmed, "# Node "); ok {
			p, err := parseHead(rest)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, p)
			cur = &out[len(out)-1]
			continue
		}
		if cur == nil {
			before = append(before, trimmed)
			continue
		}
		switch {
		case strings.HasPrefix(trimmed, "Checkpoint: "):
			cur.facts = strings.Fields(strings.TrimPrefix(trimmed, "Checkpoint: "))
		case strings.HasPrefix(trimmed, "Transactions: "):
		case strings.HasPrefix(trimmed, "Balances: "):
			b, err := parseBalances(strings.TrimPrefix(trimmed, "Balances: "))
			if err != nil {
				return nil, nil, fmt.Errorf("block of %s: %v", cur.id, err)
			}
			cur.balances = b
		case strings.HasPrefix(line, "  "):
			tx, err := parseTx(trimmed)
			if err != nil {
				return nil, nil, fmt.Errorf("block of %s: %v", cur.id, err)
			}
			cur.ctx.Transactions = append(cur.ctx.Transactions, tx)
		default:
			return nil, nil, fmt.Errorf("block of %s: unexpected line %q", cur.id, trimmed)
		}
	}
	return out, before, nil
}

// parseHead reads "P1 snapshot @ 2026-01-02 03:04:05 (view=0, leader=P0)"
// or "P2 missing".
func parseHead(s string) (parsed, error) {
	var p parsed
	w := strings.Fields(s)
	if len(w) == 0 {
		return p, fmt.Errorf("block head %q: no replica", s)
	}
	id, err := lab.ParseID(w[0])
	if err != nil {
		return p, fmt.Errorf("block head %q: %v", s, err)
	}
	p.id = id
	if len(w) == 2 && w[1] == "missing" {
		p.what = "missing"
		return p, nil
	}
	if len(w) != 7 || w[2] != "@" {
		return p, fmt.Errorf("block head %q: want \"PX WHAT @ DATE TIME (view=V, leader=PY)\"", s)
	}
	p.what = w[1]
	if p.time, err = time.Parse(lineTime, w[3]+" "+w[4]); err != nil {
		return p, fmt.Errorf("block head %q: %v", s, err)
	}
	view, err := field(strings.TrimSuffix(strings.TrimPrefix(w[5], "("), ","), "view")
	if err != nil {
		return p, err
	}
	leader, err := field(strings.TrimSuffix(w[6], ")"), "leader")
	if err != nil {
		return p, err
	}
	if view != "?" {
		p.ctx.Known = true
		if p.ctx.View, err = strconv.Atoi(view); err != nil {
			return p, fmt.Errorf("block head %q: view %q", s, view)
		}
		if p.ctx.Primary, err = lab.ParseID(leader); err != nil {
			return p, fmt.Errorf("block head %q: %v", s, err)
		}
	}
	return p, nil
}

// Record is one block of a replica's checkpoint log: a snapshot it took
// (neither Stable nor Requested), a checkpoint it saw become stable, or a
// snapshot asked for with the checkpoint command (Requested).
type Record struct {
	Time      time.Time
	Replica   lab.ID
	Seq       int
	Digest    string
	Stable    bool
	Requested bool
	Context
	Balances map[string]int
}

func (r Record) state() string {
	switch {
	case r.Stable:
		return "stable"
	case r.Requested:
		return "requested"
	}
	return "taken"
}

// Format renders r as a block:
//
//	# Node P0 snapshot @ 2026-01-01 00:00:00 (view=0, leader=P0)
//	Checkpoint: n=100 digest=3f2a... state=taken
//	Transactions: 1
//	  n100 v0 client7000#17 committed account=alice,amount=1,operation=deposit => alice=100
//	Balances: alice=100
func (r Record) Format() string {
	var b strings.Builder
	r.block(&b, r.Time, r.Replica, "snapshot", fmt.Sprintf("n=%d digest=%s state=%s", r.Seq, r.Digest, r.state()), r.Balances)
	return b.String()
}

// ParseRecord reads one block written by Record.Format.
func ParseRecord(text string) (Record, error) {
	recs, err := ParseLog(text)
	if err != nil {
		return Record{}, err
	}
	if len(recs) != 1 {
		return Record{}, fmt.Errorf("checkpoint record: want one block, got %d", len(recs))
	}
	return recs[0], nil
}

// ParseLog reads a whole replica log.
func ParseLog(text string) ([]Record, error) {
	blocks, before, err := parseBlocks(text)
	if err != nil {
		return nil, err
	}
	if len(before) > 0 {
		return nil, fmt.Errorf("checkpoint log: %q is not in a block", before[0])
	}
	var out []Record
	for _, p := range blocks {
		r := Record{Time: p.time, Replica: p.id, Context: p.ctx, Balances: p.balances}
		if p.what != "snapshot" || len(p.facts) != 3 {
			return nil, fmt.Errorf("checkpoint log: the block of %s is not a snapshot with Checkpoint: n= digest= state=", p.id)
		}
		if r.Seq, err = intField(p.facts[0], "n"); err != nil {
			return nil, err
		}
		if r.Digest, err = field(p.facts[1], "digest"); err != nil {
			return nil, err
		}
		state, err := field(p.facts[2], "state")
		if err != nil {
			return nil, err
		}
		switch state {
		case "taken":
		case "stable":
			r.Stable = true
		case "requested":
			r.Requested = true
		default:
			return nil, fmt.Errorf("checkpoint log: state %q is not taken, stable or requested", state)
		}
		out = append(out, r)
	}
	return out, nil
}

// Recovered is what a replica adopted when it recovered: the stable
// checkpoint, the last sequence number executed, its view, what it ran by
// state transfer, and its balances.
type Recovered struct {
	Time         time.Time
	Replica      lab.ID
	StableSeq    int
	StableDigest string
	LastExecuted int
	Context
	Balances map[string]int
}

// Format renders the recovered file:
//
//	# Node P3 recovered @ 2026-01-01 00:00:00 (view=1, leader=P1)
//	Checkpoint: n=100 digest=3f2a... executed=105 from=state-transfer
//	Transactions: 5
//	  ...
//	Balances: alice=105
func (r Recovered) Format() string {
	var b strings.Builder
	r.block(&b, r.Time, r.Replica, "recovered", fmt.Sprintf("n=%d digest=%s executed=%d from=state-transfer", r.StableSeq, r.StableDigest, r.LastExecuted), r.Balances)
	return b.String()
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

// Snapshot is one replica's block in a final file. Missing means the
// replica reported no snapshot at the final file's sequence number.
// Balances is nil when the replica's digest is known but not its balances
// (in five terminals, a replica whose log could not be read).
type Snapshot struct {
	Replica lab.ID
	Missing bool
	Time    time.Time
	Digest  string
	Match   bool // Digest equals the stable checkpoint's
	Context
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
//	final checkpoint n=1000 digest=3f2a... time=20260101_000000 reported-by=P0
//	# Node P0 snapshot @ 2026-01-01 00:00:00 (view=0, leader=P0)
//	Checkpoint: n=1000 digest=3f2a... match=true
//	Transactions: 100
//	  ...
//	Balances: alice=1000
//	# Node P3 missing
func (f Final) Format() string {
	var b strings.Builder
	fmt.Fprintf(&b, "final checkpoint n=%d digest=%s time=%s reported-by=%s\n", f.Seq, f.Digest, f.Time.UTC().Format(TimeLayout), f.Reporter)
	for _, s := range f.Replicas {
		if s.Missing {
			fmt.Fprintf(&b, "# Node %s missing\n", s.Replica)
			continue
		}
		s.block(&b, s.Time, s.Replica, "snapshot", fmt.Sprintf("n=%d digest=%s match=%t", f.Seq, s.Digest, s.Match), s.Balances)
	}
	return b.String()
}

// ParseFinal reads a file written by Final.Format.
func ParseFinal(text string) (Final, error) {
	var f Final
	blocks, before, err := parseBlocks(text)
	if err != nil {
		return f, fmt.Errorf("final checkpoint file: %v", err)
	}
	if len(before) != 1 {
		return f, fmt.Errorf("final checkpoint file: want one header line before the blocks, got %d", len(before))
	}
	head := strings.Fields(before[0])
	if len(head) != 6 || head[0] != "final" || head[1] != "checkpoint" {
		return f, fmt.Errorf("final checkpoint header %q: want \"final checkpoint n=N digest=D time=T reported-by=PX\"", before[0])
	}
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
	for _, p := range blocks {
		s := Snapshot{Replica: p.id}
		switch {
		case p.what == "missing":
			s.Missing = true
		case p.what == "snapshot" && len(p.facts) == 3:
			s.Time, s.Context, s.Balances = p.time, p.ctx, p.balances
			seq, err := intField(p.facts[0], "n")
			if err != nil {
				return f, err
			}
			if seq != f.Seq {
				return f, fmt.Errorf("final checkpoint: the block of %s is at n=%d in a file for n=%d", p.id, seq, f.Seq)
			}
			if s.Digest, err = field(p.facts[1], "digest"); err != nil {
				return f, err
			}
			m, err := field(p.facts[2], "match")
			if err != nil {
				return f, err
			}
			if s.Match, err = strconv.ParseBool(m); err != nil {
				return f, fmt.Errorf("final checkpoint: the block of %s has match=%q", p.id, m)
			}
		default:
			return f, fmt.Errorf("final checkpoint: the block of %s is neither a snapshot with Checkpoint: n= digest= match= nor missing", p.id)
		}
		f.Replicas = append(f.Replicas, s)
	}
	return f, nil
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
	if b == nil {
		return "unknown"
	}
	if len(b) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(b))
	for _, k := range slices.Sorted(maps.Keys(b)) {
		name := oneLine(k)
		if strings.ContainsAny(name, ",=") {
			name = strconv.Quote(k) // a key that would read as two
		}
		parts = append(parts, fmt.Sprintf("%s=%d", name, b[k]))
	}
	return strings.Join(parts, ",")
}

func parseBalances(s string) (map[string]int, error) {
	if s == "unknown" {
		return nil, nil
	}
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
