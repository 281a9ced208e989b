package tcp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"pbftlab/lab"
	"pbftlab/sim"
	"pbftlab/wire"
)

// Observer hears what a node does; the console prints it. Every method but
// Noted is called with the node's replica held (see Node), one at a time,
// in the order things happen; Noted may come from any goroutine. A method
// must not call back into the node.
type Observer interface {
	// Delivered: m is about to be handed to the replica.
	Delivered(from lab.ID, m lab.Message)
	// Stepped: the replica's status after it handled a message, a tick or
	// a command.
	Stepped(st lab.Status)
	// Logged: a line the replica wrote with Env.Logf.
	Logged(line string)
	// Checkpointed: a checkpoint the replica reported through its Env.
	Checkpointed(s lab.Snapshot, stable bool)
	// Acted: the node is about to hand the replica command c of its own
	// accord, for the reason why, a sentence to show as it is; the step's
	// Stepped follows. Such a step is neither the replica's own doing nor
	// a command typed at a console.
	Acted(c lab.Command, why string)
	// Noted: what the runtime has to say: connections, crashes, frames
	// dropped, a replica that panicked.
	Noted(line string)
}

// NodeConfig configures a replica process, or one replica of an in-process
// cluster.
type NodeConfig struct {
	ID    lab.ID
	Peers Peers
	Keys  *Keyring // nil means DefaultKeyring
	// Listener, when set, is used instead of listening on Peers.Addr(ID).
	Listener net.Listener
	New      lab.NewFunc
	// Replica is passed to New, with ID, N and Bank filled in.
	Replica  lab.Config
	Balances map[string]int
	// Byzantine lists the cluster's Byzantine replicas; only those may send
	// a vote to a single replica.
	Byzantine []lab.ID
	// Tick is the period of the ticker that drives Replica.Tick; zero means
	// no ticker, and the clock moves only on Node.Tick.
	Tick time.Duration
	// Observer, when set, hears every step; computing the status after
	// each one costs time, so benchmarks leave it nil.
	Observer Observer
	// QuietLinks keeps the links that come up from the observer; only
	// trouble is noted. An in-process cluster, whose links always come up
	// at once, uses it.
	QuietLinks bool
	Inflight   *Inflight
	// Executed watches the node's bank (the safety checks of an in-process
	// cluster).
	Executed func(lab.Execution)
	// Checkpointed is called with every checkpoint the replica reports, and
	// the replica's status at that moment; the command line writes the
	// lab's checkpoint files from it.
	Checkpointed func(s lab.Snapshot, stable bool, st lab.Status)

	// StuckAfter is how long a call into the replica may last before the
	// node reports it; zero means DefaultStuckAfter.
	StuckAfter time.Duration

	MinBackoff, MaxBackoff time.Duration
	QueueLimit             int
	// TCPOnly keeps every message on the TCP connections: no datagrams
	// (see TransportConfig.NoDatagrams).
	TCPOnly bool
}

// ErrClosed is returned by a node or client that has been closed.
var ErrClosed = errors.New("closed")

// Node runs one replica and its transport. Whoever calls into the replica
// holds mu: the goroutine reading a connection, to hand over the message
// it read; the ticker; a console command. So the replica gets one call at
// a time, as the lab.Replica contract says, and a message goes straight
// from the connection to the replica, with no goroutine in between.
type Node struct {
	cfg    NodeConfig
	tr     *Transport
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed by Close
	ticker sync.WaitGroup

	handled counts
	// busy is the replica call under way, for the watchdog, and calls
	// counts the calls begun, so that the watchdog tells one long call from
	// many short ones.
	busy  atomic.Pointer[call]
	calls atomic.Uint64
	// stuck names the call the watchdog last reported as not returning,
	// while it still has not (see Stuck).
	stuck atomic.Pointer[string]
	// receiving describes a Receive of each kind of message, so that the
	// busiest call allocates nothing to say what it is.
	receiving [256]call

	mu sync.Mutex
	// Guarded by mu.
	closed  bool
	replica lab.Replica
	bank    *lab.Bank
	crashed bool
	failure error
	lastPP  *lab.PrePrepare
	stable  []int
	// replies holds the last reply sent to each client, to send again when
	// the client retransmits that request (PBFT §4.1): the client may have
	// missed it, and a replica that ignores a request it has executed
	// would leave such a client waiting.
	replies map[string]lab.Reply
	// rejoin is the state transfer a process makes when it starts, while
	// it lasts (see Rejoin).
	rejoin *rejoin
	// rejoinedView is the view the replica was in when its rejoin ended,
	// the one it learned from the others; -1 until then.
	rejoinedView int
}

// rejoin holds back the requests a restarted process receives until it
// has heard from the others (f+1 state replies) or waited rejoinWait. A
// process restarted as P0 believes it leads view 0, and a request passed
// on to it before the others' state replies arrive would be ordered in
// that old view, which every backup in a later view drops.
type rejoin struct {
	from    map[lab.ID]bool // replicas whose state reply arrived
	held    []heldRequest
	expired *time.Timer
}

type heldRequest struct {
	from lab.ID
	m    lab.Message
}

// rejoinWait bounds how long a starting process holds requests back: with
// the others not yet up there are no state replies to wait for.
const rejoinWait = 2 * time.Second

// call is a call into the replica. A Receive names only the kind of its
// message, so that the name is built only for the report of a call that
// does not return.
type call struct {
	what string
	kind lab.Kind
}

func (c *call) name() string {
	if c.what == "" {
		return "Receive(" + c.kind.String() + ")"
	}
	return c.what
}

// DefaultStuckAfter is how long a call into the replica may take before the
// node says so: a replica's calls take microseconds, so one that takes
// seconds is almost surely in an endless loop, and the node handles nothing
// meanwhile.
const DefaultStuckAfter = 3 * time.Second

// Listen opens a listener on addr and explains the usual failure.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("cannot listen on %s: the port is already in use (is this replica already running? stop the other process or choose another port)", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	return ln, nil
}

// StartNode builds the replica and starts serving it.
func StartNode(cfg NodeConfig) (*Node, error) {
	if cfg.ID < 0 || int(cfg.ID) >= cfg.Peers.N() {
		return nil, fmt.Errorf("%s is not a replica of this %d-replica cluster", cfg.ID, cfg.Peers.N())
	}
	ln := cfg.Listener
	if ln == nil {
		var err error
		if ln, err = Listen(cfg.Peers.Addr(cfg.ID)); err != nil {
			return nil, err
		}
	}
	n := &Node{
		cfg:          cfg,
		done:         make(chan struct{}),
		bank:         lab.NewBank(cfg.Balances, cfg.Executed),
		rejoinedView: -1,
	}
	for k := range n.receiving {
		n.receiving[k].kind = lab.Kind(k)
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	rc := cfg.Replica
	rc.ID, rc.N, rc.Bank = cfg.ID, cfg.Peers.N(), n.bank
	n.guard("building the replica", func() { n.replica = cfg.New(rc, env{n}) })
	if n.failure == nil && n.replica == nil {
		n.failure = errors.New("the constructor returned a nil replica")
	}
	if n.failure != nil {
		_ = ln.Close()
		return nil, n.failure
	}
	settings := ReplicaSettings(cfg.Peers.N(), cfg.Replica, cfg.Balances)
	n.tr = StartTransport(TransportConfig{
		Self: cfg.ID, Peers: cfg.Peers, Keys: cfg.Keys, Listener: ln, Settings: &settings, EarlierRun: n.earlierRun,
		Deliver: n.deliver, Note: n.note, Connected: n.connected, Inflight: cfg.Inflight,
		MinBackoff: cfg.MinBackoff, MaxBackoff: cfg.MaxBackoff, QueueLimit: cfg.QueueLimit,
		NoDatagrams: cfg.TCPOnly,
	})
	if cfg.Tick > 0 {
		n.ticker.Add(1)
		go n.tickLoop()
	}
	go n.watch()
	return n, nil
}

// watch reports a call into the replica that does not return. It times a
// call from the first tick that sees it, as the calls do not read the
// clock: a call is reported between stuckAfter and a tick more after it
// began, as when each call noted its start.
func (n *Node) watch() {
	stuckAfter := cmp.Or(n.cfg.StuckAfter, DefaultStuckAfter)
	t := time.NewTicker(stuckAfter / 3)
	defer t.Stop()
	var (
		seen  uint64    // the call the last tick saw under way (its number)
		since time.Time // when a tick first saw it
		told  uint64    // the call last reported
	)
	for {
		select {
		case <-n.done:
			return
		case now := <-t.C:
			k, c := n.calls.Load(), n.busy.Load()
			switch {
			case c == nil || k != n.calls.Load():
				seen = 0 // no call, or one that has just begun
				n.stuck.Store(nil)
			case k != seen:
				seen, since = k, now
				n.stuck.Store(nil)
			case k != told && now.Sub(since) >= stuckAfter:
				told = k
				what := c.name()
				n.stuck.Store(&what)
				n.note(fmt.Sprintf("%s has been in %s for %v and handles nothing else meanwhile: is the replica in an endless loop? (nothing stops a call that does not return: Ctrl-C leaves)", n.cfg.ID, what, now.Sub(since).Round(time.Second)))
			}
		}
	}
}

// ID is the replica's ID.
func (n *Node) ID() lab.ID { return n.cfg.ID }

// N is the number of replicas in the cluster.
func (n *Node) N() int { return n.cfg.Peers.N() }

// Addr is where the node listens.
func (n *Node) Addr() net.Addr { return n.tr.Addr() }

// Peers is the cluster's address book.
func (n *Node) Peers() Peers { return n.cfg.Peers }

// Byzantine lists the cluster's Byzantine replicas.
func (n *Node) Byzantine() []lab.ID { return slices.Clone(n.cfg.Byzantine) }

// Manual reports whether the replica waits for typed votes (lab.Config's
// Manual) rather than ordering and voting by itself.
func (n *Node) Manual() bool { return n.cfg.Replica.Manual }

// Links describes the node's connections.
func (n *Node) Links() []LinkInfo { return n.tr.Links() }

// Sent counts messages sent, by receiver; Handled counts those handled (or
// dropped because the replica is crashed), by sender; Rejected counts
// frames that failed authentication.
func (n *Node) Sent() map[string]uint64    { return n.tr.Sent() }
func (n *Node) Handled() map[string]uint64 { return n.handled.snapshot() }
func (n *Node) Rejected() uint64           { return n.tr.Rejected() }

// Close stops the node and waits for its goroutines.
func (n *Node) Close() {
	n.cancel()
	if n.Stuck() != "" {
		// The call holds the lock and never lets it go, and the ticker
		// and any reader handing a message over wait for the lock:
		// closing the links is all that can be done, and the process that
		// leaves ends the call.
		n.tr.stop()
		return
	}
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	n.tr.Close()
	n.ticker.Wait()
	close(n.done)
}

// Stuck names the call into the replica that the node reported as not
// returning (an endless loop, most likely), or is empty while there is
// none.
func (n *Node) Stuck() string {
	if p := n.stuck.Load(); p != nil {
		return *p
	}
	return ""
}

func (n *Node) note(line string) {
	if n.cfg.Observer != nil {
		n.cfg.Observer.Noted(line)
	}
}

func (n *Node) connected(line string) {
	if !n.cfg.QuietLinks {
		n.note(line)
	}
}

// WaitConnected returns once the node's links to every other replica are up.
func (n *Node) WaitConnected(ctx context.Context) error { return n.tr.WaitConnected(ctx) }

// deliver runs on a connection's reader goroutine: it decodes the message
// and hands it to the replica.
func (n *Node) deliver(from lab.ID, client string, payload []byte) {
	m, err := wire.Decode(payload)
	if err == nil && from == lab.Client && lab.KindOf(m) != lab.KindRequest {
		err = fmt.Errorf("a client may only send requests, not %s", lab.KindOf(m))
	}
	if err != nil {
		n.handled.add(from)
		n.cfg.Inflight.add(-1)
		n.note(fmt.Sprintf("dropped a message from %s: %v", who(from, client), err))
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		n.cfg.Inflight.add(-1)
		return
	}
	n.handle(from, m)
}

// tickLoop drives the replica's clock.
func (n *Node) tickLoop() {
	defer n.ticker.Done()
	t := time.NewTicker(n.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			n.mu.Lock()
			if !n.closed {
				n.tick()
			}
			n.mu.Unlock()
		case <-n.ctx.Done():
			return
		}
	}
}

// handle hands m to the replica; mu is held.
func (n *Node) handle(from lab.ID, m lab.Message) {
	if rj := n.rejoin; rj != nil {
		switch lab.KindOf(m) {
		case lab.KindRequest:
			rj.held = append(rj.held, heldRequest{from, m}) // still in flight
			return
		case lab.KindStateReply:
			rj.from[from] = true
			defer func() {
				if len(rj.from) >= lab.Weak(n.N()) {
					n.endRejoin()
				}
			}()
		}
	}
	defer n.cfg.Inflight.add(-1)
	n.handled.add(from)
	if n.crashed || n.failure != nil {
		return
	}
	switch m := m.(type) {
	case *lab.PrePrepare:
		n.lastPP = m
	case *lab.Request:
		if from == lab.Client {
			n.replyAgain(m)
		}
	}
	if n.cfg.Observer != nil {
		n.cfg.Observer.Delivered(from, m)
	}
	n.receive(from, m)
	n.stepped()
}

// replyAgain sends again the reply to a request the client sent before
// and this replica has answered; mu is held.
func (n *Node) replyAgain(req *lab.Request) {
	r, ok := n.replies[req.Client]
	if !ok || r.Timestamp != req.Timestamp {
		return
	}
	_ = n.tr.SendClient(r.Client, wire.Encode(&r))
}

// Rejoin is what a replica does when its process starts: it asks the
// others for their state and view, as after a crash. Started with a
// cluster that is running, it catches up by itself (f+1 matching replies);
// started with the others, it learns that there is nothing to catch up.
// A process restarted as the primary of the view the cluster is in asks,
// when the rejoin ends, for the next view (see leaveLostView).
func (n *Node) Rejoin() error {
	return n.call(func() error {
		if n.failure != nil {
			return n.failure
		}
		if n.rejoin == nil {
			n.rejoin = &rejoin{from: map[lab.ID]bool{}}
			n.rejoin.expired = time.AfterFunc(rejoinWait, func() {
				n.mu.Lock()
				defer n.mu.Unlock()
				if !n.closed {
					n.endRejoin()
				}
			})
		}
		return n.recover()
	})
}

// endRejoin hands the replica the requests held back while it rejoined,
// once it has left a view it cannot lead (see leaveLostView); mu is held.
func (n *Node) endRejoin() {
	rj := n.rejoin
	if rj == nil {
		return
	}
	n.rejoin = nil
	rj.expired.Stop()
	if !n.crashed && n.failure == nil {
		n.guard("Status", func() { n.rejoinedView = n.replica.Status().View })
		n.leaveLostView()
	}
	for _, h := range rj.held {
		n.handle(h.from, h.m)
	}
}

// earlierRun hears that another replica has delivered messages from an
// earlier run of this process. The news may come after the rejoin ended:
// from a replica whose connection came up late, after the rejoin had
// waited rejoinWait for state replies.
func (n *Node) earlierRun() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.closed && n.rejoin == nil {
		n.leaveLostView()
	}
}

// leaveLostView asks for the next view when this process restarted as the
// primary of the view the cluster is in; mu is held. The process has lost
// its log, and with it the sequence numbers its previous run assigned in
// that view: ordering a request now, it would give one of them to another
// request, and a backup that pre-prepared the first would refuse the
// second while a primary that forgot the first decides the second, two
// honest replicas deciding differently at one number. PBFT counts a
// primary that lost its log as faulty, and a faulty primary is replaced
// by a view change, whose new primary learns what was prepared from the
// others. Only the view learned when the process rejoined is lost: one it
// enters later, with its own NEW-VIEW, it leads knowing what was prepared.
// A cluster starting for the first time reports the same state (view 0,
// nothing executed); what tells the two apart is whether the others heard
// from an earlier run of this process (Transport.EarlierRun).
func (n *Node) leaveLostView() {
	if n.crashed || n.failure != nil || n.rejoinedView < 0 || !n.tr.EarlierRun() {
		return
	}
	var st lab.Status
	n.guard("Status", func() { st = n.replica.Status() })
	if n.failure != nil || st.Primary != n.cfg.ID || st.ViewChanging || st.View != n.rejoinedView {
		return
	}
	others := "the others follow once a request waits too long at them (their view-change timers)"
	if n.cfg.Replica.Manual {
		others = "with --manual the others do not follow by themselves: type view change at them"
	}
	c := lab.Command{Op: lab.OpViewChange}
	if n.cfg.Observer != nil {
		n.cfg.Observer.Acted(c, fmt.Sprintf("this replica restarted as the primary of view %d and lost its log: asking for view %d rather than reuse sequence numbers its previous run may have assigned; %s", st.View, st.View+1, others))
	}
	var err error
	n.guard("Do("+c.String()+")", func() { err = n.replica.Do(c) })
	if n.failure != nil {
		return
	}
	if err != nil {
		n.note(fmt.Sprintf("%s could not ask for view %d (%v): type view change at every replica", n.cfg.ID, st.View+1, err))
	}
	n.stepped()
}

// receive is guard for Receive, the busiest call.
func (n *Node) receive(from lab.ID, m lab.Message) {
	kind := lab.KindOf(m)
	n.calls.Add(1)
	n.busy.Store(&n.receiving[kind])
	defer n.recovered("", kind)
	n.replica.Receive(from, m)
}

func (n *Node) tick() {
	if n.crashed || n.failure != nil {
		return
	}
	n.guard("Tick", n.replica.Tick)
	n.stepped()
}

// stepped tells the observer the replica's status after a step.
func (n *Node) stepped() {
	if n.cfg.Observer == nil || n.failure != nil {
		return
	}
	var st lab.Status
	n.guard("Status", func() { st = n.replica.Status() })
	if n.failure == nil {
		n.cfg.Observer.Stepped(st)
	}
}

// guard runs replica code, turning a panic into the replica's failure: the
// process stays up, says what happened, and the replica does nothing more.
//
// What the call sends as datagrams goes out together when it returns (see
// datagrams.cork); the transport is nil while the replica is built.
func (n *Node) guard(what string, f func()) {
	if n.tr != nil {
		n.tr.dg.cork()
		defer n.tr.dg.uncork()
	}
	n.calls.Add(1)
	n.busy.Store(&call{what: what})
	defer n.recovered(what, 0)
	f()
}

// recovered ends a call into the replica, deferred: a panic becomes the
// replica's failure.
func (n *Node) recovered(what string, kind lab.Kind) {
	n.busy.Store(nil)
	if v := recover(); v != nil {
		c := call{what: what, kind: kind}
		n.failure = fmt.Errorf("%s failed: panic in %s: %v", n.cfg.ID, c.name(), v)
		n.note(fmt.Sprintf("%v\n%s", n.failure, debug.Stack()))
	}
}

// call runs f with the replica held and returns its error.
func (n *Node) call(f func() error) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return ErrClosed
	}
	return f()
}

// Do hands the replica a console command.
func (n *Node) Do(c lab.Command) error {
	return n.call(func() error {
		if n.failure != nil {
			return n.failure
		}
		if n.crashed && c.Op != lab.OpRecover {
			return fmt.Errorf("%s is crashed: type recover first", n.cfg.ID)
		}
		var err error
		n.guard("Do("+c.String()+")", func() { err = n.replica.Do(c) })
		if n.failure != nil {
			return n.failure
		}
		n.stepped()
		return err
	})
}

// VoteTo sends, in this Byzantine replica's name, one vote to replica to
// about the last pre-prepare it received, whatever the replica's own code
// would do. Byzantine replicas repeat themselves, so it goes twice, as in
// the simulator: an honest receiver must count it once.
func (n *Node) VoteTo(to lab.ID, op lab.Op, yes bool) error {
	return n.call(func() error {
		switch {
		case !slices.Contains(n.cfg.Byzantine, n.cfg.ID):
			return fmt.Errorf("only a Byzantine replica sends a vote to a single replica, and %s is honest here", n.cfg.ID)
		case to == n.cfg.ID || to < 0 || int(to) >= n.N():
			return fmt.Errorf("%s is not another replica of this cluster", to)
		case n.crashed:
			return fmt.Errorf("%s is crashed: type recover first", n.cfg.ID)
		case n.lastPP == nil:
			return fmt.Errorf("%s has received no pre-prepare to vote on", n.cfg.ID)
		}
		payload := wire.Encode(sim.ForgedVote(n.cfg.ID, *n.lastPP, op, yes))
		n.tr.Send(to, payload)
		n.tr.Send(to, payload)
		return nil
	})
}

// Crash stops the replica without stopping the process: from now on it is
// handed nothing (what arrives is dropped), it does not tick, and it sends
// nothing, until Recover.
func (n *Node) Crash() error {
	return n.call(func() error {
		if n.crashed {
			return fmt.Errorf("%s is already crashed", n.cfg.ID)
		}
		n.crashed = true
		n.note(fmt.Sprintf("%s crashed: it drops whatever arrives and sends nothing until recover", n.cfg.ID))
		return nil
	})
}

// Recover brings the replica back and tells it to catch up.
func (n *Node) Recover() error {
	return n.call(func() error {
		if n.failure != nil {
			return n.failure
		}
		if n.crashed {
			n.crashed = false
			n.note(fmt.Sprintf("%s recovered: asking the others for the state it missed", n.cfg.ID))
		}
		return n.recover()
	})
}

// recover tells the replica to catch up; mu is held.
func (n *Node) recover() error {
	var err error
	n.guard("Do(recover)", func() { err = n.replica.Do(lab.Command{Op: lab.OpRecover}) })
	if n.failure != nil {
		return n.failure
	}
	n.stepped()
	return err
}

// Tick advances the replica's clock by one, as the ticker does.
func (n *Node) Tick() error {
	return n.call(func() error {
		n.tick()
		return n.failure
	})
}

// Crashed reports whether the replica is crashed.
func (n *Node) Crashed() bool {
	var c bool
	_ = n.call(func() error { c = n.crashed; return nil })
	return c
}

// Failure is the panic that stopped the replica, if any.
func (n *Node) Failure() error {
	var err error
	if n.call(func() error { err = n.failure; return nil }) == ErrClosed {
		return ErrClosed
	}
	return err
}

// Status asks the replica for its status.
func (n *Node) Status() (lab.Status, error) {
	var st lab.Status
	err := n.call(func() error {
		if n.failure != nil {
			return n.failure
		}
		n.guard("Status", func() { st = n.replica.Status() })
		return n.failure
	})
	return st, err
}

// Balances returns the replica's balances.
func (n *Node) Balances() map[string]int {
	var b map[string]int
	_ = n.call(func() error { b = n.bank.Balances(); return nil })
	return b
}

// Snapshot is the state of the replica's bank now, as a checkpoint would
// hold it.
func (n *Node) Snapshot() lab.Snapshot {
	var s lab.Snapshot
	_ = n.call(func() error { s = n.bank.Snapshot(); return nil })
	return s
}

// SnapshotInStep is Snapshot for an Observer method, which runs with the
// replica held (Snapshot would wait for itself).
func (n *Node) SnapshotInStep() lab.Snapshot { return n.bank.Snapshot() }

// StableCheckpoints lists the sequence numbers the replica reported stable.
func (n *Node) StableCheckpoints() []int {
	var s []int
	_ = n.call(func() error { s = slices.Clone(n.stable); return nil })
	return s
}

// env is the replica's Env. Its methods run on the loop goroutine, inside
// calls to the replica.
type env struct{ n *Node }

func (e env) silent() bool { return e.n.crashed || e.n.failure != nil }

func (e env) Send(to lab.ID, m lab.Message) {
	if e.silent() {
		return
	}
	if to == e.n.cfg.ID {
		e.n.note(fmt.Sprintf("%s sent %s to itself; dropped (record your own vote directly)", to, lab.KindOf(m)))
		return
	}
	e.n.tr.Send(to, wire.Encode(m))
}

func (e env) Broadcast(m lab.Message) {
	if e.silent() {
		return
	}
	payload := wire.Encode(m)
	for i := range e.n.N() {
		if lab.ID(i) != e.n.cfg.ID {
			e.n.tr.Send(lab.ID(i), payload)
		}
	}
}

func (e env) Reply(r lab.Reply) {
	if e.silent() {
		return
	}
	if isConsoleClient(r.Client) {
		return
	}
	if e.n.replies == nil {
		e.n.replies = map[string]lab.Reply{}
	}
	if old, ok := e.n.replies[r.Client]; !ok || old.Timestamp <= r.Timestamp {
		e.n.replies[r.Client] = r
	}
	if err := e.n.tr.SendClient(r.Client, wire.Encode(&r)); err != nil {
		e.n.note(fmt.Sprintf("reply for request %s#%d not sent: %v", r.Client, r.Timestamp, err))
	}
}

// Tracing tells the replica whether its Logf lines go anywhere: only an
// observer hears them (lab.Tracing).
func (e env) Tracing() bool { return e.n.cfg.Observer != nil }

func (e env) Logf(format string, args ...any) {
	if e.n.cfg.Observer != nil {
		e.n.cfg.Observer.Logged(fmt.Sprintf(format, args...))
	}
}

func (e env) Checkpointed(s lab.Snapshot, stable bool) {
	if stable {
		e.n.stable = append(e.n.stable, s.Seq)
	}
	if e.n.cfg.Checkpointed != nil {
		e.n.cfg.Checkpointed(s, stable, e.status())
	}
	if e.n.cfg.Observer != nil {
		e.n.cfg.Observer.Checkpointed(s, stable)
	}
}

// status reads the replica's status from inside one of its calls, for the
// checkpoint files: a snapshot block names the view and the transactions
// that led to it, and a replica reports a checkpoint once it has executed
// up to it. The lab's contract has the kit call a replica one call at a
// time; Status only reads, so it is safe here, and a replica whose Status
// panics half-way through a step costs the files their context, not the
// replica its life.
func (e env) status() (st lab.Status) {
	defer func() {
		if recover() != nil {
			st = lab.Status{ID: e.n.cfg.ID, View: -1}
		}
	}()
	return e.n.replica.Status()
}

// isConsoleClient recognises the requests typed at the primary's own console
// ("tx OPERATION"): the reference replica names their client console-P0,
// and nobody is connected under that name to hear the reply.
func isConsoleClient(name string) bool {
	return strings.HasPrefix(name, "console-")
}
