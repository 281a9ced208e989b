package grader

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSettingsCrossInOneVariable(t *testing.T) {
	t.Run("nothing set: the defaults", func(t *testing.T) {
		t.Setenv(SettingsEnv, "")
		st, err := ReadSettings()
		require.NoError(t, err)
		assert.Equal(t, DefaultSettings(), st)
	})
	t.Run("what the driver sets arrives, the defaults fill in the rest", func(t *testing.T) {
		sent := Settings{Seed: 7, Cases: "/tmp/cases", ScheduleText: "fifo", Tree: "skeleton", Submission: "subs/ada", ForStudent: true, Whole: true, Progress: "/tmp/p.jsonl", Report: "/tmp/r.json",
			Stress: &StressSettings{Seeds: 20, Dir: "/tmp/stress", Only: []string{"a", "b"}}}
		t.Setenv(SettingsEnv, sent.Encode())
		st, err := ReadSettings()
		require.NoError(t, err)
		want := sent
		want.Runs, want.Duplicate = 3, 0.2
		require.NotNil(t, st.Schedule, "the schedule arrives parsed")
		want.Schedule = st.Schedule
		assert.Equal(t, want, st)
	})
	for _, bad := range []struct{ value, why string }{
		{`{"runs": -1}`, "not a positive number of runs"},
		{`{"duplicate": 1}`, "not a probability"},
		{`{"stress": {"seeds": 0, "dir": "x"}}`, "not a positive number of seeds"},
		{`{"stress": {"seeds": 3}}`, "names no folder"},
		{`{"seed": "seven"}`, "is not a settings value"},
		{`{"schedule": "soon"}`, "the schedule"},
	} {
		t.Run(bad.value, func(t *testing.T) {
			t.Setenv(SettingsEnv, bad.value)
			_, err := ReadSettings()
			assert.ErrorContains(t, err, bad.why)
		})
	}
}

func TestShellWord(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"subs/ada", "subs/ada"},
		{"/tmp/x-1.2_a", "/tmp/x-1.2_a"},
		{"my sub", "'my sub'"},
		{"a$(echo hi)`b`", "'a$(echo hi)`b`'"},
		{"it's", `'it'\''s'`},
		{"", "''"},
	} {
		assert.Equal(t, tt.want, ShellWord(tt.in), tt.in)
	}
	st := Settings{Submission: "my sub $(x)", Cases: "/tmp/my cases"}
	assert.Equal(t, " SUBMISSION='my sub $(x)' CASES='/tmp/my cases'", st.ReplayTarget())
}
