package ckptfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var tx = Tx{Seq: 100, View: 0, Client: "client7000", Timestamp: 17, Op: "account=alice,amount=1,operation=deposit", Committed: true, Result: "alice=100"}

func TestRecordRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		text string
	}{
		{"taken, with its view and transactions", Record{Time: epoch, Replica: 2, Seq: 100, Digest: "ab12",
			Context:  Context{Known: true, View: 1, Primary: 1, Transactions: []Tx{tx}},
			Balances: map[string]int{"bob": 5, "alice": 100}},
			"# Node P2 snapshot @ 2026-01-02 03:04:05 (view=1, leader=P1)\n" +
				"Checkpoint: n=100 digest=ab12 state=taken\n" +
				"Transactions: 1\n" +
				"  n100 v0 client7000#17 committed account=alice,amount=1,operation=deposit => alice=100\n" +
				"Balances: alice=100,bob=5\n"},
		{"stable, knowing nothing else", Record{Time: epoch, Replica: 0, Seq: 7, Digest: "ff", Stable: true, Balances: map[string]int{}},
			"# Node P0 snapshot @ 2026-01-02 03:04:05 (view=?, leader=?)\n" +
				"Checkpoint: n=7 digest=ff state=stable\n" +
				"Transactions: 0\n" +
				"Balances: -\n"},
		{"requested", Record{Time: epoch, Replica: 1, Seq: 3, Digest: "ee", Requested: true, Balances: map[string]int{"a": 1}},
			"# Node P1 snapshot @ 2026-01-02 03:04:05 (view=?, leader=?)\n" +
				"Checkpoint: n=3 digest=ee state=requested\n" +
				"Transactions: 0\n" +
				"Balances: a=1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.text, tt.rec.Format())
			got, err := ParseRecord(tt.text)
			require.NoError(t, err)
			assert.Equal(t, tt.rec, got)
		})
	}
}

func TestTransactionStatus(t *testing.T) {
	for _, tc := range []struct {
		tx   Tx
		want string
	}{
		{Tx{Committed: true, Result: "alice=5"}, "committed"},
		{Tx{Committed: true, Result: "rejected: insufficient funds"}, "rejected"},
		{Tx{Committed: true, Result: "duplicate: already executed"}, "rejected"},
		{Tx{Committed: false, Result: "aborted"}, "aborted"},
	} {
		assert.Equal(t, tc.want, tc.tx.Status(), tc.tx.Result)
		tc.tx.Client, tc.tx.Op = "c", "op with spaces"
		got, err := parseTx(tc.tx.format())
		require.NoError(t, err)
		assert.Equal(t, tc.tx, got)
	}
}

func TestParseRecordErrors(t *testing.T) {
	const head = "# Node P2 snapshot @ 2026-01-02 03:04:05 (view=0, leader=P0)\n"
	for _, text := range []string{
		"",
		"2026-01-02 03:04:05 P2 taken n=100 digest=ab12 balances=-",
		"# Node X2 snapshot @ 2026-01-02 03:04:05 (view=0, leader=P0)\nCheckpoint: n=1 digest=d state=taken\nBalances: -",
		head + "Checkpoint: n=1 digest=d state=maybe\nBalances: -",
		head + "Checkpoint: n=x digest=d state=taken\nBalances: -",
		head + "Checkpoint: n=1 digest=d state=taken\nBalances: alice",
		head + "Checkpoint: n=1 digest=d state=taken\n  n1 v0 c#1 maybe op => r\nBalances: -",
		"# Node P2 snapshot @ yesterday 03:04:05 (view=0, leader=P0)\nCheckpoint: n=1 digest=d state=taken",
	} {
		_, err := ParseRecord(text)
		assert.Error(t, err, text)
	}
}

func TestFinalRoundTrip(t *testing.T) {
	f := Final{Time: epoch, Seq: 1000, Digest: "d1", Reporter: 1, Replicas: []Snapshot{
		{Replica: 0, Time: epoch, Digest: "d1", Match: true, Context: Context{Known: true, View: 0, Primary: 0, Transactions: []Tx{tx}}, Balances: map[string]int{"alice": 1000}},
		{Replica: 1, Time: epoch, Digest: "d2", Match: false, Balances: map[string]int{}},
		{Replica: 2, Missing: true},
		{Replica: 3, Time: epoch, Digest: "d1", Match: true},
	}}
	text := f.Format()
	assert.Equal(t, "final checkpoint n=1000 digest=d1 time=20260102_030405 reported-by=P1\n"+
		"# Node P0 snapshot @ 2026-01-02 03:04:05 (view=0, leader=P0)\n"+
		"Checkpoint: n=1000 digest=d1 match=true\n"+
		"Transactions: 1\n"+
		"  n100 v0 client7000#17 committed account=alice,amount=1,operation=deposit => alice=100\n"+
		"Balances: alice=1000\n"+
		"# Node P1 snapshot @ 2026-01-02 03:04:05 (view=?, leader=?)\n"+
		"Checkpoint: n=1000 digest=d2 match=false\n"+
		"Transactions: 0\n"+
		"Balances: -\n"+
		"# Node P2 missing\n"+
		"# Node P3 snapshot @ 2026-01-02 03:04:05 (view=?, leader=?)\n"+
		"Checkpoint: n=1000 digest=d1 match=true\n"+
		"Transactions: 0\n"+
		"Balances: unknown\n", text)
	got, err := ParseFinal(text)
	require.NoError(t, err)
	assert.Equal(t, f, got)
	_, ok := got.Has(2)
	assert.False(t, ok, "a missing replica is not in the file")
	s, ok := got.Has(1)
	assert.True(t, ok)
	assert.False(t, s.Match)
}

func TestParseFinalErrors(t *testing.T) {
	const header = "final checkpoint n=1 digest=d time=20260102_030405 reported-by=P0\n"
	const head = "# Node P0 snapshot @ 2026-01-02 03:04:05 (view=0, leader=P0)\n"
	for _, text := range []string{
		"",
		"final n=1 digest=d time=20260102_030405 reported-by=P0",
		"final checkpoint n=1 digest=d time=yesterday reported-by=P0",
		header + head + "Checkpoint: n=2 digest=d match=true\nBalances: -",
		header + head + "Checkpoint: n=1 digest=d match=maybe\nBalances: -",
		header + "# Node P0 gone",
	} {
		_, err := ParseFinal(text)
		assert.Error(t, err, text)
	}
}

func TestNames(t *testing.T) {
	assert.Equal(t, "P3_checkpoints.log", ReplicaLog(3))
	assert.Equal(t, "final_checkpoint_20260102_030405.log", FinalName(epoch))
	assert.True(t, IsFinal(FinalName(epoch)))
	assert.False(t, IsFinal(ReplicaLog(0)))
}

func snap(seq int, digest string) lab.Snapshot {
	return lab.Snapshot{Seq: seq, Digest: digest, Balances: map[string]int{"alice": seq}}
}

func TestWriter(t *testing.T) {
	now := epoch
	mem := NewMem()
	w := NewWriter(mem, 4, func() time.Time { return now })

	// Snapshots taken before anything is stable go to the logs only.
	require.NoError(t, w.Report(0, snap(100, "a"), false))
	require.NoError(t, w.Report(1, snap(100, "a"), false))
	require.NoError(t, w.Report(3, snap(100, "x"), false))
	assert.Equal(t, "", w.FinalName())

	// The first stable report writes the final file; P2 has not reported.
	now = now.Add(time.Second)
	require.NoError(t, w.Report(1, snap(100, "a"), true))
	name, f, err := mem.LatestFinal()
	require.NoError(t, err)
	assert.Equal(t, FinalName(now), name)
	assert.Equal(t, 100, f.Seq)
	assert.Equal(t, lab.ID(1), f.Reporter)
	assert.Len(t, f.Replicas, 4)
	_, ok := f.Has(2)
	assert.False(t, ok)
	s3, _ := f.Has(3)
	assert.False(t, s3.Match, "P3's digest differs from the stable one")

	// A later snapshot at the same sequence number rewrites the same file.
	now = now.Add(time.Second)
	require.NoError(t, w.Report(2, snap(100, "a"), false))
	name2, f, err := mem.LatestFinal()
	require.NoError(t, err)
	assert.Equal(t, name, name2)
	s2, ok := f.Has(2)
	assert.True(t, ok)
	assert.True(t, s2.Match)

	// Older checkpoints no longer touch it; a newer stable one starts a new file.
	require.NoError(t, w.Report(0, snap(50, "old"), true))
	require.NoError(t, w.Report(0, snap(200, "b"), false))
	require.NoError(t, w.Report(0, snap(200, "b"), true))
	name3, f, err := mem.LatestFinal()
	require.NoError(t, err)
	assert.NotEqual(t, name, name3)
	assert.Equal(t, 200, f.Seq)
	assert.Len(t, mem.Names(), 6, "two final files and four replica logs")

	log, ok := mem.Read(ReplicaLog(0))
	require.True(t, ok)
	recs, err := ParseLog(log)
	require.NoError(t, err)
	assert.Len(t, recs, 4)
	assert.True(t, recs[3].Stable)
	assert.Equal(t, 200, recs[3].Seq)
}

func TestLatestFinalWithoutFile(t *testing.T) {
	_, _, err := NewMem().LatestFinal()
	assert.Error(t, err)
}

func TestFolder(t *testing.T) {
	dir := Folder(filepath.Join(t.TempDir(), Dir))
	w := NewWriter(dir, 4, func() time.Time { return epoch })
	require.NoError(t, w.Report(0, snap(100, "a"), false))
	require.NoError(t, w.Report(0, snap(100, "a"), true))
	log, err := os.ReadFile(filepath.Join(string(dir), ReplicaLog(0)))
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(log), "# Node P0 snapshot"))
	text, err := os.ReadFile(filepath.Join(string(dir), FinalName(epoch)))
	require.NoError(t, err)
	f, err := ParseFinal(string(text))
	require.NoError(t, err)
	_, ok := f.Has(0)
	assert.True(t, ok)
}

// Stable checkpoints within one second get files of their own: none
// replaces another.
func TestFinalNamesNeverCollide(t *testing.T) {
	mem := NewMem()
	w := NewWriter(mem, 1, func() time.Time { return epoch })
	for seq := 100; seq <= 1000; seq += 100 {
		require.NoError(t, w.Report(0, snap(seq, "d"), true))
	}
	var finals []string
	for _, n := range mem.Names() {
		if IsFinal(n) {
			finals = append(finals, n)
		}
	}
	assert.Len(t, finals, 10)
	assert.Contains(t, finals, FinalName(epoch), "the first keeps the original's name")
	_, f, err := mem.LatestFinal()
	require.NoError(t, err)
	assert.Equal(t, 1000, f.Seq, "the latest is the highest checkpoint, whatever the names")
}

func TestWriterContextAndSnapshots(t *testing.T) {
	mem := NewMem()
	w := NewWriter(mem, 2, func() time.Time { return epoch })
	history := []Tx{{Seq: 1, Committed: true, Result: "a=1"}, {Seq: 2, Committed: true, Result: "a=2"}, {Seq: 3, Committed: false, Result: "aborted"}}
	ctx := Context{Known: true, View: 1, Primary: 1, Transactions: history}
	require.NoError(t, w.ReportWith(0, snap(2, "d"), true, ctx))
	require.NoError(t, w.Snapshot(0, snap(3, "e"), ctx))
	text, _ := mem.Read(ReplicaLog(0))
	recs, err := ParseLog(text)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Len(t, recs[0].Transactions, 2, "the transactions up to the checkpoint")
	assert.Equal(t, []Tx{history[2]}, recs[1].Transactions, "only those since the stable checkpoint")
	assert.True(t, recs[1].Requested)
	_, f, err := mem.LatestFinal()
	require.NoError(t, err)
	assert.Equal(t, 2, f.Seq, "a requested snapshot makes no final file")

	// P1's CHECKPOINT carried a digest only; its balances are gathered.
	w.Gather = func(id lab.ID, seq int) (Record, bool) {
		return Record{Replica: id, Seq: seq, Digest: "d", Balances: map[string]int{"alice": 2}}, id == 1
	}
	require.NoError(t, w.Report(1, lab.Snapshot{Seq: 2, Digest: "d"}, false))
	_, f, err = mem.LatestFinal()
	require.NoError(t, err)
	s1, ok := f.Has(1)
	require.True(t, ok)
	assert.Equal(t, map[string]int{"alice": 2}, s1.Balances)

	require.NoError(t, w.Recovered(Recovered{Replica: 1, StableSeq: 2, StableDigest: "d", LastExecuted: 3, Context: ctx, Balances: map[string]int{"alice": 2}}))
	rec, ok := mem.Read(RecoveredLog(1))
	require.True(t, ok)
	assert.Contains(t, rec, "# Node P1 recovered @ 2026-01-02 03:04:05 (view=1, leader=P1)")
	assert.Contains(t, rec, "executed=3 from=state-transfer")
}

// What a replica chose stays on its own line: an account or an operation
// with a line break in it cannot write a block in another replica's name.
func TestRecordKeepsAReplicasStringsOnTheirLines(t *testing.T) {
	forged := "x\n# Node P3 snapshot @ 2026-01-02 03:04:05 (view=0, leader=P0)\nCheckpoint: n=1 digest=d state=taken"
	rec := Record{Time: epoch, Replica: 0, Seq: 1, Digest: "d",
		Context:  Context{Transactions: []Tx{{Seq: 1, Client: "c", Timestamp: 1, Op: "account=" + forged + ",amount=1,operation=deposit", Committed: true, Result: "ok"}}},
		Balances: map[string]int{forged: 1, "a,b=c": 2}}
	text := rec.Format()
	assert.Equal(t, 1, strings.Count(text, "\n# Node")+boolInt(strings.HasPrefix(text, "# Node")), "one block:\n%s", text)
	assert.NotContains(t, text, "\n# Node P3")
	assert.Contains(t, text, `"a,b=c"=2`, "a key that would read as two is quoted")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
