package sim_test

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
	"pbftlab/sim"
)

// stuck is a replica whose calls can be made never to return.
type stuck struct {
	env lab.Env
	// onReceive, onTick and onDo run in place of doing nothing.
	onReceive func(r *stuck, m lab.Message)
	onTick    func(r *stuck)
	onDo      func(r *stuck)
	onStatus  func(r *stuck)
	depth     int
	// err is what Do returns.
	err error
}

func (r *stuck) Receive(_ lab.ID, m lab.Message) {
	if r.onReceive != nil {
		r.onReceive(r, m)
	}
}

func (r *stuck) Tick() {
	if r.onTick != nil {
		r.onTick(r)
	}
}

func (r *stuck) Do(c lab.Command) error {
	if r.onDo != nil {
		r.onDo(r)
	}
	if c.Op == lab.OpPropose {
		r.env.Broadcast(&lab.PrePrepare{View: 0, Seq: 1, Digest: lab.NullDigest})
	}
	return r.err
}

func (r *stuck) Status() lab.Status {
	if r.onStatus != nil {
		r.onStatus(r)
	}
	return lab.Status{}
}

// The three functions of a recursion that never ends, each calling its Env
// as real code does.
func (r *stuck) first()  { r.depth++; r.second() }
func (r *stuck) second() { r.env.Logf("depth %d", r.depth); r.third() }
func (r *stuck) third()  { r.first() }

// spin loops, calling its Env, until the test lets it go.
func (r *stuck) spin() {
	for {
		r.env.Logf("again")
	}
}

func build(setup func(id lab.ID, r *stuck)) lab.NewFunc {
	return func(cfg lab.Config, env lab.Env) lab.Replica {
		r := &stuck{env: env}
		setup(cfg.ID, r)
		return r
	}
}

func quiet(t *testing.T) {
	t.Helper()
	old := sim.SetStuckLog(io.Discard)
	t.Cleanup(func() { sim.SetStuckLog(old) })
	for len(sim.StuckCalls()) > 0 {
		<-sim.StuckCalls()
	}
}

func TestStuckCallsUnwindAndSayWhere(t *testing.T) {
	tests := []struct {
		name  string
		setup func(id lab.ID, r *stuck)
		act   func(s *sim.Cluster)
		call  string
		shows []string // in this order in the explanation
	}{{
		name: "a recursion in Receive",
		setup: func(id lab.ID, r *stuck) {
			if id == 1 {
				r.onReceive = func(r *stuck, m lab.Message) { r.first() }
			}
		},
		act:   func(s *sim.Cluster) { _ = s.Do(0, lab.Command{Op: lab.OpPropose}) },
		call:  "P1 in Receive(PRE-PREPARE v0 n1 from P0) did not return within",
		shows: []string{"a recursion that never ends", "third", "first", "second", "watchdog_test.go", "third", "and round again"},
	}, {
		name: "an endless loop in Tick",
		setup: func(id lab.ID, r *stuck) {
			if id == 2 {
				r.onTick = (*stuck).spin
			}
		},
		act:   func(s *sim.Cluster) { s.Tick() },
		call:  "P2 in Tick did not return within",
		shows: []string{"it was here (innermost first)", "spin", "Tick"},
	}, {
		name: "an endless loop in Do",
		setup: func(id lab.ID, r *stuck) {
			if id == 3 {
				r.onDo = (*stuck).spin
			}
		},
		act:   func(s *sim.Cluster) { _ = s.Do(3, lab.Command{Op: lab.OpPrepare, Vote: true}) },
		call:  "P3 in Do(prepare yes) did not return within",
		shows: []string{"spin", "Do"},
	}, {
		// The trace reads Status after each delivery: that call is
		// watched too, or a Status that loops only then would hold the
		// run until the spec's own limit.
		name: "an endless loop in Status, read for the trace",
		setup: func(id lab.ID, r *stuck) {
			if id == 1 {
				r.onStatus = (*stuck).spin
			}
		},
		act:   func(s *sim.Cluster) { _ = s.Do(0, lab.Command{Op: lab.OpPropose}) },
		call:  "P1 in Status did not return within",
		shows: []string{"spin", "Status"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			quiet(t)
			s := sim.New(build(tt.setup), sim.Options{CallLimit: 200 * time.Millisecond})
			tt.act(s)
			se, ok := errors.AsType[*sim.StuckError](s.Err())
			require.True(t, ok, "the run ends with a StuckError, not %v", s.Err())
			assert.True(t, se.Unwound)
			assert.Contains(t, se.Error(), tt.call)
			explained := se.Explain()
			at := 0
			for _, want := range tt.shows {
				i := strings.Index(explained[at:], want)
				require.GreaterOrEqual(t, i, 0, "%q after offset %d of:\n%s", want, at, explained)
				at += i + len(want)
			}
			assert.Contains(t, s.Trace().Transcript(true), "RUN STOPPED: "+se.Error(), "the transcript shows the run up to the stuck call")
			assert.Equal(t, se, s.Failure(se.Replica))
		})
	}
}

// A loop that never calls its Env cannot be unwound: the watchdog reports
// it all the same, with the loop's stack, and the run goes on if the call
// returns after all.
func TestStuckCallWithoutEnvIsReported(t *testing.T) {
	quiet(t)
	var release atomic.Bool
	s := sim.New(build(func(id lab.ID, r *stuck) {
		if id == 1 {
			r.onTick = func(r *stuck) { loopUntil(&release) }
		}
	}), sim.Options{CallLimit: 200 * time.Millisecond})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Tick()
	}()
	se := <-sim.StuckCalls()
	release.Store(true)
	<-done
	assert.Contains(t, se.Error(), "P1 in Tick did not return within")
	assert.False(t, se.Unwound)
	assert.Contains(t, se.Explain(), "loopUntil")
	assert.NoError(t, s.Err(), "a call that returned is not stuck any more")
}

// A stuck call spinning in the replica's own code is told apart from one
// blocked outside it (here on a channel, as a call blocked writing output
// would be), which may still return by itself.
// looping is an error, or a panic's value, whose text takes for ever.
type looping struct{ release *atomic.Bool }

func (l looping) Error() string  { loopUntil(l.release); return "at last" }
func (l looping) String() string { return l.Error() }

// TestReplicaValuesAreFormattedWatched: the error a replica returns and
// the value it panics with are the replica's values, whose methods are its
// code; one that never returns is a stuck call, found as any other.
func TestReplicaValuesAreFormattedWatched(t *testing.T) {
	for _, panics := range []bool{false, true} {
		t.Run(fmt.Sprintf("panics=%v", panics), func(t *testing.T) {
			quiet(t)
			var release atomic.Bool
			s := sim.New(build(func(id lab.ID, r *stuck) {
				if id == 1 {
					r.err = looping{&release}
					if panics {
						r.onDo = func(r *stuck) { panic(r.err) }
					}
				}
			}), sim.Options{CallLimit: 200 * time.Millisecond})
			done := make(chan error)
			go func() { done <- s.Do(1, lab.Command{Op: lab.OpProgress}) }()
			se := <-sim.StuckCalls()
			release.Store(true)
			err := <-done
			assert.Contains(t, se.Error(), "P1 in Do(progress) did not return within")
			if panics {
				assert.ErrorContains(t, err, "P1 panicked in Do(progress): at last")
			} else {
				assert.EqualError(t, err, "at last")
				_, same := err.(looping)
				assert.False(t, same, "the replica's own error went out")
			}
		})
	}
}

func TestStuckCallSpinning(t *testing.T) {
	for _, tc := range []struct {
		name     string
		spinning bool
		wait     func(release *atomic.Bool, unblock chan struct{})
	}{
		{"a loop in its own code", true, func(release *atomic.Bool, _ chan struct{}) { loopUntil(release) }},
		{"blocked outside its code", false, func(_ *atomic.Bool, unblock chan struct{}) { <-unblock }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			quiet(t)
			var release atomic.Bool
			unblock := make(chan struct{})
			s := sim.New(build(func(id lab.ID, r *stuck) {
				if id == 1 {
					r.onTick = func(r *stuck) { tc.wait(&release, unblock) }
				}
			}), sim.Options{CallLimit: 200 * time.Millisecond})
			done := make(chan struct{})
			go func() {
				defer close(done)
				s.Tick()
			}()
			se := <-sim.StuckCalls()
			// A spinning goroutine may be caught between two instructions
			// of the runtime's (a preemption): it is spinning when most
			// looks say so, and a blocked one never is.
			seen := 0
			for range 20 {
				if se.Spinning() {
					seen++
				}
			}
			if tc.spinning {
				assert.Greater(t, seen, 10, "looks that saw it spinning")
			} else {
				assert.Zero(t, seen, "looks that saw it spinning")
			}
			release.Store(true)
			close(unblock)
			<-done
			assert.False(t, se.Spinning(), "it returned")
		})
	}
}

// loopUntil busy-waits, without calling anything of the kit's.
func loopUntil(release *atomic.Bool) {
	for !release.Load() {
		spins++
	}
}

var spins int

func TestExplainStack(t *testing.T) {
	frame := func(fn, file string, line int) string {
		return fn + "(0xc000010000, 0x1)\n\t/home/me/pbftlab/" + file + ":" + strconv.Itoa(line) + " +0x1f\n"
	}
	kitFrames := frame("pbftlab/sim.(*node).receive", "sim/sim.go", 390) +
		frame("pbftlab/sim.(*Cluster).deliverOne", "sim/sim.go", 280)
	var cycle strings.Builder
	cycle.WriteString("goroutine 7 [running]:\n" + frame("runtime/debug.Stack", "debug/stack.go", 26) + frame("pbftlab/sim.(*node).Logf", "sim/sim.go", 495))
	for range 12 {
		cycle.WriteString(frame("pbftlab/skeleton.(*Replica).vote", "skeleton/prepare.go", 52))
		cycle.WriteString(frame("pbftlab/skeleton.(*Replica).autoVote", "skeleton/prepare.go", 36))
		cycle.WriteString(frame("pbftlab/skeleton.(*Replica).execute", "skeleton/commit.go", 70))
		cycle.WriteString(frame("pbftlab/skeleton.(*Replica).evaluatePrepare", "skeleton/prepare.go", 90))
	}
	cycle.WriteString("...12000 frames elided...\n")
	cycle.WriteString(frame("pbftlab/skeleton.(*Replica).onPrePrepare", "skeleton/preprepare.go", 95))
	cycle.WriteString(frame("pbftlab/skeleton.(*Replica).Receive", "skeleton/replica.go", 120) + kitFrames)
	cycle.WriteString("\ngoroutine 1 [chan receive]:\n" + frame("testing.(*T).Run", "testing/testing.go", 1)) // another goroutine: not read

	loop := "goroutine 9 [running]:\n" + frame("pbftlab/skeleton.(*Replica).waiting", "skeleton/timer.go", 40) +
		frame("pbftlab/skeleton.(*Replica).Tick", "skeleton/timer.go", 14) + kitFrames

	tests := []struct {
		name, stack string
		want        string
	}{{
		name:  "a recursion, once, in call order",
		stack: cycle.String(),
		want: "a recursion that never ends (12054 frames deep); it goes round\n" +
			"      evaluatePrepare      skeleton/prepare.go:90\n" +
			"      execute              skeleton/commit.go:70\n" +
			"      autoVote             skeleton/prepare.go:36\n" +
			"      vote                 skeleton/prepare.go:52\n" +
			"      evaluatePrepare      and round again",
	}, {
		name:  "a loop: the replica's frames",
		stack: loop,
		want: "it was here (innermost first)\n" +
			"      waiting              skeleton/timer.go:40\n" +
			"      Tick                 skeleton/timer.go:14",
	}, {
		name:  "no replica frame",
		stack: "goroutine 3 [running]:\n" + kitFrames,
		want:  "no frame of the replica's code is on its stack",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, sim.ExplainStack(tt.stack))
		})
	}
}

// A replica whose calls each return, but slowly, is stopped once they have
// held the run for busyLimit together: otherwise every spec would run to
// its own limit, and a grade past its.
func TestSlowCallsTogetherStopTheRun(t *testing.T) {
	quiet(t)
	s := sim.New(build(func(id lab.ID, r *stuck) {
		r.onTick = func(r *stuck) {
			for start := time.Now(); time.Since(start) < 100*time.Millisecond; {
			}
		}
	}), sim.Options{})
	for i := 0; i < 200 && s.Err() == nil; i++ {
		s.Tick()
	}
	se, ok := errors.AsType[*sim.StuckError](s.Err())
	require.True(t, ok, "the run ends with a StuckError, not %v", s.Err())
	assert.True(t, se.Slow)
	assert.Contains(t, se.Error(), "calls took about")
	assert.Contains(t, se.Error(), "too slow")
}
