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
	pct    *pct // a priority schedule instead of a uniform choice, when set
}

// pct is a PCT schedule (probabilistic concurrency testing, Burckhardt
// et al., ASPLOS 2010): every link has a priority, the busy link of
// highest priority always goes first, and at a few delivery counts chosen
// at random the link just chosen drops below every other. A uniform choice
// rarely keeps one link waiting for long; PCT does so on purpose, and finds
// the orders that need a message to arrive very late with a probability
// that does not shrink with the length of the run.
type pct struct {
	prio      []int
	changes   []int // delivery counts at which the chosen link drops
	delivered int
	low       int
}

// PCTDepth is how many times a PCT schedule demotes a link, and
// PCTHorizon the range of delivery counts it picks them from.
const (
	PCTDepth   = 3
	PCTHorizon = 200
)

func newPCT(rng *rand.Rand, links int) *pct {
	p := &pct{prio: rng.Perm(links)}
	for range PCTDepth {
		p.changes = append(p.changes, 1+rng.IntN(PCTHorizon))
	}
	return p
}

func (p *pct) choose(busy []int) int {
	best := busy[0]
	for _, l := range busy[1:] {
		if p.prio[l] > p.prio[best] {
			best = l
		}
	}
	p.delivered++
	for _, c := range p.changes {
		if c == p.delivered {
			p.low--
			p.prio[best] = p.low
		}
	}
	return best
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
	var link int
	if nw.pct != nil {
		link = nw.pct.choose(nw.busy)
	} else {
		link = nw.busy[rng.IntN(len(nw.busy))]
	}
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
