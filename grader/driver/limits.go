package driver

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"
)

// Limits bound every stage of a grade, so that no submission can hang it,
// flood it or exhaust the machine: whatever it does, the grade ends, and
// ends with reports.
type Limits struct {
	Total time.Duration // the whole grade; past it, what has not run is reported as not run
	Build time.Duration // compiling the suite: a compile-time bound
	// BuildMemory caps the address space of the go command and of each
	// compiler and linker it starts (RLIMIT_AS where the system has it):
	// generic code can make the compiler instantiate without end.
	BuildMemory uint64
	List        time.Duration // the dry run that lists the specs
	Stall       time.Duration // a test process in which no spec finishes for this long is stopped; 0 derives it from the seeds
	Memory      uint64        // address space of a test process, in bytes (RLIMIT_AS where the system has it)
	GoMem       string        // GOMEMLIMIT of a test process: the Go runtime collects harder before the hard limit
	Output      int           // a test process's output kept in memory: its first and last output/2 bytes
	Log         int64         // suite.log on disk, for the whole grade
	Binary      int64         // the test binary's size: what a huge static array would make it
}

// DefaultLimits are generous for any honest replica: the reference's whole
// grade takes seconds, uses 80 MB and prints a few kilobytes. The build
// limit leaves room for a cold build cache, where the kit's own packages
// compile too.
func DefaultLimits() Limits {
	return Limits{
		Total: 20 * time.Minute,
		Build: 5 * time.Minute,
		// The whole kit, standard library included, builds in 1 GiB.
		BuildMemory: 2 << 30,
		List:        time.Minute,
		Memory:      3 << 30,
		GoMem:       "1GiB",
		Output:      256 << 10,
		Log:         8 << 20,
		Binary:      256 << 20,
	}
}

// addLimitFlags adds the limits a TA may want to change.
func addLimitFlags(fs *flag.FlagSet, l *Limits) {
	fs.DurationVar(&l.Total, "timeout", l.Total, "bound on the whole grade; what has not run by then is reported as not run")
	fs.DurationVar(&l.Build, "build-timeout", l.Build, "bound on compiling the tree")
	fs.Func("memory", fmt.Sprintf("address space of each test process, in MiB (default %d)", l.Memory>>20), func(s string) error {
		var mib uint64
		if _, err := fmt.Sscan(s, &mib); err != nil || mib < 1024 {
			return fmt.Errorf("want a number of MiB, at least 1024 (the Go runtime reserves address space up front)")
		}
		l.Memory = mib << 20
		return nil
	})
}

// stallLimit is how long a test process may go without finishing a spec.
// The grader stops a stuck spec itself after its own limit (10 s plus 2 s
// a seed); this catches what it cannot: a process that no longer gets
// there at all.
func (l Limits) stallLimit(runs int) time.Duration {
	if l.Stall > 0 {
		return l.Stall
	}
	return 10*time.Second + time.Duration(runs)*2*time.Second + 20*time.Second
}

// headTail keeps the first and the last max/2 bytes written to it, and
// counts what it left out between them: the start of a process's output
// says what it was doing, the end how it died.
type headTail struct {
	mu    sync.Mutex
	max   int
	head  []byte
	tail  []byte // a window of the last bytes, trimmed as it grows
	total int64
}

func newHeadTail(max int) *headTail { return &headTail{max: max} }

func (h *headTail) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n0 := len(p)
	h.total += int64(len(p))
	half := h.max / 2
	if room := half - len(h.head); room > 0 {
		n := min(room, len(p))
		h.head = append(h.head, p[:n]...)
		p = p[n:]
	}
	h.tail = append(h.tail, p...)
	if len(h.tail) > 2*half {
		h.tail = append(h.tail[:0], h.tail[len(h.tail)-half:]...)
	}
	return n0, nil
}

// String is what was kept, with a note of what was cut.
func (h *headTail) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	tail := h.tail
	if half := h.max / 2; len(tail) > half {
		tail = tail[len(tail)-half:]
	}
	var b bytes.Buffer
	b.Write(h.head)
	if cut := h.total - int64(len(h.head)) - int64(len(tail)); cut > 0 {
		fmt.Fprintf(&b, "\n[... %d bytes of output left out here ...]\n", cut)
	}
	b.Write(tail)
	return b.String()
}

// cappedWriter passes on the first max bytes written to it and drops the
// rest, counting them; Close notes how much was dropped. A full disk is
// not a way to stop a grade.
type cappedWriter struct {
	mu      sync.Mutex
	w       io.Writer
	max     int64
	written int64
	dropped int64
}

func capWriter(w io.Writer, max int64) *cappedWriter { return &cappedWriter{w: w, max: max} }

func (c *cappedWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	if room := c.max - c.written; int64(len(p)) > room {
		c.dropped += int64(len(p)) - max(room, 0)
		p = p[:max(room, 0)]
	}
	if len(p) > 0 {
		_, _ = c.w.Write(p)
		c.written += int64(len(p))
	}
	return n, nil
}

// Close writes the note of what was dropped, if anything was.
func (c *cappedWriter) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dropped > 0 {
		_, err := fmt.Fprintf(c.w, "\n[pbftlab: %d more bytes of output were left out: this log keeps at most %d]\n", c.dropped, c.max)
		c.dropped = 0
		return err
	}
	return nil
}
