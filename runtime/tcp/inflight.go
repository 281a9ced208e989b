package tcp

import (
	"context"
	"sync"
)

// Inflight counts the messages sent between the endpoints of one process
// and not yet handled by their receiver. When a whole cluster runs in one
// process (the cluster command, a case replayed with run), a count of zero
// means the network has settled: every message sent has been handled and
// nothing else is moving until the next command. That is how a case is
// replayed step by step over TCP without guessing how long to wait.
type Inflight struct {
	mu      sync.Mutex
	n       int
	settled chan struct{} // closed while n == 0
}

// NewInflight returns a counter at zero.
func NewInflight() *Inflight {
	c := make(chan struct{})
	close(c)
	return &Inflight{settled: c}
}

func (f *Inflight) add(k int) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	prev := f.n
	f.n = max(0, f.n+k)
	switch {
	case prev == 0 && f.n > 0:
		f.settled = make(chan struct{})
	case prev > 0 && f.n == 0:
		close(f.settled)
	}
}

// Wait returns once nothing is in flight, or with ctx's error.
func (f *Inflight) Wait(ctx context.Context) error {
	for {
		f.mu.Lock()
		n, c := f.n, f.settled
		f.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-c:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Pending is the number of messages in flight.
func (f *Inflight) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}
