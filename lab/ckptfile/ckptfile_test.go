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

func TestRecordRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		line string
	}{
		{"taken", Record{Time: epoch, Replica: 2, Seq: 100, Digest: "ab12", Balances: map[string]int{"bob": 5, "alice": 100}},
			"2026-01-02 03:04:05 P2 taken n=100 digest=ab12 balances=alice=100,bob=5"},
		{"stable without balances", Record{Time: epoch, Replica: 0, Seq: 7, Digest: "ff", Stable: true, Balances: map[string]int{}},
			"2026-01-02 03:04:05 P0 stable n=7 digest=ff balances=-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.line, tt.rec.Format())
			got, err := ParseRecord(tt.line)
			require.NoError(t, err)
			assert.Equal(t, tt.rec, got)
		})
	}
}

func TestParseRecordErrors(t *testing.T) {
	for _, line := range []string{
		"",
		"2026-01-02 03:04:05 P2 taken n=100 digest=ab12",
		"2026-01-02 03:04:05 X2 taken n=100 digest=ab12 balances=-",
		"2026-01-02 03:04:05 P2 maybe n=100 digest=ab12 balances=-",
		"2026-01-02 03:04:05 P2 taken n=x digest=ab12 balances=-",
		"2026-01-02 03:04:05 P2 taken n=1 digest=ab12 balances=alice",
		"yesterday 03:04:05 P2 taken n=1 digest=ab12 balances=-",
	} {
		_, err := ParseRecord(line)
		assert.Error(t, err, line)
	}
}

func TestFinalRoundTrip(t *testing.T) {
	f := Final{Time: epoch, Seq: 1000, Digest: "d1", Reporter: 1, Replicas: []Snapshot{
		{Replica: 0, Digest: "d1", Match: true, Balances: map[string]int{"alice": 1000}},
		{Replica: 1, Digest: "d2", Match: false, Balances: map[string]int{}},
		{Replica: 2, Missing: true},
	}}
	text := f.Format()
	assert.Equal(t, "final checkpoint n=1000 digest=d1 time=20260102_030405 reported-by=P1\n"+
		"P0 n=1000 digest=d1 match=true balances=alice=1000\n"+
		"P1 n=1000 digest=d2 match=false balances=-\n"+
		"P2 missing\n", text)
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
	for _, text := range []string{
		"",
		"final n=1 digest=d time=20260102_030405 reported-by=P0",
		"final checkpoint n=1 digest=d time=yesterday reported-by=P0",
		"final checkpoint n=1 digest=d time=20260102_030405 reported-by=P0\nP0 n=2 digest=d match=true balances=-",
		"final checkpoint n=1 digest=d time=20260102_030405 reported-by=P0\nP0 n=1 digest=d match=maybe balances=-",
		"final checkpoint n=1 digest=d time=20260102_030405 reported-by=P0\nP0 gone",
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
	assert.Equal(t, 2, strings.Count(string(log), "\n"))
	text, err := os.ReadFile(filepath.Join(string(dir), FinalName(epoch)))
	require.NoError(t, err)
	f, err := ParseFinal(string(text))
	require.NoError(t, err)
	_, ok := f.Has(0)
	assert.True(t, ok)
}
