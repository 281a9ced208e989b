package sim

import (
	"pbftlab/lab"
)

// ClientName is the client id the simulated client puts in its requests.
const ClientName = "client"

// Client is the simulated client. It sends each request to the primary it
// believes in and accepts an outcome once f+1 replicas reply alike, so at
// least one honest replica vouches for it. A request unanswered for a while
// goes to every replica, as in PBFT §4.1.
type Client struct {
	sim      *Cluster
	view     int
	requests []*request
}

type request struct {
	req     lab.Request
	unsent  bool // registered for a Byzantine primary, never sent: not resent
	sentAt  int
	replies []lab.Reply // at most one per replica; dropped once decided
	outcome *Outcome
}

// Outcome is how a request ended, as the client accepted it.
type Outcome struct {
	Committed bool
	Result    string
	Seq       int
	Replies   int // matching replies when it was accepted
}

func newClient(s *Cluster) *Client { return &Client{sim: s} }

// Send sends a new request for op and returns its number, counted from 1;
// the number is also the request's timestamp.
func (c *Client) Send(op string) int {
	n := len(c.requests) + 1
	r := &request{req: lab.Request{Client: ClientName, Timestamp: int64(n), Op: op}, sentAt: c.sim.now}
	c.requests = append(c.requests, r)
	c.sim.send(lab.Client, lab.Primary(c.view, c.sim.opts.N), &r.req, false)
	return n
}

// register takes op as the next request without sending it.
func (c *Client) register(op string) int {
	n := len(c.requests) + 1
	c.requests = append(c.requests, &request{req: lab.Request{Client: ClientName, Timestamp: int64(n), Op: op}, sentAt: c.sim.now, unsent: true})
	return n
}

// Sent is the number of requests sent so far.
func (c *Client) Sent() int { return len(c.requests) }

// Outcome returns how request n ended, or nil while it has not.
func (c *Client) Outcome(n int) *Outcome {
	if n < 1 || n > len(c.requests) {
		return nil
	}
	return c.requests[n-1].outcome
}

// Answered counts the requests with an accepted outcome.
func (c *Client) Answered() int {
	k := 0
	for _, r := range c.requests {
		if r.outcome != nil {
			k++
		}
	}
	return k
}

func (c *Client) receive(from lab.ID, m lab.Message) {
	rep, ok := m.(*lab.Reply)
	if !ok || rep.Client != ClientName || rep.Replica != from {
		return
	}
	if rep.View > c.view {
		c.view = rep.View
	}
	n := int(rep.Timestamp)
	if n < 1 || n > len(c.requests) {
		return
	}
	r := c.requests[n-1]
	if r.outcome != nil {
		return
	}
	match := 1
	for _, other := range r.replies {
		if other.Replica == from {
			return
		}
		if other.Committed == rep.Committed && other.Result == rep.Result {
			match++
		}
	}
	if match >= lab.Weak(c.sim.opts.N) {
		r.outcome = &Outcome{Committed: rep.Committed, Result: rep.Result, Seq: rep.Seq, Replies: match}
		r.replies = nil
		return
	}
	if r.replies == nil {
		r.replies = make([]lab.Reply, 0, c.sim.opts.N)
	}
	r.replies = append(r.replies, *rep)
}

// tick resends, to every replica, each request left unanswered too long.
func (c *Client) tick() {
	for _, r := range c.requests {
		if r.outcome != nil || r.unsent || c.sim.now-r.sentAt < c.sim.opts.ClientTimeout {
			continue
		}
		r.sentAt = c.sim.now
		for i := range c.sim.opts.N {
			c.sim.send(lab.Client, lab.ID(i), &r.req, false)
		}
	}
}
