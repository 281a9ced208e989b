package tcp

import "sync"

// DefaultQueueLimit is how many messages may wait for one peer. A replica
// that is down for long enough to fill it loses the oldest ones; PBFT copes
// with lost messages, and a replica that comes back catches up by recovery.
const DefaultQueueLimit = 10000

// queue is what one endpoint has for one peer, oldest first: messages not
// yet written, and messages written but not yet acknowledged. Each message
// is numbered when queued. The peer acknowledges the numbers it has
// received; a connection that breaks leaves the unacknowledged ones queued,
// and the next connection writes them again (rewind). The receiver drops
// numbers it has already delivered, so a message sent twice that way is
// still delivered once.
type queue struct {
	mu    sync.Mutex
	items []item
	limit int
	last  uint64 // number of the last message queued
	next  uint64 // number of the next message to write on this connection
	gen   int    // counts rewinds: a writer of an older connection is ignored
	wake  chan struct{}
	// peer is the run (incarnation) of the peer the last connection
	// reached, once there was one (met), and wrote the number of the last
	// message written to it: a new run of the peer is a process with a
	// fresh memory, which gets what waited for it, not what its previous
	// run may have received (see rewind).
	peer  incarnation
	met   bool
	wrote uint64
}

type item struct {
	no      uint64
	payload []byte
}

func newQueue(limit int) *queue {
	if limit <= 0 {
		limit = DefaultQueueLimit
	}
	return &queue{limit: limit, wake: make(chan struct{}, 1)}
}

// push appends p and reports whether the oldest message had to go to make
// room for it. It does not wake the writer: a sender that writes the
// message itself spares the writer a pointless wake-up, and one that does
// not calls signal.
func (q *queue) push(p []byte) (dropped bool) {
	q.mu.Lock()
	if len(q.items) >= q.limit {
		q.items[0] = item{}
		q.items = q.items[1:]
		dropped = true
	}
	q.last++
	q.items = append(q.items, item{no: q.last, payload: p})
	q.mu.Unlock()
	return dropped
}

// signal wakes the writer of the queue's connection, if any, to write what
// waits.
func (q *queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// rewind starts a new connection, to the run peer of the peer: everything
// not acknowledged is to be written again. When peer is another run than
// the last connection reached, the messages written to that run are
// dropped first (dropped counts them): the old process may have handled
// them before it died, and the new one, which starts afresh and catches up
// by state transfer, could only mistake them for its own (a STATE-REPLY
// that answers its predecessor's request, with the same nonce). Messages
// never written, queued while the peer was down, still go. It returns the
// generation the connection's writer uses.
func (q *queue) rewind(peer incarnation) (gen, dropped int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.met && peer != q.peer {
		for dropped < len(q.items) && q.items[dropped].no <= q.wrote {
			dropped++
		}
		n := copy(q.items, q.items[dropped:])
		clear(q.items[n:])
		q.items = q.items[:n]
	}
	q.peer, q.met = peer, true
	q.gen++
	q.next = 0
	return q.gen, dropped
}

// peek returns the next message to write on the connection of generation
// gen; stale says a newer connection has taken the queue over.
func (q *queue) peek(gen int) (it item, ok, stale bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if gen != q.gen {
		return item{}, false, true
	}
	if i := q.index(q.next); i < len(q.items) {
		return q.items[i], true, false
	}
	return item{}, false, false
}

// unwritten appends to dst the messages not yet written on the connection
// of generation gen, oldest first, at most max of them; stale says a newer
// connection has taken the queue over. oldest is the number of the oldest
// message queued: every message numbered below it is acknowledged, or
// dropped for good (see frame heads in link.go).
func (q *queue) unwritten(dst []item, gen, max int) (_ []item, oldest uint64, stale bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if gen != q.gen {
		return dst, 0, true
	}
	i := q.index(q.next)
	return append(dst, q.items[i:min(len(q.items), i+max)]...), q.oldestLocked(), false
}

// oldest is the number of the oldest message queued, or, with none
// queued, of the next one to be.
func (q *queue) oldest() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.oldestLocked()
}

func (q *queue) oldestLocked() uint64 {
	if len(q.items) == 0 {
		return q.last + 1
	}
	return q.items[0].no
}

// resend has the connection of generation gen write every message not yet
// acknowledged again, as a new connection would: what went as datagrams
// and was not acknowledged in time may have been lost (see datagram.go).
func (q *queue) resend(gen int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if gen == q.gen {
		q.next = 0
	}
}

// index is the position of the first item numbered no or above. Items are
// numbered without gaps, oldest first.
func (q *queue) index(no uint64) int {
	if len(q.items) == 0 || no <= q.items[0].no {
		return 0
	}
	return int(min(no-q.items[0].no, uint64(len(q.items))))
}

// written records that message no went out on the connection of gen.
func (q *queue) written(gen int, no uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if gen == q.gen && no >= q.next {
		q.next = no + 1
	}
	q.wrote = max(q.wrote, no)
}

// ack drops every message numbered up to no: the peer has them. Those
// left move to the front, so that the queue's array serves again rather
// than a new one every few acknowledgements.
func (q *queue) ack(no uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := 0
	for k < len(q.items) && q.items[k].no <= no {
		k++
	}
	if k == 0 {
		return
	}
	n := copy(q.items, q.items[k:])
	clear(q.items[n:])
	q.items = q.items[:n]
}

// len is the number of messages queued, written or not.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}
