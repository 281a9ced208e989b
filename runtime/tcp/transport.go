package tcp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"pbftlab/lab"
)

// Reconnection backoff: the first retry comes quickly, so processes started
// one after another find each other at once; later ones slow down, so a
// peer that is gone for good costs little.
const (
	DefaultMinBackoff = 25 * time.Millisecond
	DefaultMaxBackoff = 2 * time.Second
	dialTimeout       = 2 * time.Second
)

// TransportConfig configures one endpoint's transport.
type TransportConfig struct {
	Self  lab.ID // a replica, or lab.Client
	Name  string // the client's name; replicas leave it empty
	Peers Peers
	Keys  *Keyring // nil means DefaultKeyring
	// Listener is where the endpoint accepts connections; a client has none.
	Listener net.Listener
	// Settings are a replica's, which every replica it connects to must
	// share (see Settings); a link to a replica with other settings is
	// refused, and noted once. A client leaves it nil.
	Settings *Settings
	// EarlierRun, when set, is called once EarlierRun becomes true, from
	// the goroutine of the link that brought the news, before anything that
	// link carries is delivered.
	EarlierRun func()
	// Deliver receives every authenticated payload, from the goroutine that
	// reads its connection. client is the client's name when from is
	// lab.Client. payload is good only until Deliver returns: the reader
	// reads the next frame over it (wire.Decode copies what it keeps).
	Deliver func(from lab.ID, client string, payload []byte)
	// Note receives what the transport has to say about trouble: a peer
	// unreachable, a connection lost or refused, a frame rejected.
	// Connected receives the good news: a link up, a client connected.
	// Both may be called from any goroutine.
	Note      func(line string)
	Connected func(line string)
	// Inflight, when set, counts every message sent until its receiver has
	// handled it; the receiver must be in the same process and share it.
	Inflight *Inflight
	// Backoff bounds between reconnection attempts; zero means the defaults.
	MinBackoff, MaxBackoff time.Duration
	QueueLimit             int
	// NoDatagrams keeps every message on the connections: the replica
	// neither reads datagrams nor sends them (see datagram.go).
	NoDatagrams bool
}

// clientBox holds the replies for one client, across its connections: a
// client that reconnects gets what was not yet acknowledged.
type clientBox struct {
	q    *queue
	link *link // the newest connection, nil while there is none
	// awaited: replies were queued before the client ever connected.
	awaited bool
	// toldTwins: a connection replaced one still open, and the console was
	// told, once, that two clients may share the name.
	toldTwins bool
}

// maxAwaitedClients bounds the clients that get replies before they have
// ever connected, so that requests naming ever new clients cannot make a
// replica hold replies without end.
const maxAwaitedClients = 64

// origin is one run of one sender, for dropping messages delivered twice.
type origin struct {
	peer lab.ID
	name string
	inc  incarnation
}

// Transport is one endpoint's connections: a listener for what others send,
// and a persistent, reconnecting link to every replica for what it sends.
type Transport struct {
	cfg    TransportConfig
	quiet  quietNotes // for the notes a burst of messages would repeat
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	dialers map[lab.ID]*dialer // fixed at start
	hello   greeter
	// earlier is set once a replica has said, connecting, that it
	// delivered messages from an earlier run of this endpoint (see
	// EarlierRun).
	earlier atomic.Bool
	// flapTold: a dialer said why its links break at once; the others,
	// whose links break for the same reason, need not.
	flapTold atomic.Bool

	mu       sync.Mutex
	accepted map[*link]bool        // links others dialled
	clients  map[string]*clientBox // by name: what waits for each client
	awaited  int                   // clients in clients that never connected
	// refused counts the refused greetings of each claimed peer since it
	// last connected: the first is reported, the others only counted.
	refused   map[string]int
	delivered map[origin]*inbox // what was delivered from each sender
	// dgFrom is, for each sender, the newest link whose datagrams this
	// endpoint reads: a replica's or a client's that dialled it, or, at a
	// client, its own to a replica.
	dgFrom map[dgKey]dgLink
	dg     *datagrams // nil when the endpoint reads no datagrams
	// settingsTold is the note last given of each replica refused for its
	// settings, until a link with it comes up (see tellSettings).
	settingsTold map[lab.ID]string

	sent     counts
	rejected atomic.Uint64
	hold     holding

	// ackClock ticks ackDelay after the first acknowledgement owed since
	// its last tick, while ackArmed (see owe).
	ackClock *time.Timer
	ackArmed atomic.Bool

	// changed is closed and replaced whenever an outbound link goes up or
	// down, for WaitConnected.
	changed chan struct{}
}

// StartTransport starts listening (if cfg.Listener is set) and dialling
// every replica other than cfg.Self.
func StartTransport(cfg TransportConfig) *Transport {
	if cfg.Keys == nil {
		cfg.Keys = DefaultKeyring()
	}
	if cfg.Note == nil {
		cfg.Note = func(string) {}
	}
	if cfg.Connected == nil {
		cfg.Connected = func(string) {}
	}
	if cfg.Deliver == nil {
		cfg.Deliver = func(lab.ID, string, []byte) {}
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	t := &Transport{
		cfg:          cfg,
		dialers:      map[lab.ID]*dialer{},
		accepted:     map[*link]bool{},
		clients:      map[string]*clientBox{},
		refused:      map[string]int{},
		delivered:    map[origin]*inbox{},
		dgFrom:       map[dgKey]dgLink{},
		settingsTold: map[lab.ID]string{},
		changed:      make(chan struct{}),
	}
	t.hello = greeter{keys: cfg.Keys, self: cfg.Self, name: cfg.Name, inc: newIncarnation()}
	if cfg.Self != lab.Client {
		t.hello.heardFrom = t.heardFrom
		if cfg.Settings != nil {
			t.hello.settings = cfg.Settings.describe()
		}
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	if (cfg.Listener != nil || cfg.Self == lab.Client) && !cfg.NoDatagrams {
		var at net.Addr
		if cfg.Listener != nil {
			at = cfg.Listener.Addr()
		}
		dg, err := listenDatagrams(t, at)
		switch {
		case err != nil && cfg.Self == lab.Client:
			cfg.Note(fmt.Sprintf("cannot read datagrams (%v): replies come on the connections only, which is slower", err))
		case err != nil:
			cfg.Note(fmt.Sprintf("cannot read datagrams at %s (%v): the others send to this replica on their connections only, which is slower", at, err))
		default:
			t.dg = dg
			if cfg.Self == lab.Client {
				t.hello.dgPort = dg.port() // a replica reads at its listening address
			} else {
				t.hello.datagrams = true
			}
			t.wg.Add(1)
			go dg.read()
		}
	}
	t.ackClock = time.AfterFunc(time.Hour, t.tickAcks)
	t.ackClock.Stop()
	for i := range cfg.Peers.N() {
		id := lab.ID(i)
		if id == cfg.Self {
			continue
		}
		d := &dialer{t: t, peer: id, addr: cfg.Peers.Addr(id), q: newQueue(cfg.QueueLimit)}
		t.dialers[id] = d
		t.wg.Add(1)
		go d.run()
	}
	if cfg.Listener != nil {
		t.wg.Add(1)
		go t.acceptLoop()
	}
	return t
}

// Addr is where the transport listens, or nil for a client.
func (t *Transport) Addr() net.Addr {
	if t.cfg.Listener == nil {
		return nil
	}
	return t.cfg.Listener.Addr()
}

// Send queues payload for replica to. It never blocks.
func (t *Transport) Send(to lab.ID, payload []byte) {
	d, ok := t.dialers[to]
	if !ok {
		t.cfg.Note(fmt.Sprintf("dropped a message to %s: not a replica this endpoint sends to", to))
		return
	}
	t.sent.add(to)
	t.cfg.Inflight.add(1)
	if d.q.push(payload) {
		t.cfg.Inflight.add(-1)
		if line, ok := t.quiet.pass("full "+to.String(), fmt.Sprintf("the queue to %s is full; dropped its oldest message", to)); ok {
			t.cfg.Note(line)
		}
	}
	d.mu.Lock()
	l := d.cur
	d.mu.Unlock()
	t.flush(l, d.q)
}

// SendClient queues payload for the client called name. It never blocks.
// A reply waits in that client's queue until the client is connected,
// whether it was connected before or has not connected yet.
func (t *Transport) SendClient(name string, payload []byte) error {
	t.mu.Lock()
	box := t.clients[name]
	if box == nil {
		// A client that has not connected yet may be on its way: one
		// started before the replicas, or whose connection to this
		// replica is still being made. Its replies wait for it, up to
		// maxAwaitedClients names, so that a replica that executes a
		// request before the client reaches it does not lose the reply.
		if t.awaited >= maxAwaitedClients {
			t.mu.Unlock()
			return fmt.Errorf("client %q has never connected to %s, and %d other clients are awaited already", name, t.cfg.Self, t.awaited)
		}
		t.awaited++
		box = &clientBox{q: newQueue(t.cfg.QueueLimit), awaited: true}
		t.clients[name] = box
	}
	t.mu.Unlock()
	t.sent.add(lab.Client)
	t.cfg.Inflight.add(1)
	if box.q.push(payload) {
		t.cfg.Inflight.add(-1)
		if line, ok := t.quiet.pass("full client "+name, fmt.Sprintf("the queue to client %s is full; dropped its oldest reply", name)); ok {
			t.cfg.Note(line)
		}
	}
	t.mu.Lock()
	l := box.link
	t.mu.Unlock()
	t.flush(l, box.q)
	return nil
}

// EarlierRun reports whether another replica, connecting to this one, has
// said that it delivered messages from an earlier run of this endpoint: a
// process killed and started again, into a cluster that heard from it
// before. A replica cannot tell that from the others' state (a primary
// restarted before anything executed finds what a cluster starting for
// the first time finds), but the others' transports remember every run of
// every sender. A replica's messages go on the links it dials, each after
// its handshake, so once a message from a replica has been delivered,
// what that replica had to say of earlier runs is known here.
func (t *Transport) EarlierRun() bool { return t.earlier.Load() }

// heardFrom says whether a message from a run of replica peer other than
// inc has been delivered here.
func (t *Transport) heardFrom(peer lab.ID, inc incarnation) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for o := range t.delivered {
		if o.peer == peer && o.name == "" && o.inc != inc {
			return true
		}
	}
	return false
}

// tellSettings notes a link to peer refused because the two replicas'
// settings differ. Each refuses the other again at every attempt to
// connect, and the one line saying what to change must not be buried
// under its repetitions: a line is given once, until a link with peer
// comes up, or the difference changes.
func (t *Transport) tellSettings(peer lab.ID, err error) {
	line := err.Error()
	t.mu.Lock()
	told := t.settingsTold[peer] == line
	t.settingsTold[peer] = line
	t.mu.Unlock()
	if !told {
		t.cfg.Note(line)
	}
}

// Sent counts the messages queued so far, by receiver: "P1", ..., "client".
func (t *Transport) Sent() map[string]uint64 { return t.sent.snapshot() }

// Rejected counts the frames and datagrams dropped because they failed
// authentication, and the datagrams from a sender this endpoint has no
// link with.
func (t *Transport) Rejected() uint64 { return t.rejected.Load() }

// LinkInfo describes one connection, for the console's "net" command.
type LinkInfo struct {
	Peer     lab.ID
	Name     string // a client's name
	Addr     string
	Outbound bool // dialled by this endpoint, to send on
	Up       bool
	Queued   int    // messages not yet acknowledged by the peer
	Err      string // why an outbound link is down
	// Datagrams says how the link sends messages besides its connection:
	// "datagrams", "datagrams given up" (they went unacknowledged), or ""
	// for none (see datagram.go).
	Datagrams string
}

// Links describes the outbound links, replica by replica, then the inbound
// ones.
func (t *Transport) Links() []LinkInfo {
	var out []LinkInfo
	for i := range t.cfg.Peers.N() {
		if d, ok := t.dialers[lab.ID(i)]; ok {
			out = append(out, d.info())
		}
	}
	t.mu.Lock()
	var in []LinkInfo
	for l := range t.accepted {
		li := LinkInfo{Peer: l.peer, Name: l.name, Addr: l.conn.RemoteAddr().String(), Up: true, Datagrams: l.dg.state()}
		if box := t.clients[l.name]; l.peer == lab.Client && box != nil {
			li.Queued = box.q.len()
		}
		in = append(in, li)
	}
	t.mu.Unlock()
	slices.SortFunc(in, func(a, b LinkInfo) int {
		return cmp.Or(cmp.Compare(a.Peer, b.Peer), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Addr, b.Addr))
	})
	return append(out, in...)
}

// WaitConnected returns once every outbound link is up, or with an error
// naming the links still down when ctx ends.
func (t *Transport) WaitConnected(ctx context.Context) error {
	for {
		t.mu.Lock()
		changed := t.changed
		t.mu.Unlock()
		var down []string
		for i := range t.cfg.Peers.N() {
			if d, ok := t.dialers[lab.ID(i)]; ok {
				if li := d.info(); !li.Up {
					down = append(down, fmt.Sprintf("%s at %s (%s)", li.Peer, li.Addr, cmp.Or(li.Err, "not yet tried")))
				}
			}
		}
		if len(down) == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("%s cannot reach %s", who(t.cfg.Self, t.cfg.Name), strings.Join(down, ", "))
		}
	}
}

// Close stops listening and dialling, closes every connection and waits
// for the transport's goroutines to end.
func (t *Transport) Close() {
	t.stop()
	t.wg.Wait()
	if t.dg != nil {
		<-t.dg.closed // its port is free again when Close returns
	}
}

// stop is Close without the wait: a goroutine handing a message to a
// replica whose call never returns would never end.
func (t *Transport) stop() {
	t.cancel()
	t.ackClock.Stop()
	if t.cfg.Listener != nil {
		_ = t.cfg.Listener.Close()
	}
	if t.dg != nil {
		t.dg.close()
	}
	t.mu.Lock()
	for l := range t.accepted {
		l.close()
	}
	t.mu.Unlock()
	// A writer blocked on a peer that stopped reading wakes up only when its
	// connection closes.
	for _, d := range t.dialers {
		d.mu.Lock()
		if d.cur != nil {
			d.cur.close()
		}
		d.mu.Unlock()
	}
}

func (t *Transport) acceptLoop() {
	defer t.wg.Done()
	for {
		conn, err := t.cfg.Listener.Accept()
		if err != nil {
			if t.ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				t.cfg.Note(fmt.Sprintf("stopped accepting connections: %v", err))
			}
			return
		}
		t.wg.Add(1)
		go t.serveAccepted(conn)
	}
}

// validPeer says who may connect: another replica of the cluster, or a
// client that gives a name.
func (t *Transport) validPeer(id lab.ID, name string) error {
	switch {
	case id == lab.Client && name == "":
		return errors.New("a client connected without a name")
	case id == lab.Client:
		return nil
	case id == t.cfg.Self:
		return fmt.Errorf("a process claims to be %s, which is this replica (two started with the same ID?)", id)
	case id < 0 || int(id) >= t.cfg.Peers.N():
		return fmt.Errorf("%s is not a replica of this %d-replica cluster", id, t.cfg.Peers.N())
	}
	return nil
}

func (t *Transport) serveAccepted(conn net.Conn) {
	defer t.wg.Done()
	// Closing the transport must not wait for a handshake to time out.
	stop := context.AfterFunc(t.ctx, func() { _ = conn.Close() })
	l, claimed, err := t.hello.welcome(conn, t.validPeer)
	stop()
	if err != nil {
		_ = conn.Close()
		if t.ctx.Err() == nil {
			t.refuse(conn.RemoteAddr(), claimed, err)
		}
		return
	}
	if l.earlier && !t.earlier.Swap(true) && t.cfg.EarlierRun != nil {
		// Before anything the link carries is delivered (see EarlierRun).
		t.cfg.EarlierRun()
	}
	if l.peer == lab.Client {
		l.dg = t.dg.newSender(l, "") // replies as datagrams, if the client reads them
	}
	var q *queue
	t.mu.Lock()
	if t.ctx.Err() != nil {
		t.mu.Unlock()
		l.close()
		return
	}
	delete(t.refused, claimed)
	connected := "" // what the console is told of a client's connection
	if l.peer != lab.Client {
		delete(t.settingsTold, l.peer)
	}
	t.accepted[l] = true
	if l.peer == lab.Client {
		box := t.clients[l.name]
		if box == nil {
			box = &clientBox{q: newQueue(t.cfg.QueueLimit)}
			t.clients[l.name] = box
		}
		if box.awaited {
			box.awaited = false
			t.awaited--
		}
		connected = fmt.Sprintf("client %s connected", l.name)
		if box.link != nil {
			box.link.close() // a client has one connection; the newest wins
			connected += " again while its earlier connection was open: restarted, or two clients with that name? Two would replace each other's connection again and again (said once)"
			if box.toldTwins {
				connected = ""
			}
			box.toldTwins = true
		}
		box.link, q = l, box.q
	}
	if l.dgOpen != nil {
		t.dgFrom[dgKey{l.peer, l.name}] = dgLink{l, q}
	}
	t.mu.Unlock()
	if connected != "" {
		t.cfg.Connected(connected)
	}

	done := make(chan error, 1)
	go func() { done <- t.readLoop(l, q) }()
	_ = t.writeLoop(l, q, done)
	l.close()

	t.mu.Lock()
	delete(t.accepted, l)
	if k := (dgKey{l.peer, l.name}); t.dgFrom[k].l == l {
		delete(t.dgFrom, k)
	}
	if box := t.clients[l.name]; l.peer == lab.Client && box.link == l {
		box.link, box.toldTwins = nil, false
	}
	t.mu.Unlock()
}

// refuse reports a connection refused in the handshake. A process with
// another cluster key dials again and again; its first refusal is
// reported, with what to do about it, and the later ones are only counted
// (net shows them as rejected), so the one useful line is not buried.
func (t *Transport) refuse(addr net.Addr, claimed string, err error) {
	auth := errors.Is(err, ErrAuth)
	if auth {
		// Counted once the refusal is told, so that whoever reads the
		// count finds the line that explains it.
		defer t.rejected.Add(1)
	}
	key := claimed
	if key == "" {
		key = addr.String()
	}
	t.mu.Lock()
	t.refused[key]++
	first := t.refused[key] == 1
	t.mu.Unlock()
	var se *settingsError
	if errors.As(err, &se) {
		t.tellSettings(se.peer, err)
		return
	}
	if !first {
		return
	}
	if auth {
		t.cfg.Note(fmt.Sprintf("refused %s (from %s): its greeting does not verify with this process's cluster key; every process must be started with the same --key file (or none). Further refusals are counted in net, not printed", key, addr))
		return
	}
	t.cfg.Note(fmt.Sprintf("refused a connection from %s: %v", addr, err))
}

// Acknowledgements ride on the messages going the other way. One that has
// none to ride on goes alone within ackDelay, or at once when ackBatch
// messages are waiting for it: a message waits in its sender's queue until
// acknowledged, so this bounds what a broken connection makes the sender
// write again, at a third fewer frames than acknowledging each message.
const (
	ackDelay = 5 * time.Millisecond
	ackBatch = 64
)

// owe records that messages up to no have arrived on l, for l's writer to
// acknowledge. One clock serves every link of the transport: the first
// message owed starts it, and when it comes round, ackDelay later, it
// wakes the writer of each link that still owes an acknowledgement. A
// timer of each link's own, armed by its writer, would cost a hand-over to
// the writer for every few messages received; the clock costs one for
// every few milliseconds of traffic.
//
// tickAcks clears ackArmed before it reads what the links owe, and owe
// stores what a link owes before it reads ackArmed, so one of the two
// sees the other's news: no acknowledgement is left without a tick.
func (t *Transport) owe(l *link, no uint64) {
	if no <= l.ackOwed.Load() {
		return
	}
	l.ackOwed.Store(no)
	if no-l.ackSent.Load() >= ackBatch {
		l.wakeWriter()
		return
	}
	if !t.ackArmed.Load() && !t.ackArmed.Swap(true) {
		t.ackClock.Reset(ackDelay)
	}
}

// tickAcks wakes the writer of every link that owes an acknowledgement.
func (t *Transport) tickAcks() {
	t.ackArmed.Store(false)
	due := func(l *link) {
		if l.ackOwed.Load() > l.ackSent.Load() {
			l.ackDue.Store(true)
			l.wakeWriter()
		}
	}
	t.mu.Lock()
	for l := range t.accepted {
		due(l)
	}
	t.mu.Unlock()
	for _, d := range t.dialers {
		d.mu.Lock()
		if d.cur != nil {
			due(d.cur)
		}
		d.mu.Unlock()
	}
}

// A writer puts every message waiting for its peer, up to writeBatch of
// them, in one buffer and writes it at once: under load one system call
// carries many frames, while a lone message still goes out the moment it is
// queued.
const (
	writeBatch    = 256
	maxWrite      = 256 << 10
	maxKeptBuffer = 1 << 20
)

// writeLoop writes on l, until the link ends (done delivers the end of its
// reader) or the transport closes, the messages of q, if any, and the
// acknowledgements owed for what l received. It returns once the reader has
// ended.
func (t *Transport) writeLoop(l *link, q *queue, done chan error) error {
	fail := func(err error) error {
		l.close()
		<-done
		return err
	}
	var more <-chan struct{}
	l.wmu.Lock()
	if q != nil {
		var dropped int
		l.q, more = q, q.wake
		l.gen, dropped = q.rewind(l.inc)
		t.cfg.Inflight.add(-dropped)
	}
	var err error
	if l.dgOpen != nil {
		// The link is where this endpoint's datagram socket finds it: a
		// frame tells the other end, which sends no datagram before it
		// hears from this one (see dgSender.ready).
		err = l.sendAck(l.ackSent.Load())
	}
	l.wmu.Unlock()
	if err != nil {
		return fail(err)
	}
	for {
		l.wmu.Lock()
		// A message that found the link's writer busy goes as a datagram
		// all the same, unless the endpoint is under load (see holding).
		wrote := l.dg != nil && !t.underLoad() && l.sendDatagrams()
		var stale bool
		var err error
		if !wrote {
			wrote, _, stale, err = l.writeQueued(false)
		}
		acked := false
		if err == nil && !wrote && !stale {
			owed, sent := l.ackOwed.Load(), l.ackSent.Load()
			due := l.ackDue.Swap(false)
			if owed > sent && (due || owed-sent >= ackBatch) {
				if err = l.sendAck(owed); err == nil {
					l.ackSent.Store(owed)
					acked = true
				}
			}
		}
		l.wmu.Unlock()
		switch {
		case stale:
			q.signal() // the newer connection's writer may have missed it
			return fail(errors.New("replaced by a newer connection"))
		case err != nil:
			return fail(err)
		case wrote || acked:
			continue
		}
		select {
		case <-more:
		case <-l.wake:
		case err := <-done:
			return err
		case <-t.ctx.Done():
			return fail(t.ctx.Err())
		}
	}
}

// writeQueued writes, in one system call, the messages of the link's
// queue not yet written on it, up to writeBatch of them, each carrying the
// acknowledgement owed; wmu is held. more says some may be left for the
// next call; stale says a newer connection has taken the queue over.
//
// A sender's write (inline) never waits: what the socket does not take
// goes to rest, for the writer goroutine, and until rest is written a
// sender writes nothing, so that frames never interleave.
func (l *link) writeQueued(inline bool) (wrote, more, stale bool, err error) {
	if len(l.rest) > 0 {
		if inline {
			return false, true, false, nil
		}
		if _, err := l.conn.Write(l.rest); err != nil {
			return false, false, false, err
		}
		l.rest = nil
		return true, true, false, nil
	}
	if l.q == nil {
		return false, false, false, nil
	}
	got, oldest, stale := l.q.unwritten(l.items[:0], l.gen, writeBatch)
	l.items = got
	if stale || len(got) == 0 {
		return false, false, stale, nil
	}
	owed := l.ackOwed.Load()
	buf := l.out[:0]
	var last uint64
	n := 0
	for _, it := range got {
		buf = appendMessage(&l.seal, buf, it.no, l.owed(owed), oldest, it.payload)
		last = it.no
		n++
		if len(buf) >= maxWrite {
			break // the rest goes in the next write
		}
	}
	more = n < len(got) || len(got) == writeBatch
	clear(got) // the payloads belong to the queue
	if inline && l.raw != nil {
		k, err := l.tryWrite(buf)
		if err != nil {
			return false, false, false, err
		}
		if k < len(buf) {
			l.rest, more = buf[k:], true // the next call writes it first
		}
	} else if _, err := l.conn.Write(buf); err != nil {
		return false, false, false, err
	}
	l.out = buf
	if cap(buf) > maxKeptBuffer {
		l.out = nil // a state transfer's buffer is not worth keeping
	}
	l.q.written(l.gen, last)
	if owed > l.ackSent.Load() {
		l.ackSent.Store(owed)
	}
	return true, more, false, nil
}

// holding holds what an endpoint sends while it is under load. A reader
// that has read more than the frame it hands over is working through a
// backlog; while any reader is, the messages sent are queued but not
// written, and when the last of them has handed its backlog over, each
// link that has messages waiting writes them all with one system call,
// where writing each message as it is sent would cost one system call
// each. A lone message, the lab's protocol at the keyboard, finds no
// backlog and leaves at once.
//
// Readers whose backlogs follow one another without a break would hold
// the messages for as long as the load lasts, so what is held is written
// in any case once holdFrames frames have been handed over since.
type holding struct {
	mu      sync.Mutex
	readers int        // readers working through a backlog
	links   []heldLink // links with messages held, each once
	spare   []heldLink
	frames  int // frames handed over since a message was first held
}

// holdFrames bounds how many frames the endpoint hands over while a
// message is held (see holding): enough for a batch, few enough that a
// message is held for less than a millisecond.
const holdFrames = 64

type heldLink struct {
	l *link
	q *queue
}

// flush writes what was just queued on q for l, now or, while the
// endpoint is under load, once the backlog is handed over (see holding).
func (t *Transport) flush(l *link, q *queue) {
	if l != nil {
		h := &t.hold
		h.mu.Lock()
		if h.readers > 0 {
			if !slices.Contains(h.links, heldLink{l, q}) {
				h.links = append(h.links, heldLink{l, q})
			}
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
	}
	if !writeNow(l, true) {
		q.signal()
	}
}

// underLoad says whether a reader is working through a backlog.
func (t *Transport) underLoad() bool {
	t.hold.mu.Lock()
	defer t.hold.mu.Unlock()
	return t.hold.readers > 0
}

// holdFrom counts a reader that begins working through a backlog.
func (t *Transport) holdFrom() {
	t.hold.mu.Lock()
	t.hold.readers++
	t.hold.mu.Unlock()
}

// release counts a reader that has handed its backlog over; the last one
// writes what was held.
func (t *Transport) release() {
	h := &t.hold
	h.mu.Lock()
	h.readers--
	var links []heldLink
	if h.readers == 0 {
		links = h.take()
	}
	h.mu.Unlock()
	t.writeHeld(links)
}

// handedOver counts a frame handed over by a reader working through a
// backlog, and writes what is held once holdFrames have been.
func (t *Transport) handedOver() {
	h := &t.hold
	h.mu.Lock()
	var links []heldLink
	if len(h.links) > 0 {
		if h.frames++; h.frames >= holdFrames {
			links = h.take()
		}
	}
	h.mu.Unlock()
	t.writeHeld(links)
}

// take returns the links held and starts holding afresh; mu is held.
func (h *holding) take() []heldLink {
	links := h.links
	h.links, h.spare, h.frames = h.spare, nil, 0
	return links
}

// writeHeld writes the links take returned, then gives their slice back.
func (t *Transport) writeHeld(links []heldLink) {
	if links == nil {
		return
	}
	for _, hl := range links {
		if !writeNow(hl.l, false) {
			hl.q.signal()
		}
	}
	clear(links)
	t.hold.mu.Lock()
	t.hold.spare = links[:0]
	t.hold.mu.Unlock()
}

// writeNow writes what was just queued for l from the sender's goroutine,
// when nobody else is writing on l: the message leaves at once, and the
// writer goroutine is not woken at all, which saves two hand-overs between
// goroutines on every hop of the protocol. It reports whether it took care of
// the queue; when it did not, the caller wakes the link's writer (see
// queue.signal). If the write fails, the link ends and the next
// connection writes the message again.
//
// A message goes as a datagram when it can (dgOK) and its link sends them:
// not what was held under load, which one write on the connection carries
// at a fraction of what a datagram each costs.
func writeNow(l *link, dgOK bool) bool {
	if l == nil || !l.wmu.TryLock() {
		return false
	}
	if dgOK && l.dg != nil && l.sendDatagrams() {
		l.wmu.Unlock()
		return true
	}
	if l.raw == nil {
		_ = l.conn.SetWriteDeadline(time.Now().Add(inlineWriteLimit))
	}
	_, more, stale, err := l.writeQueued(true)
	if l.raw == nil {
		_ = l.conn.SetWriteDeadline(time.Time{})
	}
	l.wmu.Unlock()
	if err != nil {
		l.close()
	}
	return err != nil || !(more || stale)
}

// inlineWriteLimit bounds a write made from a sender's goroutine, which
// may hold its replica, on a connection that has no file descriptor to
// write to without waiting (see link.tryWrite): a peer that stops reading
// makes the link break and be made again rather than stop the sender.
const inlineWriteLimit = 200 * time.Millisecond

// readLoop hands each message that arrives on l to Deliver, once: a
// message sent again after a reconnection is acknowledged but not
// delivered twice. Acknowledgements that arrive release the messages of q.
// A frame that fails authentication is counted, reported and skipped.
func (t *Transport) readLoop(l *link, q *queue) error {
	held := false // this reader is working through a backlog (see holding)
	defer func() {
		if held {
			t.release()
		}
	}()
	return l.readFrames(func(frame []byte, more bool) error {
		if more && !held {
			t.holdFrom()
			held = true
		}
		t.dg.cork()
		err := t.receive(l, q, frame)
		t.dg.uncork()
		switch {
		case held && !more:
			held = false
			t.release()
		case held:
			t.handedOver()
		}
		return err
	})
}

// receive handles one frame that arrived on l.
func (t *Transport) receive(l *link, q *queue, frame []byte) error {
	fb, err := l.parse(frame)
	if errors.Is(err, ErrAuth) {
		t.rejected.Add(1)
		t.cfg.Note(fmt.Sprintf("dropped a frame from %s: %v", who(l.peer, l.name), err))
		return nil
	}
	if err != nil {
		return err
	}
	t.handle(l, q, fb)
	return nil
}

// handle acts on an authenticated frame that came from l's peer, on l's
// connection or as a datagram: what it acknowledges of q (what this
// endpoint sends on l, nil for nothing) goes, and its message, if any, is
// delivered in its turn.
func (t *Transport) handle(l *link, q *queue, fb frameBody) {
	if g := l.dg; g != nil {
		if !g.ready.Load() {
			g.ready.Store(true)
		}
		if fb.acks.arrived > g.arrived.Load() {
			g.arrived.Store(fb.acks.arrived)
		}
	}
	if q != nil && fb.acks.through > 0 {
		q.ack(fb.acks.through)
	}
	if fb.kind == frameMessage {
		t.take(l, origin{peer: l.peer, name: l.name, inc: l.inc}, fb)
	}
}

// dialer keeps the link to one replica: it connects, writes its queue,
// and when the connection breaks it connects again.
type dialer struct {
	t    *Transport
	peer lab.ID
	addr string
	q    *queue

	mu  sync.Mutex
	cur *link // the open connection, if any
	up  bool
	err string
}

func (d *dialer) info() LinkInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	li := LinkInfo{Peer: d.peer, Addr: d.addr, Outbound: true, Up: d.up, Queued: d.q.len(), Err: d.err}
	if d.cur != nil {
		li.Datagrams = d.cur.dg.state()
	}
	return li
}

func (d *dialer) set(up bool, err error) {
	d.mu.Lock()
	d.up, d.err = up, ""
	if err != nil {
		d.err = err.Error()
	}
	d.mu.Unlock()
	d.t.mu.Lock()
	close(d.t.changed)
	d.t.changed = make(chan struct{})
	d.t.mu.Unlock()
}

func (d *dialer) run() {
	t := d.t
	defer t.wg.Done()
	wait := t.cfg.MinBackoff
	// told is what was last reported of the peer's absence since it was
	// last up: nothing, "unreachable" or "refused". A peer that comes up
	// with another key after being unreachable is told of again.
	told := ""
	// flaps counts the links in a row that broke within flapAfter of
	// connecting: a peer that takes the connection and drops it at once,
	// as a replica does to a client whose name another client took over.
	// Reconnecting at once would spin; those links wait as failed
	// dials do, and past flapQuiet of them, go without a word.
	flaps := 0
	for t.ctx.Err() == nil {
		l, err := d.connect()
		if err != nil {
			d.set(false, err)
			kind := "unreachable"
			var se *settingsError
			switch {
			case errors.As(err, &se):
				kind = "settings"
			case errors.Is(err, ErrRefused):
				kind = "refused"
			}
			if told != kind && t.ctx.Err() == nil {
				switch kind {
				case "settings":
					t.tellSettings(d.peer, err)
				case "refused":
					t.cfg.Note(fmt.Sprintf("%s at %s: %v; retrying less and less often", d.peer, d.addr, err))
				default:
					t.cfg.Note(fmt.Sprintf("cannot reach %s at %s yet (%v); retrying in the background", d.peer, d.addr, err))
				}
				told = kind
			}
			select {
			case <-t.ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, t.cfg.MaxBackoff)
			continue
		}
		told = ""
		t.mu.Lock()
		delete(t.settingsTold, d.peer)
		t.mu.Unlock()
		d.set(true, nil)
		if flaps < flapQuiet {
			t.cfg.Connected(fmt.Sprintf("connected to %s at %s", d.peer, d.addr))
		}
		up := time.Now()
		err = d.serve(l)
		d.set(false, err)
		if t.ctx.Err() != nil {
			return
		}
		if time.Since(up) < flapAfter {
			flaps++
		} else {
			flaps, wait = 0, t.cfg.MinBackoff
		}
		switch {
		case flaps < flapQuiet:
			t.cfg.Note(fmt.Sprintf("lost the connection to %s (%v); reconnecting", d.peer, err))
		case flaps == flapQuiet && !t.flapTold.Swap(true):
			t.cfg.Note(fmt.Sprintf("lost the connection to %s within %v of making it, %d times in a row (%v): %s; retrying less and less often, without a word until a connection lasts",
				d.peer, flapAfter, flaps, err, t.flapCause()))
		}
		if flaps == 0 {
			continue
		}
		select {
		case <-t.ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, t.cfg.MaxBackoff)
	}
}

// A link that breaks within flapAfter of being made counts as a flap; from
// the flapQuiet-th in a row on, the dialer says nothing more of it.
const (
	flapAfter = time.Second
	flapQuiet = 3
)

// flapCause is the likeliest reason a peer drops each connection at once.
func (t *Transport) flapCause() string {
	if t.cfg.Self == lab.Client {
		return fmt.Sprintf("is another client running with the name %s? A replica keeps one connection per client name, the newest; give each client its own --name", t.cfg.Name)
	}
	return "the peer closes each connection as soon as it is made (look at its console)"
}

func (d *dialer) connect() (*link, error) {
	var nd net.Dialer
	ctx, cancel := context.WithTimeout(d.t.ctx, dialTimeout)
	defer cancel()
	conn, err := nd.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(d.t.ctx, func() { _ = conn.Close() })
	l, err := d.t.hello.greet(conn, d.peer)
	stop()
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return l, nil
}

// serve writes the queue to l and reads what the peer sends back (replies,
// for a client) until the connection breaks or the transport closes.
func (d *dialer) serve(l *link) error {
	t := d.t
	l.dg = t.dg.newSender(l, t.cfg.Name)
	d.mu.Lock()
	d.cur = l
	d.mu.Unlock()
	key := dgKey{peer: d.peer}
	if l.dgOpen != nil {
		t.mu.Lock()
		t.dgFrom[key] = dgLink{l, d.q}
		t.mu.Unlock()
	}
	defer func() {
		d.mu.Lock()
		d.cur = nil
		d.mu.Unlock()
		t.mu.Lock()
		if t.dgFrom[key].l == l {
			delete(t.dgFrom, key)
		}
		t.mu.Unlock()
	}()
	if d.t.ctx.Err() != nil {
		l.close()
		return d.t.ctx.Err()
	}
	done := make(chan error, 1)
	go func() { done <- d.t.readLoop(l, d.q) }()
	err := d.t.writeLoop(l, d.q, done)
	l.close()
	if err == nil {
		err = errors.New("closed")
	}
	return err
}

// counts is a set of counters by endpoint, reported by name ("P1",
// "client").
type counts struct {
	mu sync.Mutex
	m  map[lab.ID]uint64
}

func (c *counts) add(id lab.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[lab.ID]uint64{}
	}
	c.m[id]++
}

func (c *counts) snapshot() map[string]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]uint64, len(c.m))
	for k, v := range c.m {
		out[k.String()] = v
	}
	return out
}
