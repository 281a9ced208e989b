package sim

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"pbftlab/lab"
)

// A replica's call that does not return (an endless loop, a recursion that
// never ends) would otherwise stop the whole run without a word, or kill
// the process once the stack overflows, long after the call that caused
// it. A watchdog therefore follows every call the simulator makes into
// replica code. When one runs past its limit, the replica is stuck: the
// next time it calls its Env the call unwinds with a panic, the replica is
// marked failed with a StuckError naming the call and holding its stack, and
// the run ends as it does after any failure, transcript and reports
// included. A loop that never calls its Env cannot be unwound; the
// StuckError still reaches StuckCalls, for the grader to stop there.

// DefaultCallLimit is how long one call into replica code may run before the
// watchdog calls the replica stuck. A correct replica's call takes
// microseconds; the limit leaves room for a slow machine and a collector
// pause, and is far below a spec's own limit, so that the failure is the
// call's rather than the spec's.
const DefaultCallLimit = time.Second

// patrolEvery is how often the watchdog looks at the calls in progress.
const patrolEvery = 50 * time.Millisecond

// stuckLog receives one line for each stuck call, as it is found: when the
// process dies soon after (a stack overflow), the line still names the
// replica and the call. Standard error unless SetStuckLog says otherwise.
var stuckLog atomic.Pointer[io.Writer]

// SetStuckLog sends the lines of stuck calls to w instead of standard
// error, and returns where they went before; for tests that provoke them.
func SetStuckLog(w io.Writer) (old io.Writer) {
	if p := stuckLog.Swap(&w); p != nil {
		return *p
	}
	return os.Stderr
}

func stuckOut() io.Writer {
	if p := stuckLog.Load(); p != nil {
		return *p
	}
	return os.Stderr
}

// StuckError is a call into replica code that did not return in time.
type StuckError struct {
	Replica lab.ID
	Call    string        // "Receive(PREPARE v0 n1 from P0)", "Tick", "Do(prepare yes)"
	After   time.Duration // how long it had run when it was found stuck
	// Stack is the stuck goroutine's stack as the runtime prints it.
	Stack string
	// Unwound says whether the call was ended (at an Env call); when it
	// was not, the goroutine is still running.
	Unwound bool
	// Slow says that no one call ran past the limit, but the calls
	// together, each returning, held the run for After (see busyLimit).
	Slow  bool
	Calls uint64 // the calls made until then, when Slow
	call  uint64 // which call of its Cluster it was
	w     *watch // whose call it was
	gid   string // the stuck goroutine's number in Stack's header
}

// Spinning reports whether the stuck call is, at this moment, running its
// own code: it has neither returned nor reached an Env method (where it
// would have been unwound), its goroutine is on a processor or ready for
// one, and its innermost frame is the replica's, not Go's or the kit's. A
// call blocked in output, in the runtime or on a lock is not spinning: it
// may still return by itself.
func (e *StuckError) Spinning() bool {
	if e.w == nil || e.gid == "" || e.w.stuck.Load() != e {
		return false
	}
	for _, g := range goroutines() {
		if goroutineID(g) != e.gid {
			continue
		}
		return isRunning(g) && ownCodeInnermost(ParseStack(g))
	}
	return false
}

// ownCodeInnermost reports whether the innermost frame that is not the
// runtime's (an allocation, a map access, a preemption) or an inlined
// atomic is the replica's own code: a loop there, and not a call into a
// package such as fmt, which may be writing a long output.
func ownCodeInnermost(st Stack) bool {
	for _, f := range st.Frames {
		p := f.pkg()
		if p == "runtime" || p == "sync/atomic" || strings.HasPrefix(p, "internal/") {
			continue
		}
		return !kit(p)
	}
	return false
}

// goroutineID is the number in a goroutine's stack header ("goroutine 7
// [running]:"), or "".
func goroutineID(g string) string {
	rest, ok := strings.CutPrefix(g, "goroutine ")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, " ")
	return id
}

func (e *StuckError) Error() string {
	if e.Slow {
		return fmt.Sprintf("%s's calls took about %s in all over %d calls, each returning: too slow for a run a correct replica finishes in milliseconds (a slow loop, or much printing, in every call?)", e.Replica, e.After.Round(100*time.Millisecond), e.Calls)
	}
	return fmt.Sprintf("%s in %s did not return within %s", e.Replica, e.Call, e.After.Round(100*time.Millisecond))
}

// Explain is the error and what the replica's frames show: the functions
// of a recursion that never ends, once, or where a loop is.
func (e *StuckError) Explain() string {
	return e.Error() + ": " + ExplainStack(e.Stack)
}

var stuckCalls = make(chan *StuckError, 16)

// StuckCalls delivers each stuck call as the watchdog finds it, whatever
// Cluster it is in; when the channel is full, the news is dropped. The grader
// waits on it beside the run: a run whose call unwinds ends by itself, one
// that does not must be abandoned.
func StuckCalls() <-chan *StuckError { return stuckCalls }

// watch is what the watchdog knows of one Cluster's calls into replica code.
// The Cluster's goroutine writes it, the watchdog reads it, so every field the
// two share is atomic.
type watch struct {
	limit time.Duration
	calls atomic.Uint64 // calls begun so far
	depth atomic.Int32  // calls in progress: nested when replica code calls back
	// What the current call is: what for a call other than Receive, or
	// the message's sender, kind, view and sequence number (-1 when it has
	// none).
	what                atomic.Pointer[string]
	replica, from, kind atomic.Int32
	view, seq           atomic.Int64
	// stuck is set by the watchdog, and taken by the first Env call of
	// the stuck call.
	stuck atomic.Pointer[StuckError]
	// slow is set by the watchdog once the calls together took too long
	// (see busyLimit), and ends the next call as it begins.
	slow atomic.Pointer[StuckError]
	// busy counts the watchdog's looks that found a call in progress.
	busy int

	// The watchdog's own notes, touched by its goroutine only.
	seen    uint64    // the call last seen in progress
	since   time.Time // when it was first seen
	flagged uint64    // the last call found stuck
}

func newWatch(limit time.Duration) *watch {
	if limit == 0 {
		limit = DefaultCallLimit
	}
	w := &watch{limit: limit}
	if limit > 0 {
		dog.register(w)
	}
	return w
}

// begin records the start of a call other than Receive.
func (w *watch) begin(id lab.ID, what string) {
	w.what.Store(&what)
	w.replica.Store(int32(id))
	w.calls.Add(1)
	w.depth.Add(1)
	w.checkSlow()
}

// checkSlow ends a call as it begins once the replica's calls have been
// found too slow together: it unwinds like a stuck call, through the
// caller's catch, and the replica fails.
func (w *watch) checkSlow() {
	if se := w.slow.Load(); se != nil {
		panic(unwind{se})
	}
}

// beginReceive records the start of Receive(m) from from.
func (w *watch) beginReceive(id, from lab.ID, m lab.Message) {
	view, seq := int64(-1), int64(-1)
	switch m := m.(type) {
	case *lab.PrePrepare:
		view, seq = int64(m.View), int64(m.Seq)
	case *lab.Prepare:
		view, seq = int64(m.View), int64(m.Seq)
	case *lab.Commit:
		view, seq = int64(m.View), int64(m.Seq)
	case *lab.Checkpoint:
		seq = int64(m.Seq)
	case *lab.ViewChange:
		view = int64(m.View)
	case *lab.NewView:
		view = int64(m.View)
	case *lab.StateReply:
		view = int64(m.View)
	}
	w.what.Store(nil)
	w.replica.Store(int32(id))
	w.from.Store(int32(from))
	w.kind.Store(int32(lab.KindOf(m)))
	w.view.Store(view)
	w.seq.Store(seq)
	w.calls.Add(1)
	w.depth.Add(1)
	w.checkSlow()
}

// end records that the current call returned or unwound. A call found
// stuck that returned by itself after all is no longer stuck.
func (w *watch) end() {
	w.depth.Add(-1)
	if se := w.stuck.Load(); se != nil && se.call == w.calls.Load() {
		w.stuck.CompareAndSwap(se, nil)
	}
}

// unwind is the panic that ends a stuck call.
type unwind struct{ err *StuckError }

// poll is the first thing every Env method does: a stuck call ends here,
// with its own stack, which shows exactly where it was.
func (w *watch) poll() {
	se := w.stuck.Load()
	if se == nil || se.call != w.calls.Load() || !w.stuck.CompareAndSwap(se, nil) {
		return
	}
	own := *se
	own.Stack, own.Unwound = string(debug.Stack()), true
	panic(unwind{&own})
}

// describe names the current call, or reports false when another call
// began while it looked.
func (w *watch) describe(call uint64) (lab.ID, string, bool) {
	id := lab.ID(w.replica.Load())
	var what string
	if p := w.what.Load(); p != nil {
		what = *p
	} else {
		what = "Receive(" + lab.Kind(w.kind.Load()).String()
		if v := w.view.Load(); v >= 0 {
			what += fmt.Sprintf(" v%d", v)
		}
		if n := w.seq.Load(); n >= 0 {
			what += fmt.Sprintf(" n%d", n)
		}
		what += " from " + lab.ID(w.from.Load()).String() + ")"
	}
	return id, what, w.calls.Load() == call
}

// busyLimit and busyPerCall bound the calls of one run together: a
// replica whose calls each return within the call limit, but slowly (a
// tenth of a second in every Receive), would hold every spec to its own
// limit, and a whole grade past its. A run is too slow once its calls
// have been found in progress for busyLimit and took, on average, more
// than busyPerCall each; a correct replica's call takes microseconds, so
// the largest case, a thousand requests, stays far below both. The limit
// leaves room for one call that prints tens of megabytes into a slow pipe
// (about a second on a busy machine), which costs its spec nothing.
const (
	busyLimit   = 3 * time.Second
	busyPerCall = 200 * time.Microsecond
)

// inspect is the watchdog's look at one Cluster.
func (w *watch) inspect(now time.Time) {
	if w.depth.Load() <= 0 {
		w.seen = 0
		return
	}
	call := w.calls.Load()
	w.busy++
	if busy := time.Duration(w.busy) * patrolEvery; busy >= busyLimit && busy > busyPerCall*time.Duration(call) && w.slow.Load() == nil {
		id, _, _ := w.describe(call)
		w.slow.Store(&StuckError{Replica: id, Call: "its calls", After: busy, Slow: true, Calls: call, w: w})
		fmt.Fprintf(stuckOut(), "pbftlab: %v\n", w.slow.Load())
	}
	if call != w.seen {
		w.seen, w.since = call, now
		return
	}
	if call == w.flagged || now.Sub(w.since) < w.limit {
		return
	}
	id, what, ok := w.describe(call)
	if !ok {
		return
	}
	w.flagged = call
	stack := stuckGoroutine()
	se := &StuckError{Replica: id, Call: what, After: now.Sub(w.since), Stack: stack, call: call, w: w, gid: goroutineID(stack)}
	w.stuck.Store(se)
	fmt.Fprintf(stuckOut(), "pbftlab: %v\n", se)
	select {
	case stuckCalls <- se:
	default:
	}
}

// goroutines is the stack of every goroutine, one text each, up to a
// megabyte of them in all.
func goroutines() []string {
	buf := make([]byte, 1<<20)
	return splitGoroutines(string(buf[:runtime.Stack(buf, true)]))
}

// stuckGoroutine finds, among every goroutine's stack, the one inside a
// call into replica code that is running; the stuck call's own stack
// replaces it if the call reaches an Env method.
func stuckGoroutine() string {
	var found string
	for _, g := range goroutines() {
		if !inReplicaCall(g) {
			continue
		}
		if found == "" || isRunning(g) {
			found = g
		}
		if isRunning(g) {
			break
		}
	}
	return found
}

// dog is the one watchdog of the process. It follows every Cluster while the
// Cluster is in use, through a weak pointer, so that a Cluster nobody holds any
// more is forgotten, and it stops when there is none left.
var dog watchdog

type watchdog struct {
	mu      sync.Mutex
	watches []weak.Pointer[watch]
	running bool
}

func (d *watchdog) register(w *watch) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.watches = append(d.watches, weak.Make(w))
	if !d.running {
		d.running = true
		go d.patrol()
	}
}

func (d *watchdog) patrol() {
	t := time.NewTicker(patrolEvery)
	defer t.Stop()
	var ws []*watch
	for now := range t.C {
		ws = ws[:0]
		d.mu.Lock()
		live := d.watches[:0]
		for _, p := range d.watches {
			if w := p.Value(); w != nil {
				live = append(live, p)
				ws = append(ws, w)
			}
		}
		clear(d.watches[len(live):])
		d.watches = live
		if len(live) == 0 {
			d.running = false
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		for _, w := range ws {
			w.inspect(now)
		}
		clear(ws) // hold no Cluster alive until the next look
	}
}
