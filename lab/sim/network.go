package sim

import (
	"math/rand/v2"

	"pbftlab/lab"
)

// network holds the messages in flight, one queue per directed link. The
// client is endpoint n-1 (lab.Client maps to it). Choosing a message picks
// a non-empty link at random, then its oldest message (or, with reorder,
// any of its messages).
type network struct {
	size   int // endpoints: replicas plus the client
	queues []queue
	busy   []int // indices of links with messages in flight
	where  []int // where[link] is its position in busy, or -1
	count  int
}

func (nw *network) init(size int) {
	nw.size = size
	nw.queues = make([]queue, size*size)
	nw.where = make([]int, size*size)
	for i := range nw.where {
		nw.where[i] = -1
	}
}

func (nw *network) endpoint(id lab.ID) int {
	if id == lab.Client {
		return nw.size - 1
	}
	return int(id)
}

func (nw *network) id(endpoint int) lab.ID {
	if endpoint == nw.size-1 {
		return lab.Client
	}
	return lab.ID(endpoint)
}

func (nw *network) pending() int { return nw.count }

func (nw *network) push(from, to lab.ID, data []byte) {
	link := nw.endpoint(from)*nw.size + nw.endpoint(to)
	q := &nw.queues[link]
	q.buf = append(q.buf, data)
	if nw.where[link] < 0 {
		nw.where[link] = len(nw.busy)
		nw.busy = append(nw.busy, link)
	}
	nw.count++
}

func (nw *network) pop(rng *rand.Rand, reorder bool) (from, to lab.ID, data []byte) {
	link := nw.busy[rng.IntN(len(nw.busy))]
	q := &nw.queues[link]
	data = q.take(rng, reorder)
	nw.count--
	if q.len() == 0 {
		// Swap the link out of the busy list.
		pos, last := nw.where[link], nw.busy[len(nw.busy)-1]
		nw.busy[pos] = last
		nw.where[last] = pos
		nw.busy = nw.busy[:len(nw.busy)-1]
		nw.where[link] = -1
	}
	return nw.id(link / nw.size), nw.id(link % nw.size), data
}

// queue is one link's messages in flight: buf[head:], oldest first. Taking
// the oldest only moves head; the space is reused once the queue empties.
type queue struct {
	buf  [][]byte
	head int
}

func (q *queue) len() int { return len(q.buf) - q.head }

func (q *queue) take(rng *rand.Rand, reorder bool) []byte {
	i := q.head
	if reorder && q.len() > 1 {
		i += rng.IntN(q.len())
	}
	data := q.buf[i]
	copy(q.buf[q.head+1:i+1], q.buf[q.head:i])
	q.buf[q.head] = nil
	q.head++
	if q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
	}
	return data
}
