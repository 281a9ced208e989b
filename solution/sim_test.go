package solution_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader"
	"pbftlab/lab/sim"
	"pbftlab/solution"
)

// The same seed must give the same run, byte for byte, whatever else runs
// in the process; otherwise a failing seed could not be replayed.
func TestSameSeedSameTranscript(t *testing.T) {
	cases, err := grader.LoadCases(filepath.Join("..", "cases"))
	require.NoError(t, err)
	for _, c := range cases {
		t.Run(grader.Name(c), func(t *testing.T) {
			run := func() string {
				s, failures, err := sim.RunCase(c, solution.New, sim.Options{Seed: 7, Duplicate: 0.2})
				require.NoError(t, err)
				require.Empty(t, failures)
				return s.Trace().Transcript(true)
			}
			first, second := run(), run()
			assert.Equal(t, first, second)
			if os.Getenv("PBFTLAB_SHOW_TRANSCRIPT") != "" {
				t.Log("\n" + first)
			}
		})
	}
}

// BenchmarkSimulator measures how many requests the reference commits per
// second of one core in the simulator, with automatic votes and every
// message encoded and decoded on the way.
func BenchmarkSimulator(b *testing.B) {
	s := sim.New(solution.New, sim.Options{Seed: 1, Quiet: true, Window: 1 << 30})
	c := s.Client()
	const burst = 50
	b.ResetTimer()
	for sent := 0; sent < b.N; {
		k := min(burst, b.N-sent)
		for range k {
			c.Send("account=alice,amount=1,operation=deposit")
		}
		sent += k
		s.Settle()
	}
	b.StopTimer()
	require.NoError(b, s.Err())
	require.Equal(b, b.N, c.Answered(), "every request is answered")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(s.Delivered())/float64(b.N), "msgs/req")
}
