package tcp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"pbftlab/lab"
	"pbftlab/script"
)

// DefaultSettleTimeout bounds how long Settle waits for the network to
// quieten.
const DefaultSettleTimeout = 10 * time.Second

// ClusterConfig configures a whole cluster in one process.
type ClusterConfig struct {
	// Peers gives the ports; nil puts every replica on a free loopback port.
	Peers     *Peers
	N         int // replicas when Peers is nil; 4 when zero
	Keys      *Keyring
	New       lab.NewFunc
	Replica   lab.Config
	Balances  map[string]int
	Byzantine []lab.ID
	Tick      time.Duration
	// ClientName names the cluster's client; "client" when empty. NoClient
	// starts none (a benchmark brings its own).
	ClientName string
	NoClient   bool
	Retry      time.Duration
	RetryTicks int
	// Observer, when set, gives each replica its observer.
	Observer       func(id lab.ID) Observer
	ClientObserver ClientObserver
	Checkpointed   func(id lab.ID, s lab.Snapshot, stable bool, st lab.Status)
	SettleTimeout  time.Duration
	// TCPOnly keeps every message on the TCP connections: no datagrams
	// (see TransportConfig.NoDatagrams).
	TCPOnly bool
}

// Cluster is every replica and a client in one process, talking over real
// TCP connections on loopback. It implements script.Cluster, so a case can
// be replayed on it: each step waits for the network to settle, which is
// known exactly because every endpoint is in the process (see Inflight).
type Cluster struct {
	cfg      ClusterConfig
	Nodes    []*Node
	Client   *Client
	inflight *Inflight

	mu      sync.Mutex
	err     error
	decided map[int]decision
}

type decision struct {
	replica lab.ID
	digest  string
}

var _ script.Cluster = (*Cluster)(nil)

// StartCluster opens every listener, then starts the replicas and the
// client. A port already in use is reported before anything starts.
func StartCluster(cfg ClusterConfig) (*Cluster, error) {
	if cfg.SettleTimeout <= 0 {
		cfg.SettleTimeout = DefaultSettleTimeout
	}
	if cfg.ClientName == "" {
		cfg.ClientName = "client"
	}
	c := &Cluster{cfg: cfg, inflight: NewInflight(), decided: map[int]decision{}}
	listeners, peers, err := listenAll(cfg)
	if err != nil {
		return nil, err
	}
	for i, ln := range listeners {
		id := lab.ID(i)
		nc := NodeConfig{
			ID: id, Peers: peers, Keys: cfg.Keys, Listener: ln, New: cfg.New,
			Replica: cfg.Replica, Balances: cfg.Balances, Byzantine: cfg.Byzantine,
			Tick: cfg.Tick, Inflight: c.inflight, QuietLinks: true, TCPOnly: cfg.TCPOnly,
		}
		if cfg.Observer != nil {
			nc.Observer = cfg.Observer(id)
		}
		if cfg.Checkpointed != nil {
			nc.Checkpointed = func(s lab.Snapshot, stable bool, st lab.Status) { cfg.Checkpointed(id, s, stable, st) }
		}
		if !slices.Contains(cfg.Byzantine, id) {
			nc.Executed = func(e lab.Execution) { c.executed(id, e) }
		}
		n, err := StartNode(nc)
		if err != nil {
			for _, ln := range listeners[i+1:] {
				_ = ln.Close()
			}
			c.Close()
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		c.Nodes = append(c.Nodes, n)
	}
	if !cfg.NoClient {
		c.Client = c.NewClient(cfg.ClientName, cfg.ClientObserver)
	}
	if err := c.WaitConnected(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// WaitConnected waits, at most the settle timeout, until every replica and
// client is connected to every replica, so the first step of a case does
// not race the connections being made.
func (c *Cluster) WaitConnected() error {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.SettleTimeout)
	defer cancel()
	for _, n := range c.Nodes {
		if err := n.WaitConnected(ctx); err != nil {
			return err
		}
	}
	if c.Client != nil {
		return c.Client.WaitConnected(ctx)
	}
	return nil
}

func listenAll(cfg ClusterConfig) ([]net.Listener, Peers, error) {
	var peers Peers
	if cfg.Peers != nil {
		peers = *cfg.Peers
	} else {
		n := cfg.N
		if n == 0 {
			n = 4
		}
		peers.Replicas = make([]string, n)
	}
	var out []net.Listener
	for i := range peers.Replicas {
		addr := peers.Replicas[i]
		if cfg.Peers == nil {
			addr = net.JoinHostPort(DefaultHost, "0")
		}
		ln, err := Listen(addr)
		if err != nil {
			for _, l := range out {
				_ = l.Close()
			}
			return nil, Peers{}, fmt.Errorf("%s: %w", lab.ID(i), err)
		}
		peers.Replicas[i] = ln.Addr().String()
		out = append(out, ln)
	}
	return out, peers, nil
}

// Peers is the cluster's address book, with the ports actually taken.
func (c *Cluster) Peers() Peers { return c.Nodes[0].Peers() }

// NewClient starts one more client of the cluster.
func (c *Cluster) NewClient(name string, obs ClientObserver) *Client {
	return StartClient(ClientConfig{
		Name: name, Peers: c.Peers(), Keys: c.cfg.Keys, Retry: c.cfg.Retry,
		RetryTicks: c.cfg.RetryTicks, Observer: obs, Inflight: c.inflight, QuietLinks: true,
		TCPOnly: c.cfg.TCPOnly,
	})
}

// Close stops the client and every replica. Every transport is told to
// stop before any connection closes, so that none reports the others going
// away as trouble.
func (c *Cluster) Close() {
	if c.Client != nil {
		c.Client.tr.cancel()
	}
	for _, n := range c.Nodes {
		n.tr.cancel()
	}
	if c.Client != nil {
		c.Client.Close()
	}
	for _, n := range c.Nodes {
		n.Close()
	}
}

// Settle waits until every message sent has been handled.
func (c *Cluster) Settle() error {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.SettleTimeout)
	defer cancel()
	if err := c.inflight.Wait(ctx); err != nil {
		return fmt.Errorf("the network did not settle within %v: %d messages still in flight (a replica down for good, one sending in a loop, or one stuck in a call?)", c.cfg.SettleTimeout, c.inflight.Pending())
	}
	return nil
}

// settle is Settle for the script steps: a network that does not settle
// ends the case.
func (c *Cluster) settle() {
	if err := c.Settle(); err != nil {
		c.fail(err)
	}
}

func (c *Cluster) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
}

// executed is the safety check: honest replicas never execute different
// requests at one sequence number, and each executes in sequence order.
func (c *Cluster) executed(id lab.ID, e lab.Execution) {
	if e.Err != nil {
		c.fail(fmt.Errorf("%s executed out of order: %v", id, e.Err))
		return
	}
	if e.Restored {
		return
	}
	c.mu.Lock()
	d, ok := c.decided[e.Seq]
	if !ok {
		c.decided[e.Seq] = decision{replica: id, digest: e.Digest}
	}
	c.mu.Unlock()
	if ok && d.digest != e.Digest {
		c.fail(fmt.Errorf("safety violated at seq %d: %s executed %s but %s executed %s", e.Seq, d.replica, d.digest, id, e.Digest))
	}
}

// The script.Cluster methods. Each step waits for the network to settle, as
// the simulator's steps do.

// N is the number of replicas.
func (c *Cluster) N() int { return len(c.Nodes) }

// Send has the client send a request for op.
func (c *Cluster) Send(op string) int {
	n := c.Client.Send(op)
	c.settle()
	return n
}

// Request returns request n as the client sent it.
func (c *Cluster) Request(n int) lab.Request {
	r, _ := c.Client.Request(n)
	return r
}

// Outcome says whether the client accepted an outcome for request n.
func (c *Cluster) Outcome(n int) (done, committed bool) {
	o, ok := c.Client.Outcome(n)
	return ok, o.Committed
}

// Do hands replica id a command.
func (c *Cluster) Do(id lab.ID, cmd lab.Command) error {
	err := c.Nodes[id].Do(cmd)
	c.settle()
	return err
}

// VoteTo sends a Byzantine replica's vote to one replica.
func (c *Cluster) VoteTo(from, to lab.ID, op lab.Op, yes bool) error {
	err := c.Nodes[from].VoteTo(to, op, yes)
	c.settle()
	return err
}

// Crash stops replica id.
func (c *Cluster) Crash(id lab.ID) { _ = c.Nodes[id].Crash() }

// Recover brings replica id back.
func (c *Cluster) Recover(id lab.ID) error {
	err := c.Nodes[id].Recover()
	c.settle()
	return err
}

// Tick advances every replica's clock and the client's by one.
func (c *Cluster) Tick() {
	for _, n := range c.Nodes {
		_ = n.Tick()
	}
	if c.Client != nil {
		c.Client.Tick()
	}
	c.settle()
}

// Status asks replica id for its status.
func (c *Cluster) Status(id lab.ID) (lab.Status, error) {
	if id < 0 || int(id) >= len(c.Nodes) {
		return lab.Status{}, fmt.Errorf("%s is not a replica of this cluster", id)
	}
	return c.Nodes[id].Status()
}

// Balances returns replica id's balances.
func (c *Cluster) Balances(id lab.ID) map[string]int { return c.Nodes[id].Balances() }

// StableCheckpoints lists the checkpoints replica id reported stable.
func (c *Cluster) StableCheckpoints(id lab.ID) []int { return c.Nodes[id].StableCheckpoints() }

// Err is the first safety violation, replica failure or unsettled network.
func (c *Cluster) Err() error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return err
	}
	for _, n := range c.Nodes {
		if f := n.Failure(); f != nil && !errors.Is(f, ErrClosed) {
			return f
		}
	}
	return nil
}
