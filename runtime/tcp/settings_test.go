package tcp

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

func TestSettingsMismatch(t *testing.T) {
	lab4 := ReplicaSettings(4, lab.Config{}, map[string]int{"alice": 100})
	with := func(change func(s *Settings)) Settings {
		s := lab4
		change(&s)
		return s
	}
	for _, tc := range []struct {
		name   string
		theirs Settings
		want   string // the note, "" for settings that agree
	}{
		{name: "the same", theirs: lab4},
		{name: "defaults given or not", theirs: ReplicaSettings(4, lab.Config{CheckpointInterval: lab.DefaultCheckpointInterval, Window: lab.DefaultWindow}, map[string]int{"alice": 100, "bob": 0})},
		{name: "replicas", theirs: with(func(s *Settings) { s.N = 5 }),
			want: "P3 runs with 5 replicas, this replica with 4: start every process with the same peers file (--peers)"},
		{name: "checkpoint interval", theirs: with(func(s *Settings) { s.CheckpointInterval = 10 }),
			want: "P3 runs with checkpoint interval 10, this replica with 100: start every process with the same --checkpoint-interval"},
		{name: "window", theirs: with(func(s *Settings) { s.Window = 400 }),
			want: "P3 runs with window 400, this replica with 200: start every process with the same --window"},
		{name: "batch size", theirs: with(func(s *Settings) { s.BatchSize = 10 }),
			want: "P3 runs with batch size 10, this replica with 0: start every process with the same --batch"},
		{name: "no balances", theirs: with(func(s *Settings) { s.Balances = nil }),
			want: "P3 runs with starting balances none, this replica with alice=100: start every process with the same --balances"},
		{name: "other balances", theirs: with(func(s *Settings) { s.Balances = map[string]int{"bob": 5, "alice": 100} }),
			want: "P3 runs with starting balances alice=100,bob=5, this replica with alice=100: start every process with the same --balances"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Through the greeting's form, as a peer's settings arrive.
			theirs, rest, err := decodeSettings(encodeSettings(tc.theirs.describe()))
			require.NoError(t, err)
			require.Empty(t, rest)
			err = mismatch(3, lab4.describe(), theirs)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tc.want+" (the two do not connect until then)", err.Error())
		})
	}
}

// A replica without settings (a transport started without them) differs
// from one with, and says which setting the other gave.
func TestSettingsMissingOnOneSide(t *testing.T) {
	err := mismatch(1, nil, labSettings.describe())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "P1 runs with 4 replicas, this replica with (none given)")
}

// However many accounts start with money, the settings stay small: long
// balances are described by a digest, which still tells them apart.
func TestSettingsAreBounded(t *testing.T) {
	many := map[string]int{}
	for i := range 10000 {
		many[fmt.Sprintf("account%05d", i)] = i + 1
	}
	s := ReplicaSettings(4, lab.Config{}, many)
	b := encodeSettings(s.describe())
	assert.Less(t, len(b), 512)
	assert.Contains(t, describeBalances(many), "10000 accounts, digest ")

	many["account00000"]++
	assert.Error(t, mismatch(1, s.describe(), ReplicaSettings(4, lab.Config{}, many).describe()))
}

func TestDecodeSettingsRefusesMalformed(t *testing.T) {
	good := encodeSettings(labSettings.describe())
	for _, b := range [][]byte{nil, good[:len(good)-1], {maxSettings + 1}, {1, 5, 'a'}} {
		_, _, err := decodeSettings(b)
		assert.Error(t, err, "%q", b)
	}
}
