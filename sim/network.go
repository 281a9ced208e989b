package sim

import (
	"math/rand/v2"
	"sort"

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
	// stamp numbers the messages in the order they were sent, so that a
	// delivery can be named by its rank among those in flight (schedule.go).
	stamp int
	// order, when set, chooses every delivery by rank instead of at
	// random; record keeps the rank of every delivery made.
	order  *Schedule
	record bool
	ranks  []int
	next   []int // byRank's scratch space, one slot per link
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
	nw.stamp++
	q.buf = append(q.buf, flight{data, nw.stamp})
	if nw.where[link] < 0 {
		nw.where[link] = len(nw.busy)
		nw.busy = append(nw.busy, link)
	}
	nw.count++
}

func (nw *network) pop(rng *rand.Rand, reorder bool) (from, to lab.ID, data []byte) {
	var link, at int
	switch {
	case nw.order != nil:
		rank := nw.order.next(len(nw.ranks) + 1)
		link, at = nw.byRank(rank, nw.order.Reorder)
	case nw.pct != nil:
		link = nw.pct.choose(nw.busy)
		at = nw.queues[link].pick(rng, reorder)
	default:
		link = nw.busy[rng.IntN(len(nw.busy))]
		at = nw.queues[link].pick(rng, reorder)
	}
	q := &nw.queues[link]
	switch {
	case nw.order != nil:
		nw.ranks = append(nw.ranks, nw.rankOf(q.buf[at].stamp, nw.order.Reorder))
	case nw.record:
		nw.ranks = append(nw.ranks, nw.rankOf(q.buf[at].stamp, reorder))
	}
	data = q.take(at)
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

// rankOf counts the messages in flight that the one stamped s overtakes:
// with any, every older message; without, the older messages at the head
// of their links (links then keep order, and only a link's oldest message
// can go). Each link's queue is in the order its messages were sent.
func (nw *network) rankOf(s int, any bool) int {
	rank := 0
	for _, l := range nw.busy {
		q := &nw.queues[l]
		live := q.buf[q.head:]
		switch {
		case any:
			rank += sort.Search(len(live), func(i int) bool { return live[i].stamp >= s })
		case live[0].stamp < s:
			rank++
		}
	}
	return rank
}

// byRank finds the message in flight that overtakes rank others, counted
// as rankOf counts them: its link and its index in the link's queue. It
// merges the links' queues, each already in the order sent, oldest first,
// rank+1 steps deep; without any, a link once passed is passed whole.
func (nw *network) byRank(rank int, any bool) (link, at int) {
	// next holds, per busy link, the index of its oldest message not yet
	// passed; it is scratch space kept between deliveries, indexed by link.
	if len(nw.next) < len(nw.queues) {
		nw.next = make([]int, len(nw.queues))
	}
	next := nw.next
	for _, l := range nw.busy {
		next[l] = nw.queues[l].head
	}
	for {
		link = -1
		left := 0 // candidates besides the oldest
		for _, l := range nw.busy {
			q := &nw.queues[l]
			i := next[l]
			if i >= len(q.buf) {
				continue
			}
			if link >= 0 {
				left++
			}
			if link < 0 || q.buf[i].stamp < nw.queues[link].buf[next[link]].stamp {
				link = l
			}
		}
		if any && next[link]+1 < len(nw.queues[link].buf) {
			left++
		}
		if rank == 0 || left == 0 {
			return link, next[link]
		}
		if any {
			next[link]++
		} else {
			next[link] = len(nw.queues[link].buf)
		}
		rank--
	}
}

// flight is a message in flight and the order it was sent in.
type flight struct {
	data  []byte
	stamp int
}

// queue is one link's messages in flight: buf[head:], oldest first. Taking
// the oldest only moves head; the space is reused once the queue empties.
type queue struct {
	buf  []flight
	head int
}

func (q *queue) len() int { return len(q.buf) - q.head }

// pick chooses the index of the message to take: the oldest, or with
// reorder any of them.
func (q *queue) pick(rng *rand.Rand, reorder bool) int {
	if reorder && q.len() > 1 {
		return q.head + rng.IntN(q.len())
	}
	return q.head
}

// take removes and returns the message at index i.
func (q *queue) take(i int) []byte {
	data := q.buf[i].data
	copy(q.buf[q.head+1:i+1], q.buf[q.head:i])
	q.buf[q.head] = flight{}
	q.head++
	if q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
	}
	return data
}
