package sim

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

func TestParseSchedule(t *testing.T) {
	for _, tc := range []struct {
		text, want, err string
	}{
		{text: "fifo", want: "fifo"},
		{text: "12:1,30:2", want: "12:1,30:2"},
		{text: " 3:1 , 4:5 ", want: "3:1,4:5"},
		{text: "reorder/fifo", want: "reorder/fifo"},
		{text: "reorder/2:3", want: "reorder/2:3"},
		{text: "reorder/", err: "empty schedule"},
		{text: "", err: "empty schedule"},
		{text: "12", err: "not a delay"},
		{text: "0:1", err: "not a delay"},
		{text: "3:0", err: "not a delay"},
		{text: "a:b", err: "not a delay"},
		{text: "5:1,5:2", err: "increasing order"},
		{text: "6:1,5:2", err: "increasing order"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			s, err := ParseSchedule(tc.text)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.String())
		})
	}
}

// echoes makes every replica answer each PREPARE it receives with one of
// its own, a few rounds deep, so that many messages are in flight at once
// and their order matters.
func echoes(f *fake) {
	f.onDo = broadcastOnDo
	f.onReceive = func(f *fake, from lab.ID, m lab.Message) {
		if p, ok := m.(*lab.Prepare); ok && p.Seq < 6 {
			f.env.Broadcast(&lab.Prepare{Seq: p.Seq + 3, Replica: f.id, Yes: true})
		}
	}
}

func received(fakes []*fake) [][]string {
	var out [][]string
	for _, f := range fakes {
		out = append(out, slices.Clone(f.got))
	}
	return out
}

func TestARecordedRunReplaysFromItsSchedule(t *testing.T) {
	for seed := range uint64(12) {
		opts := Options{Seed: seed, Reorder: seed%2 == 0, PCT: seed%3 == 0, Duplicate: 0.2, Record: true}
		s, fakes := cluster(t, opts, echoes)
		require.NoError(t, s.Do(0, lab.Command{Op: lab.OpProgress}))
		sched := s.Schedule()
		require.NotNil(t, sched)

		replay, again := cluster(t, Options{Seed: seed, Duplicate: 0.2, Schedule: sched}, echoes)
		require.NoError(t, replay.Do(0, lab.Command{Op: lab.OpProgress}))
		assert.Equal(t, received(fakes), received(again), "seed %d, schedule %s", seed, sched)
		assert.Equal(t, sched.String(), replay.Schedule().String())
	}
}

func TestTheCanonicalScheduleDeliversOldestFirst(t *testing.T) {
	var order []string
	s, _ := cluster(t, Options{Schedule: Canonical()}, func(f *fake) {
		echoes(f)
		inner := f.onReceive
		f.onReceive = func(f *fake, from lab.ID, m lab.Message) {
			order = append(order, fmt.Sprintf("%s>%s:%s", from, f.id, lab.Describe(m)))
			inner(f, from, m)
		}
	})
	require.NoError(t, s.Do(0, lab.Command{Op: lab.OpProgress}))
	// P0 broadcast n1, n2, n3 to P1, P2, P3 in that order; the first nine
	// deliveries are those, in the order they were sent.
	require.GreaterOrEqual(t, len(order), 9)
	assert.Equal(t, []string{
		"P0>P1:PREPARE v0 n1 yes", "P0>P2:PREPARE v0 n1 yes", "P0>P3:PREPARE v0 n1 yes",
		"P0>P1:PREPARE v0 n2 yes", "P0>P2:PREPARE v0 n2 yes", "P0>P3:PREPARE v0 n2 yes",
		"P0>P1:PREPARE v0 n3 yes", "P0>P2:PREPARE v0 n3 yes", "P0>P3:PREPARE v0 n3 yes",
	}, order[:9])
	assert.Equal(t, "fifo", s.Schedule().String())
}

func TestADelayLetsAYoungerMessageOvertake(t *testing.T) {
	var order []string
	sched, err := ParseSchedule("1:2")
	require.NoError(t, err)
	s, _ := cluster(t, Options{Schedule: sched}, func(f *fake) {
		f.onDo = broadcastOnDo
		f.onReceive = func(f *fake, from lab.ID, m lab.Message) {
			order = append(order, fmt.Sprintf("%s>%s:%s", from, f.id, lab.Describe(m)))
		}
	})
	require.NoError(t, s.Do(0, lab.Command{Op: lab.OpProgress}))
	assert.Equal(t, "P0>P3:PREPARE v0 n1 yes", order[0], "the first delivery overtakes the two older messages")
	assert.Equal(t, "P0>P1:PREPARE v0 n1 yes", order[1])
	assert.Contains(t, s.Trace().Transcript(true), "schedule: delivery 1")
}

func TestWithoutReorderADelayPassesWholeLinks(t *testing.T) {
	// P0 sends n1, n2, n3 to each backup. Links keep order, so however far
	// delivery 1 reaches it takes some link's n1; with reorder it may take
	// a later message of a link.
	first := func(text string) string {
		var order []string
		sched, err := ParseSchedule(text)
		require.NoError(t, err)
		s, _ := cluster(t, Options{Schedule: sched}, func(f *fake) {
			f.onDo = broadcastOnDo
			f.onReceive = func(f *fake, from lab.ID, m lab.Message) {
				order = append(order, fmt.Sprintf("%s>%s:%s", from, f.id, lab.Describe(m)))
			}
		})
		require.NoError(t, s.Do(0, lab.Command{Op: lab.OpProgress}))
		return order[0]
	}
	assert.Equal(t, "P0>P2:PREPARE v0 n1 yes", first("1:1"))
	assert.Equal(t, "P0>P3:PREPARE v0 n1 yes", first("1:5"), "beyond the last link it takes the last")
	assert.Equal(t, "P0>P2:PREPARE v0 n1 yes", first("reorder/1:1"))
	assert.Equal(t, "P0>P2:PREPARE v0 n2 yes", first("reorder/1:4"))
	assert.Equal(t, "P0>P3:PREPARE v0 n3 yes", first("reorder/1:50"))
}

func TestShrinkKeepsOnlyTheDelaysTheFailureNeeds(t *testing.T) {
	start := &Schedule{}
	for at := 1; at <= 40; at++ {
		start.Delays = append(start.Delays, Delay{at, 3})
	}
	// The failure needs delivery 7 to overtake at least two messages and
	// delivery 23 to overtake one.
	fails := func(s *Schedule) bool {
		var d7, d23 bool
		for _, d := range s.Delays {
			d7 = d7 || d.At == 7 && d.Rank >= 2
			d23 = d23 || d.At == 23 && d.Rank >= 1
		}
		return d7 && d23
	}
	require.True(t, fails(start))
	got := Shrink(start, 500, fails)
	assert.Equal(t, "7:2,23:1", got.String())

	// Out of budget, it returns the smallest failing schedule found so far.
	some := Shrink(start, 6, fails)
	assert.True(t, fails(some))
	assert.Less(t, len(some.Delays), len(start.Delays))
}

func TestExploreEnumeratesEveryScheduleWithinTheBound(t *testing.T) {
	names := func(ss []*Schedule) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.String())
		}
		return out
	}
	assert.Equal(t, []string{"fifo", "1:1", "2:1", "3:1"}, names(Explore(3, 1)))
	assert.ElementsMatch(t, []string{"fifo", "1:1", "2:1", "3:1", "1:2", "2:2", "3:2", "1:1,2:1", "1:1,3:1", "2:1,3:1"}, names(Explore(3, 2)))
	for _, s := range Explore(5, 3) {
		assert.LessOrEqual(t, s.Cost(), 3)
	}
}
