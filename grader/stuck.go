package grader

import (
	"fmt"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"

	"pbftlab/sim"
)

// unwindGrace is how long the grader waits, once the simulator's watchdog
// has found a replica's call stuck, for the run to end by itself: it does
// at the replica's next call to its Env (see sim.StuckError). A run still
// going after that is in a loop that never calls the Env, and is given up.
const unwindGrace = 2 * time.Second

// A stuck call seen running its own code (sim.StuckError.Spinning) at
// spinLooks looks in a row, spinEvery apart, is given up before the grace
// ends (see awaitUnwind).
const (
	spinEvery = 50 * time.Millisecond
	spinLooks = 5
)

// forgetStuck drops news of stuck calls left over from earlier runs, so
// that what arrives during a run is about that run.
func forgetStuck() {
	for {
		select {
		case <-sim.StuckCalls():
		default:
			return
		}
	}
}

// awaitUnwind waits for a run whose call was found stuck to end, and
// returns what it played; when it does not end, the suite stops with the
// message abort makes, since the stuck goroutine cannot be stopped. It
// reports false when the spec was interrupted meanwhile.
func awaitUnwind(ctx ginkgo.SpecContext, done <-chan played, se *sim.StuckError, abort func() string) (played, bool) {
	grace := time.NewTimer(unwindGrace)
	defer grace.Stop()
	// A call that reaches its Env unwinds at once. One seen running its
	// own code at every look for spinLooks looks in a row never will: the
	// rest of the grace would only cost each such spec its time. A call
	// blocked in output or in Go's runtime may still return, and gets the
	// whole grace.
	look := time.NewTicker(spinEvery)
	defer look.Stop()
	spins := 0
	for {
		select {
		case p := <-done:
			return p, true
		case <-ctx.Done():
			return played{}, false
		case <-look.C:
			if spins++; !se.Spinning() {
				spins = 0
			}
			if spins < spinLooks {
				continue
			}
		case <-grace.C:
		}
		ginkgo.AbortSuite(abort())
		return played{}, false
	}
}

// stuckDetail is what a stuck call's stack shows, indented to sit under
// the failure line that names the call.
func stuckDetail(se *sim.StuckError) string {
	return strings.ReplaceAll(sim.ExplainStack(se.Stack), "\n", "\n  ")
}

// stuckAbort is the message of a spec given up because a call into the
// replica did not return and the run did not end within unwindGrace of
// being told to: a loop or a recursion that never calls the Env, or a
// loop that sent so much before it was stopped that the run could not
// finish delivering it. The stack says which.
func stuckAbort(name string, seed uint64, se *sim.StuckError, reproduce string) string {
	return fmt.Sprintf("%s did not finish with seed %d: %v, and the run did not end once told to (a loop or recursion that never ends: its stack, in the report, shows where)\n    %s\nreproduce: %s",
		name, seed, se, stuckDetail(se), reproduce)
}
