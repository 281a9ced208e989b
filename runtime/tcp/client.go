package tcp

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"pbftlab/lab"
	"pbftlab/wire"
)

// ClientObserver hears what the client receives; the console prints it.
// Its methods may be called from any goroutine, one at a time.
type ClientObserver interface {
	// Replied: a reply arrived from a replica.
	Replied(from lab.ID, n int, r lab.Reply)
	// Decided: f+1 replicas replied alike to request n.
	Decided(n int, o Outcome)
	// Noted: what the transport has to say.
	Noted(line string)
}

// ClientConfig configures a client.
type ClientConfig struct {
	// Name identifies the client in its requests. Replicas execute a
	// client's requests in timestamp order, so two clients running at once
	// must not share a name.
	Name  string
	Peers Peers
	Keys  *Keyring
	// Retry is how long a request may go unanswered before the client sends
	// it to every replica, in case the primary it believed in is down
	// (PBFT §4.1); zero never retries. Each later resend of the same
	// request waits twice as long as the one before, up to MaxRetry, so a
	// request that waits for votes typed by hand costs a line now and then,
	// not a line a second.
	Retry time.Duration
	// RetryTicks does the same in ticks of Client.Tick, for a cluster whose
	// clock is driven by hand (a case replayed step by step); zero never.
	RetryTicks int
	Observer   ClientObserver
	// QuietLinks keeps the links that come up from the observer.
	QuietLinks bool
	Inflight   *Inflight

	MinBackoff, MaxBackoff time.Duration
	QueueLimit             int
	// TCPOnly keeps every message on the TCP connections: no datagrams
	// (see TransportConfig.NoDatagrams).
	TCPOnly bool
}

// DefaultRetry is the client's timer of the command line: long enough that
// a request to a live primary is answered well before it, short enough
// that a person notices the resend when the primary is down.
const DefaultRetry = time.Second

// MaxRetry bounds the pause between two resends of one request.
const MaxRetry = 16 * time.Second

// Outcome is how a request ended, as the client accepted it.
type Outcome struct {
	Committed bool
	Result    string
	Seq       int
	View      int
	Replies   int // matching replies when it was accepted
	Latency   time.Duration
}

// Client sends requests to the cluster and accepts an outcome once f+1
// replicas reply alike, so that at least one honest replica vouches for it.
type Client struct {
	cfg     ClientConfig
	quiet   quietNotes // for the notes a backlog of stray replies would repeat
	tr      *Transport
	handled counts
	stop    chan struct{}
	wg      sync.WaitGroup

	mu       sync.Mutex
	view     int
	lastTS   int64
	requests []*request
	byTS     map[int64]*request
	ticks    int
	progress time.Time // when the last outcome was accepted
}

type request struct {
	n        int
	req      lab.Request
	sentAt   time.Time
	wait     time.Duration // before the next resend
	resends  int
	sentTick int
	first    time.Time
	replies  []lab.Reply // one per replica at most
	outcome  *Outcome
	done     chan struct{}
}

// StartClient connects to every replica.
func StartClient(cfg ClientConfig) *Client {
	c := &Client{cfg: cfg, stop: make(chan struct{}), byTS: map[int64]*request{}}
	c.tr = StartTransport(TransportConfig{
		Self: lab.Client, Name: cfg.Name, Peers: cfg.Peers, Keys: cfg.Keys,
		Deliver: c.deliver, Note: c.note, Connected: c.connected, Inflight: cfg.Inflight,
		MinBackoff: cfg.MinBackoff, MaxBackoff: cfg.MaxBackoff, QueueLimit: cfg.QueueLimit,
		NoDatagrams: cfg.TCPOnly,
	})
	if cfg.Retry > 0 {
		c.wg.Add(1)
		go c.retryLoop()
	}
	return c
}

// Name is the client's name.
func (c *Client) Name() string { return c.cfg.Name }

// N is the number of replicas.
func (c *Client) N() int { return c.cfg.Peers.N() }

// Close disconnects the client.
func (c *Client) Close() {
	close(c.stop)
	c.wg.Wait()
	c.tr.Close()
}

func (c *Client) note(line string) {
	if c.cfg.Observer != nil {
		c.cfg.Observer.Noted(line)
	}
}

func (c *Client) connected(line string) {
	if !c.cfg.QuietLinks {
		c.note(line)
	}
}

// WaitConnected returns once the client's links to every replica are up.
func (c *Client) WaitConnected(ctx context.Context) error { return c.tr.WaitConnected(ctx) }

// Send sends a new request for op to the primary the client believes in
// and returns the request's number, counted from 1. The timestamp is the
// client's clock in milliseconds, kept strictly increasing, so a client that
// restarts under the same name still has its requests executed.
func (c *Client) Send(op string) int {
	c.mu.Lock()
	ts := max(c.lastTS+1, time.Now().UnixMilli())
	c.lastTS = ts
	now := time.Now()
	r := &request{
		n:        len(c.requests) + 1,
		req:      lab.Request{Client: c.cfg.Name, Timestamp: ts, Op: op},
		sentAt:   now,
		wait:     c.cfg.Retry,
		sentTick: c.ticks,
		first:    now,
		done:     make(chan struct{}),
	}
	c.requests = append(c.requests, r)
	c.byTS[ts] = r
	primary := lab.Primary(c.view, c.N())
	c.mu.Unlock()
	c.tr.Send(primary, wire.Encode(&r.req))
	return r.n
}

// Request returns request n as it was sent.
func (c *Client) Request(n int) (lab.Request, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n < 1 || n > len(c.requests) {
		return lab.Request{}, false
	}
	return c.requests[n-1].req, true
}

// Outcome returns how request n ended, once f+1 replicas agree on it.
func (c *Client) Outcome(n int) (Outcome, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n < 1 || n > len(c.requests) || c.requests[n-1].outcome == nil {
		return Outcome{}, false
	}
	return *c.requests[n-1].outcome, true
}

// Wait waits for request n's outcome.
func (c *Client) Wait(ctx context.Context, n int) (Outcome, error) {
	c.mu.Lock()
	if n < 1 || n > len(c.requests) {
		c.mu.Unlock()
		return Outcome{}, fmt.Errorf("no request %d", n)
	}
	r := c.requests[n-1]
	c.mu.Unlock()
	select {
	case <-r.done:
		o, _ := c.Outcome(n)
		return o, nil
	case <-ctx.Done():
		return Outcome{}, ctx.Err()
	}
}

// RequestInfo is one request and where it stands, for the console.
type RequestInfo struct {
	N       int
	Request lab.Request
	Replies []lab.ID // replicas that replied, in ID order
	Outcome *Outcome
}

// Requests lists every request sent, oldest first.
func (c *Client) Requests() []RequestInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]RequestInfo, len(c.requests))
	for i, r := range c.requests {
		out[i] = RequestInfo{N: r.n, Request: r.req}
		for _, rep := range r.replies {
			out[i].Replies = append(out[i].Replies, rep.Replica)
		}
		slices.Sort(out[i].Replies)
		if r.outcome != nil {
			o := *r.outcome
			out[i].Outcome = &o
		}
	}
	return out
}

// View is the latest view the client heard of.
func (c *Client) View() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.view
}

// Links, Sent, Handled and Rejected report on the client's connections, as
// for a Node.
func (c *Client) Links() []LinkInfo          { return c.tr.Links() }
func (c *Client) Sent() map[string]uint64    { return c.tr.Sent() }
func (c *Client) Handled() map[string]uint64 { return c.handled.snapshot() }
func (c *Client) Rejected() uint64           { return c.tr.Rejected() }

// deliver takes a reply from a connection's reader goroutine.
func (c *Client) deliver(from lab.ID, _ string, payload []byte) {
	defer c.cfg.Inflight.add(-1)
	c.handled.add(from)
	m, err := wire.Decode(payload)
	if err != nil {
		c.note(fmt.Sprintf("dropped a message from %s: %v", from, err))
		return
	}
	rep, ok := m.(*lab.Reply)
	switch {
	case !ok:
		c.note(fmt.Sprintf("dropped a %s from %s: a client expects replies only", lab.KindOf(m), from))
		return
	case rep.Replica != from:
		c.note(fmt.Sprintf("dropped a reply from %s that claims to come from %s", from, rep.Replica))
		return
	case rep.Client != c.cfg.Name:
		c.note(fmt.Sprintf("dropped a reply from %s meant for client %q", from, rep.Client))
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rep.View > c.view {
		c.view = rep.View
	}
	r := c.byTS[rep.Timestamp]
	if r == nil {
		if line, ok := c.quiet.pass("stray "+from.String(), fmt.Sprintf("dropped a reply from %s to a request this client did not send (timestamp %d): a reply to an earlier run of this client, or to a request it gave up", from, rep.Timestamp)); ok {
			c.note(line)
		}
		return
	}
	for _, other := range r.replies {
		if other.Replica == from {
			return
		}
	}
	if r.replies == nil {
		r.replies = make([]lab.Reply, 0, c.N())
	}
	r.replies = append(r.replies, *rep)
	if c.cfg.Observer != nil {
		c.cfg.Observer.Replied(from, r.n, *rep)
	}
	if r.outcome != nil {
		return
	}
	match := 0
	for _, other := range r.replies {
		if other.Committed == rep.Committed && other.Result == rep.Result {
			match++
		}
	}
	if match >= lab.Weak(c.N()) {
		c.progress = time.Now()
		r.outcome = &Outcome{Committed: rep.Committed, Result: rep.Result, Seq: rep.Seq, View: rep.View, Replies: match, Latency: time.Since(r.first)}
		close(r.done)
		if c.cfg.Observer != nil {
			c.cfg.Observer.Decided(r.n, *r.outcome)
		}
	}
}

// retryLoop resends, every so often, the requests left unanswered for
// cfg.Retry.
func (c *Client) retryLoop() {
	defer c.wg.Done()
	t := time.NewTicker(max(c.cfg.Retry/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-t.C:
			c.retry(func(r *request) string {
				// While outcomes keep coming, the cluster is working
				// through the requests: a client with many outstanding
				// would otherwise resend them all, and the resends would
				// slow down the very replicas it waits for.
				if now.Sub(r.sentAt) < r.wait || now.Sub(c.progress) < r.wait {
					return ""
				}
				after := now.Sub(r.first).Round(100 * time.Millisecond)
				r.sentAt, r.wait = now, min(2*r.wait, MaxRetry)
				return fmt.Sprintf("%v (next try in %v)", after, r.wait)
			})
		}
	}
}

// Tick advances the client's clock by one tick, resending the requests
// unanswered for cfg.RetryTicks ticks.
func (c *Client) Tick() {
	c.mu.Lock()
	c.ticks++
	now := c.ticks
	c.mu.Unlock()
	if c.cfg.RetryTicks <= 0 {
		return
	}
	c.retry(func(r *request) string {
		if now-r.sentTick < c.cfg.RetryTicks {
			return ""
		}
		r.sentTick = now
		return fmt.Sprintf("%d ticks", c.cfg.RetryTicks)
	})
}

// retry sends each unanswered request that due selects to every replica: a
// backup that gets it passes it on to the primary, and if the primary is
// down the backups' timers start a view change (PBFT §4.1 and §4.4). due
// says how long the request has waited, "" when it is not due.
func (c *Client) retry(due func(*request) string) {
	type resend struct {
		r     *request
		after string
	}
	var again []resend
	c.mu.Lock()
	for _, r := range c.requests {
		if r.outcome != nil {
			continue
		}
		if after := due(r); after != "" {
			r.resends++
			again = append(again, resend{r, after})
		}
	}
	c.mu.Unlock()
	for _, a := range again {
		r := a.r
		c.note(fmt.Sprintf("request %d unanswered after %s; sending it to every replica", r.n, a.after))
		payload := wire.Encode(&r.req)
		for i := range c.N() {
			c.tr.Send(lab.ID(i), payload)
		}
	}
}
