package tcp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"pbftlab/lab"
)

// Datagrams are the fast path between replicas. A request of the lab's
// protocol is 29 messages, most of them a replica's vote to its three
// peers; written on connections, each is a system call and a wake-up of
// the reader at the other end, and on two processors those calls are
// most of what a request costs. A replica therefore also reads datagrams
// (UDP) at its listening address, and a replica that dials it sends its
// messages that way when it can: everything one call into the replica
// sends, to every peer, goes out in one system call (sendmmsg), and a
// replica reads what has arrived from all its peers in one (recvmmsg).
//
// The connection stays the link: it carries the greeting, the
// acknowledgements, messages too large for a datagram, and everything
// that follows a loss. A datagram carries exactly what a frame carries (a
// message, its number in the sender's queue and the oldest number there),
// under a tag of its own direction and connection (datagramLabel, the
// acceptor's nonce, a counter), so it proves what a frame proves; the
// receiver delivers by number, whichever way a message came, in order and
// once (see Transport.take). A message sent as a datagram stays queued
// until acknowledged like any other; one still unacknowledged a whole
// resendAfter after it went is written again on the connection, with every
// message after it. A peer that acknowledges what the connection carries
// and says, with every acknowledgement, that none of the link's datagrams
// has arrived since, dgGiveUp rounds in a row (a firewall that lets TCP
// through and not UDP), has the link stop sending them and say so; it
// tries them again dgRetryAfter later. A peer that
// acknowledges nothing at all for a while is slow or stopped (a process
// suspended with Ctrl-Z), which says nothing of datagrams: the link
// waits for the connection to carry what it was given (see dgPromptly).
const (
	// maxDatagram bounds a datagram: a larger message goes on the
	// connection. It fits an Ethernet frame, so that a datagram between
	// machines is never cut in pieces.
	maxDatagram = 1400
	// dgWindow bounds the messages of a link sent as datagrams and not
	// yet acknowledged: under load the rest go on the connection, which
	// paces itself. An acknowledgement comes within ackDelay or every
	// ackBatch messages, so a lone request at a time never reaches it.
	dgWindow = 4 * ackBatch
	// resendAfter is the period of the clock that looks for datagrams
	// not acknowledged in time (see datagrams.check).
	resendAfter  = 20 * time.Millisecond
	dgGiveUp     = 3
	dgRetryAfter = 30 * time.Second
	// dgPromptly is how many rounds of the clock a peer may take to
	// acknowledge what the connection carried again, for the datagrams it
	// had not acknowledged to count as lost: one that takes longer was
	// slow or stopped, which says nothing of datagrams.
	dgPromptly = 5
	// dgReadBatch is how many datagrams one system call reads.
	dgReadBatch = 32
	// dgLoad is how many datagrams waiting at once make a backlog: the
	// endpoint holds what it sends while it works through them, and
	// writes it on the connections (see holding). A lone request brings a
	// replica at most four at once (three votes and its own).
	dgLoad = 8
	// dgFlushAt is how many datagrams a batch holds before it goes
	// whatever else is under way.
	dgFlushAt = 64
)

// datagrams is an endpoint's datagram socket: what it reads, and the batch
// of what it is about to send.
type datagrams struct {
	t       *Transport
	conn    *net.UDPConn
	pc      batchConn
	closed  chan struct{} // closed once the socket is (see close)
	closing sync.Once

	mu    sync.Mutex
	corks int // calls under way whose datagrams go when the last ends
	out   []ipv4.Message
	free  [][]byte
	// sendMu keeps batches in the order they were made: a datagram sent
	// after a later one of its link would be refused as a replay.
	sendMu sync.Mutex
	spare  []ipv4.Message

	// arrived counts the datagrams whose tag verified.
	arrived atomic.Uint64

	// The clock that looks for datagrams not acknowledged in time.
	clock   *time.Timer
	armed   atomic.Bool
	checkMu sync.Mutex
}

// batchConn is what ipv4.PacketConn and ipv6.PacketConn share.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// listenDatagrams opens the datagram socket of a replica at addr, the
// address of its listener, or of a client at a port of the system's
// choosing, for the family of the replicas' addresses. A socket bound to
// every address is bound to every IPv4 address: one socket sends to one
// family, and the lab's addresses are IPv4. Links to replicas of the
// other family keep to their connections (see dgGiveUp).
func listenDatagrams(t *Transport, addr net.Addr) (*datagrams, error) {
	var ua *net.UDPAddr
	network := "udp"
	switch a := addr.(type) {
	case *net.TCPAddr:
		ua = udpAddr(a)
		if a.IP.IsUnspecified() {
			ua.IP, network = nil, "udp4"
		}
	case nil:
		network = "udp4"
		if n := t.cfg.Peers.N(); n > 0 {
			if ra, err := net.ResolveUDPAddr("udp", t.cfg.Peers.Addr(0)); err == nil && ra.IP.To4() == nil {
				network = "udp6"
			}
		}
	default:
		return nil, fmt.Errorf("%v is not a TCP address", addr)
	}
	conn, err := net.ListenUDP(network, ua)
	if err != nil {
		return nil, err
	}
	// A burst from three peers must not overflow the socket while its
	// reader waits for the processor; the system may grant less.
	_ = conn.SetReadBuffer(4 << 20)
	d := &datagrams{t: t, conn: conn, closed: make(chan struct{})}
	if ip := conn.LocalAddr().(*net.UDPAddr).IP; ip.To4() != nil || network == "udp4" {
		d.pc = ipv4.NewPacketConn(conn)
	} else {
		d.pc = ipv6.NewPacketConn(conn)
	}
	d.clock = time.AfterFunc(time.Hour, d.check)
	d.clock.Stop()
	return d, nil
}

// udpAddr is the UDP address of the same host and port as a.
func udpAddr(a *net.TCPAddr) *net.UDPAddr {
	return &net.UDPAddr{IP: a.IP, Port: a.Port, Zone: a.Zone}
}

// close stops the socket and its clock; the reader returns. The socket
// is closed without waiting for the net package to let go of it: the
// reader holds it while it hands a message over, and the replica it hands
// it to may be in a call that never returns (see Node.Close).
func (d *datagrams) close() {
	d.clock.Stop()
	d.closing.Do(func() {
		go func() {
			_ = d.conn.Close()
			close(d.closed)
		}()
	})
}

// port is where the socket reads.
func (d *datagrams) port() uint16 {
	return uint16(d.conn.LocalAddr().(*net.UDPAddr).Port)
}

// dgKey names the sender of a datagram: a replica, or a client by name.
type dgKey struct {
	peer lab.ID
	name string
}

// dgLink is the link whose datagrams an endpoint reads from one sender,
// and the queue the acknowledgements they carry release.
type dgLink struct {
	l *link
	q *queue
}

// dgSender sends one link's messages as datagrams; the link's wmu guards
// seal.
type dgSender struct {
	d    *datagrams
	to   net.Addr
	head []byte // the sender, as the datagram names it
	seal sealer
	sent atomic.Uint64 // the number of the last message sent as a datagram
	// arrived is how many of the link's datagrams the peer last said had
	// arrived (see acks).
	arrived atomic.Uint64
	off     atomic.Bool // the link has given datagrams up, since offAt
	offAt   atomic.Int64
	// ready says that a frame has come on the link since the greeting:
	// the other end has put the link where its datagrams find it, as it
	// does before it writes anything (a datagram sent before that would
	// be dropped, and wait for the clock to be sent again).
	ready atomic.Bool

	// resent is the last number the clock had written again on the
	// connection: messages up to it go there, not as datagrams.
	resent atomic.Uint64

	// The clock's, under d.checkMu: the last number sent as a datagram
	// when it last came round; the rounds since it last had the
	// connection carry what the datagrams had not (0: none pending); the
	// rounds in a row whose datagrams went unacknowledged while the
	// connection's were not, and none of the link's datagrams arrived;
	// how many had arrived at the last such round; and whether the link
	// has said it gives datagrams up.
	await   uint64
	pending int
	losses  int
	seen    uint64
	told    bool
}

// loss counts a round whose datagrams went unacknowledged while the
// connection's were. Acknowledgements are cumulative, so a datagram can
// wait unacknowledged behind a slow message of the connection: a round
// counts only if no datagram of the link has arrived since the last one.
// dgGiveUp in a row, and the link gives datagrams up for dgRetryAfter.
func (g *dgSender) loss(t *Transport, l *link) {
	arrived := g.arrived.Load()
	if arrived > g.seen {
		g.seen, g.losses = arrived, 0
		return
	}
	if g.losses++; g.losses < dgGiveUp {
		return
	}
	g.losses = 0
	g.offAt.Store(time.Now().UnixNano())
	g.off.Store(true)
	if !g.told {
		g.told = true
		t.cfg.Note(fmt.Sprintf("datagrams to %s at %s go unacknowledged while its connection's messages are acknowledged (a firewall that lets only TCP through?); this link sends everything on its connection, and tries datagrams again every %v", who(l.peer, l.name), g.to, dgRetryAfter))
	}
}

// state describes the sender for LinkInfo.Datagrams.
func (g *dgSender) state() string {
	switch {
	case g == nil:
		return ""
	case g.off.Load():
		return "datagrams given up"
	}
	return "datagrams"
}

// newSender makes the datagram sender of l, when both ends take
// datagrams: on a link this endpoint dialled, to the address it dialled;
// on one a client dialled, to the port the client gave (see hello).
func (d *datagrams) newSender(l *link, name string) *dgSender {
	if d == nil || !l.datagrams {
		return nil
	}
	ta, ok := l.conn.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return nil
	}
	to := udpAddr(ta)
	if l.peer == lab.Client {
		if l.dgPort == 0 {
			return nil
		}
		to.Port = int(l.dgPort)
	}
	head := binary.BigEndian.AppendUint32(nil, uint32(int32(l.self)))
	if l.self == lab.Client {
		head = append(append(head, byte(len(name))), name...)
	}
	return &dgSender{d: d, to: to, head: head, seal: l.dgSeal}
}

// sendDatagrams puts what waits on l's queue, as far as the window and
// the size of each message allow, in the endpoint's batch of datagrams,
// and reports whether that was all of it; wmu is held. What is left goes
// on the connection.
func (l *link) sendDatagrams() (all bool) {
	g := l.dg
	if g == nil || l.q == nil || !g.ready.Load() || len(l.rest) > 0 {
		return false
	}
	if g.off.Load() {
		if time.Since(time.Unix(0, g.offAt.Load())) < dgRetryAfter {
			return false
		}
		g.off.Store(false) // the firewall may have changed: try again
	}
	got, oldest, stale := l.q.unwritten(l.items[:0], l.gen, dgWindow)
	l.items = got
	if stale || len(got) == 0 || got[0].no <= g.resent.Load() {
		clear(got)
		return false
	}
	room := dgWindow
	if sent := g.sent.Load(); sent >= oldest {
		room -= int(sent - oldest + 1)
	}
	owed := l.ackOwed.Load()
	var last uint64
	n := 0
	g.d.cork()
	defer g.d.uncork()
	for _, it := range got {
		if n >= room || len(g.head)+4+counterSize+messageHead+len(it.payload)+tagSize > maxDatagram {
			break
		}
		b := g.d.buffer()
		b = append(b, g.head...)
		b = appendMessage(&g.seal, b, it.no, l.owed(owed), oldest, it.payload)
		g.d.add(b, g.to)
		last = it.no
		n++
	}
	clear(got)
	if n == 0 {
		return false
	}
	l.q.written(l.gen, last)
	g.sent.Store(last)
	if owed > l.ackSent.Load() {
		l.ackSent.Store(owed)
	}
	g.d.arm()
	return n == len(got) && len(got) < dgWindow
}

// buffer returns a buffer for a datagram.
func (d *datagrams) buffer() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if k := len(d.free); k > 0 {
		b := d.free[k-1]
		d.free = d.free[:k-1]
		return b[:0]
	}
	return make([]byte, 0, maxDatagram)
}

// add puts a datagram in the batch, and sends the batch unless a call
// under way will (see cork).
func (d *datagrams) add(b []byte, to net.Addr) {
	d.mu.Lock()
	d.out = append(d.out, ipv4.Message{Buffers: [][]byte{b}, Addr: to})
	now := d.corks == 0 || len(d.out) >= dgFlushAt
	d.mu.Unlock()
	if now {
		d.flush()
	}
}

// cork holds the datagrams sent from now on until uncork: a call into the
// replica that votes to three peers sends its three datagrams in one
// system call. Calls may overlap; the batch goes when the last ends. A
// nil datagrams does nothing.
func (d *datagrams) cork() {
	if d == nil {
		return
	}
	d.mu.Lock()
	d.corks++
	d.mu.Unlock()
}

func (d *datagrams) uncork() {
	if d == nil {
		return
	}
	d.mu.Lock()
	d.corks--
	now := d.corks == 0 && len(d.out) > 0
	d.mu.Unlock()
	if now {
		d.flush()
	}
}

// flush sends the batch. A datagram the system refuses is lost, as a
// datagram may be: the clock sends its message again on the connection.
func (d *datagrams) flush() {
	d.sendMu.Lock()
	defer d.sendMu.Unlock()
	d.mu.Lock()
	batch := d.out
	d.out = d.spare[:0]
	d.mu.Unlock()
	for ms := batch; len(ms) > 0; {
		k, err := d.pc.WriteBatch(ms, 0)
		if err != nil {
			k = max(k, 1) // skip the one refused
		}
		ms = ms[k:]
	}
	d.mu.Lock()
	for i := range batch {
		if len(d.free) < 4*dgFlushAt {
			d.free = append(d.free, batch[i].Buffers[0])
		}
		batch[i] = ipv4.Message{}
	}
	d.spare = batch[:0]
	d.mu.Unlock()
}

// arm starts the clock, if it is not running.
func (d *datagrams) arm() {
	if !d.armed.Load() && !d.armed.Swap(true) {
		d.clock.Reset(resendAfter)
	}
}

// check is the clock: a link whose datagrams sent before its last round
// are still not all acknowledged writes every unacknowledged message again
// on its connection. The clock keeps running while datagrams wait.
func (d *datagrams) check() {
	d.checkMu.Lock()
	defer d.checkMu.Unlock()
	d.armed.Store(false)
	t := d.t
	waiting := false
	for _, s := range t.sending() {
		l, q := s.l, s.q
		if l.dg == nil {
			continue
		}
		g := l.dg
		oldest := q.oldest()
		resent := g.resent.Load()
		if g.pending > 0 {
			if oldest <= resent {
				// What the connection carries again is not acknowledged
				// yet either: the peer is slow, or stopped. The
				// connection will carry it.
				g.pending++
				waiting = true
				continue
			}
			if g.pending <= dgPromptly {
				// The connection carried promptly what the datagrams had
				// not in a whole round.
				g.loss(t, l)
			}
			g.pending = 0
		}
		if g.await >= oldest {
			// A datagram sent before the last round is still not
			// acknowledged: everything unacknowledged goes again, on
			// the connection. A link whose writer is writing (to a peer
			// that reads slowly, perhaps) is looked at next round.
			if l.wmu.TryLock() {
				g.resent.Store(g.sent.Load())
				q.resend(l.gen)
				l.wmu.Unlock()
				q.signal()
				g.pending, g.await = 1, 0
			}
			waiting = true
			continue
		}
		g.await = 0
		// Datagrams still out are looked at next round, whether or not
		// the link has given them up since.
		if sent := g.sent.Load(); sent >= oldest && sent > resent {
			g.await, waiting = sent, true
		}
	}
	if waiting {
		d.arm()
	}
}

// read hands every datagram that arrives to the transport, a batch at a
// time, until the socket closes. The calls into the replica that a batch
// makes send their datagrams together, when the batch is done.
func (d *datagrams) read() {
	t := d.t
	defer t.wg.Done()
	ms := make([]ipv4.Message, dgReadBatch)
	for i := range ms {
		ms[i].Buffers = [][]byte{make([]byte, maxDatagram)}
	}
	handle := func(n int) bool {
		d.cork()
		load := n >= dgLoad
		if load {
			t.holdFrom()
		}
		for i := range ms[:n] {
			t.receiveDatagram(ms[i].Buffers[0][:ms[i].N])
			if load && i < n-1 {
				t.handedOver()
			}
		}
		if load {
			t.release()
		}
		d.uncork()
		return t.ctx.Err() == nil
	}
	readAll := newBatchReader(d.conn, d.pc, ms)
	for {
		err := readAll(handle)
		if errors.Is(err, net.ErrClosed) || t.ctx.Err() != nil {
			return
		}
		// Anything else is what an earlier datagram of this socket met on
		// its way (an unreachable port), told to the next read: not this
		// socket's failure.
	}
}

// sending returns the links this endpoint sends on, with their queues:
// those it dialled, and those of its clients.
func (t *Transport) sending() []dgLink {
	var out []dgLink
	for _, d := range t.dialers {
		d.mu.Lock()
		if d.cur != nil {
			out = append(out, dgLink{d.cur, d.q})
		}
		d.mu.Unlock()
	}
	t.mu.Lock()
	for _, box := range t.clients {
		if box.link != nil {
			out = append(out, dgLink{box.link, box.q})
		}
	}
	t.mu.Unlock()
	return out
}

// receiveDatagram checks one datagram and hands its message over as if it
// had come on the connection of its sender.
func (t *Transport) receiveDatagram(b []byte) {
	key, frame, ok := parseDgHead(b)
	if !ok {
		t.rejected.Add(1)
		return
	}
	t.mu.Lock()
	in, ok := t.dgFrom[key]
	t.mu.Unlock()
	if !ok {
		// No link of this endpoint's has that sender: one that has just
		// ended (its sender writes it again), or a stranger's.
		t.rejected.Add(1)
		return
	}
	l := in.l
	body, err := l.dgOpen.open(frame)
	if err != nil {
		// Sent under a connection that has ended, a replay, or forged.
		t.rejected.Add(1)
		return
	}
	fb, err := parseBody(body)
	if err != nil || fb.kind != frameMessage {
		t.rejected.Add(1)
		return
	}
	t.dg.arrived.Add(1)
	l.dgArrived.Add(1)
	t.handle(l, in.q, fb)
}

// parseDgHead splits a datagram into its sender and its frame's body.
func parseDgHead(b []byte) (key dgKey, frame []byte, ok bool) {
	if len(b) < 4 {
		return key, nil, false
	}
	key.peer = lab.ID(int32(binary.BigEndian.Uint32(b)))
	b = b[4:]
	if key.peer == lab.Client {
		if len(b) < 1 || len(b) < 1+int(b[0]) || int(b[0]) > maxName {
			return key, nil, false
		}
		key.name, b = string(b[1:1+int(b[0])]), b[1+int(b[0]):]
	}
	if len(b) < 4 || int(binary.BigEndian.Uint32(b)) != len(b)-4 {
		return key, nil, false
	}
	return key, b[4:], true
}
