package solution_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader"
	"pbftlab/internal/cputime"
	"pbftlab/script"
	"pbftlab/sim"
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
				s, failures, err := script.RunCase(c, solution.New, sim.Options{Seed: 7, Duplicate: 0.2})
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
// message encoded and decoded on the way. The checkpoint interval and the
// window are the defaults (K = 100, L = 200), so the log stays small. A
// fresh cluster takes over every runLength requests: a replica's history
// (Status.History, every decided request) and the simulated client's record
// of every request grow with the run, as the grader needs them to, and a
// run far longer than any case would mostly measure the collector walking
// them. cpu-µs/req is the processor time per request: on a machine shared
// with other work, the wall-clock figures drop while it stays put.
func BenchmarkSimulator(b *testing.B) {
	for _, batch := range []int{0, 10, 100} {
		name := "lab"
		if batch > 0 {
			name = fmt.Sprintf("batch=%d", batch)
		}
		b.Run(name, func(b *testing.B) { benchSimulator(b, batch) })
	}
}

const runLength = 10_000

func benchSimulator(b *testing.B, batch int) {
	const burst = 50 // requests sent before the network settles
	delivered := 0
	cpu := cputime.Used()
	for done := 0; done < b.N; {
		s := sim.New(solution.New, sim.Options{Seed: uint64(done + 1), Quiet: true, BatchSize: batch})
		c := s.Client()
		run := min(runLength, b.N-done)
		for sent := 0; sent < run; {
			k := min(burst, run-sent)
			for range k {
				c.Send("account=alice,amount=1,operation=deposit")
			}
			sent += k
			s.Settle()
		}
		require.NoError(b, s.Err())
		require.Equal(b, run, c.Answered(), "every request is answered")
		delivered += s.Delivered()
		done += run
	}
	cpu = cputime.Used() - cpu
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(delivered)/float64(b.N), "msgs/req")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N), "cpu-µs/req")
	}
}
