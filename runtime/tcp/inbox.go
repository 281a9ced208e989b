package tcp

import (
	"cmp"
	"slices"
	"sync"
)

// inbox is what an endpoint has delivered from one run of one sender: the
// number of the last message, and the messages that arrived ahead of
// their turn. A message can overtake another only when one went as a
// datagram and the other on the connection, or when a datagram was lost;
// either way the one before it is still queued at the sender and comes,
// at worst when the sender writes it again.
type inbox struct {
	// mu is held from the choice of a message to its delivery, so that two
	// readers (the connection's and the datagram socket's) deliver one
	// sender's messages in order.
	mu    sync.Mutex
	last  uint64
	ahead []early // by number
	size  int     // bytes in ahead
}

// early is a message that arrived before its turn, copied.
type early struct {
	no, oldest uint64
	payload    []byte
}

// A sender's messages kept ahead of their turn are bounded; one more is
// dropped, and its sender writes it again when it is not acknowledged.
const (
	maxAhead      = 512
	maxAheadBytes = 16 << 20
)

// next says whether message no, sent while oldest was the oldest number
// its sender had, is the next to deliver after last (see frame heads in
// link.go).
func next(last, no, oldest uint64) bool {
	return no > last && (no == last+1 || no == oldest)
}

// take hands message fb, which arrived on l from the run from, to Deliver
// in its turn: now, with every message kept ahead that follows it, or
// later, kept. It acknowledges what has been delivered, in order.
func (t *Transport) take(l *link, from origin, fb frameBody) {
	t.mu.Lock()
	in := t.delivered[from]
	if in == nil {
		in = &inbox{}
		t.delivered[from] = in
	}
	t.mu.Unlock()

	in.mu.Lock()
	switch {
	case next(in.last, fb.no, fb.oldest):
		in.last = fb.no
		t.cfg.Deliver(l.peer, l.name, fb.payload)
		t.deliverAhead(l, in)
	case fb.no > in.last:
		in.keep(fb)
	}
	// Under mu, so that what two readers owe only grows.
	t.owe(l, in.last)
	in.mu.Unlock()
}

// deliverAhead delivers the messages kept ahead that are now next; in.mu
// is held.
func (t *Transport) deliverAhead(l *link, in *inbox) {
	for len(in.ahead) > 0 {
		i := slices.IndexFunc(in.ahead, func(e early) bool { return next(in.last, e.no, e.oldest) })
		if i < 0 {
			break
		}
		e := in.ahead[i]
		// Those before it are past: its sender has dropped them.
		for _, d := range in.ahead[:i+1] {
			in.size -= len(d.payload)
		}
		in.ahead = slices.Delete(in.ahead, 0, i+1)
		in.last = e.no
		t.cfg.Deliver(l.peer, l.name, e.payload)
	}
	// Whatever is at or below last now came twice.
	k := 0
	for k < len(in.ahead) && in.ahead[k].no <= in.last {
		in.size -= len(in.ahead[k].payload)
		k++
	}
	in.ahead = slices.Delete(in.ahead, 0, k)
}

// keep copies fb to deliver in its turn, unless it is kept already or
// there is no room; in.mu is held.
func (in *inbox) keep(fb frameBody) {
	i, found := slices.BinarySearchFunc(in.ahead, fb.no, func(e early, no uint64) int { return cmp.Compare(e.no, no) })
	if found || len(in.ahead) >= maxAhead || in.size+len(fb.payload) > maxAheadBytes {
		return
	}
	in.ahead = slices.Insert(in.ahead, i, early{no: fb.no, oldest: fb.oldest, payload: slices.Clone(fb.payload)})
	in.size += len(fb.payload)
}
