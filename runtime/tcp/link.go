package tcp

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"pbftlab/lab"
)

// readBuffer is the size of a connection's read buffer: a batch of
// pre-prepares or of replies arrives in a few reads rather than many.
const readBuffer = 32 << 10

// handshakeTimeout bounds the greeting, so a stray connection (a browser, a
// port scanner, a process of another program) cannot hold a slot open.
const handshakeTimeout = 5 * time.Second

const (
	welcomeMagic = "PBFT3"
	helloLabel   = "pbftlab hello\x00"
	maxName      = 64
)

// incarnation tells apart the runs of one endpoint: a process that
// restarts numbers its messages from 1 again, under a new incarnation.
type incarnation [8]byte

func newIncarnation() incarnation {
	var i incarnation
	_, _ = rand.Read(i[:])
	return i
}

// link is an open, authenticated connection to one peer. One goroutine
// writes to it and one reads from it.
type link struct {
	conn net.Conn
	r    *bufio.Reader
	self lab.ID
	peer lab.ID
	name string      // the client's name, when the peer is a client
	inc  incarnation // the peer's
	// earlier, on a link another replica dialled, says that it has
	// delivered messages from an earlier run of this endpoint.
	earlier bool
	// datagrams says that the acceptor of the link reads datagrams from
	// the dialler (see datagram.go): on the dialler's side, dg then sends
	// them; on the acceptor's, dgOpen checks them.
	datagrams bool
	dgSeal    sealer // for dg
	dg        *dgSender
	dgOpen    *opener
	// dgPort, on a link a client dialled, is where the client reads
	// datagrams (see hello).
	dgPort uint16
	// dgArrived counts the datagrams of the link's peer that arrived
	// here, told back with every acknowledgement (see acks).
	dgArrived atomic.Uint64

	seal sealer
	open opener

	// ackOwed is the highest message number received, to be acknowledged
	// by the writer; ackSent the last one it acknowledged (written with
	// wmu held). ackDue says the transport's acknowledgement clock has
	// come round (see Transport.owe): what is owed goes now, alone if no
	// message carries it.
	ackOwed atomic.Uint64
	ackSent atomic.Uint64
	ackDue  atomic.Bool
	wake    chan struct{}

	// wmu is held by whoever writes on the link: its writer goroutine, or
	// a sender writing what it queued itself (see Transport.writeNow). It
	// guards the sealer, the writing of ackSent, q, gen, out, items, rest,
	// ackBuf and the fields of tryWrite.
	wmu   sync.Mutex
	q     *queue // what the link writes, nil for none
	gen   int    // the queue's generation for this link
	out   []byte // the buffer of the last write, reused
	items []item // the messages of the last write, reused
	// rest is what a sender's write left unwritten (the socket's buffer was
	// full), for the writer goroutine to write before anything else.
	rest []byte
	// ackBuf is the buffer of the last acknowledgement sent alone.
	ackBuf []byte

	// raw, when the connection has a file descriptor, lets the link read
	// and write it itself (see readRaw and tryWrite); tryFn is tryOnce,
	// bound once so that a write allocates nothing.
	raw    syscall.RawConn
	tryFn  func(fd uintptr) bool
	tryBuf []byte
	tryN   int
	tryErr error

	// in is the reader's buffer: each frame is read into it, over the last.
	in []byte

	closing sync.Once
	closed  atomic.Bool
}

func newLink(conn net.Conn, r *bufio.Reader, self, peer lab.ID, name string, inc incarnation, seal sealer, open opener) *link {
	l := &link{conn: conn, r: r, self: self, peer: peer, name: name, inc: inc, seal: seal, open: open, wake: make(chan struct{}, 1)}
	if l.raw = rawConn(conn); l.raw != nil {
		l.tryFn = l.tryOnce
	}
	return l
}

// tryWrite writes what of b the socket takes at once, with one system
// call that never waits, and returns how much that was; wmu is held. A
// sender writes this way: it may hold its replica, and a peer that stops
// reading (a process suspended with Ctrl-Z) must not stop it. Nor does the
// write arm and disarm a deadline, which costs more than the write's own
// bookkeeping.
func (l *link) tryWrite(b []byte) (int, error) {
	l.tryBuf, l.tryN, l.tryErr = b, 0, nil
	err := l.raw.Write(l.tryFn)
	n, werr := l.tryN, l.tryErr
	l.tryBuf, l.tryErr = nil, nil
	if err != nil {
		return n, err
	}
	return n, werr
}

func (l *link) tryOnce(fd uintptr) bool {
	l.tryN, _, l.tryErr = sysWrite(fd, l.tryBuf)
	return true // never wait for the socket: the writer goroutine will
}

// What a frame carries, after its counter: a message, with its number in
// the sender's queue, the acknowledgement of every message up to a number
// the other way, and the number of the oldest message in the sender's
// queue; or that acknowledgement alone.
//
// The oldest number lets the receiver deliver in order what arrives out of
// order (a message sent as a datagram overtaken by one written on the
// connection, see datagram.go): message no follows the last one delivered
// if it is numbered next, or if it is the oldest the sender still has, so
// that every message before it was either delivered or dropped by the
// sender for good (its queue was full, or they went to an earlier run of
// the receiver). Anything else waits for the messages before it.
const (
	frameMessage byte = 'm'
	frameAck     byte = 'a'
	// frameAccept is the acceptor's first frame when it takes the
	// greeting: a flags byte follows (acceptDatagrams).
	frameAccept byte = 'A'
)

// acceptDatagrams, in the accept frame, says that the acceptor reads
// datagrams at the address the dialler reached it (see datagram.go).
const acceptDatagrams byte = 1

// The heads of a message frame (kind, number, acks, oldest) and of an
// acknowledgement (kind, acks), before the payload.
const (
	messageHead = 1 + 8 + 16 + 8
	ackHead     = 1 + 16
)

// frameBody is what an authenticated frame carries.
type frameBody struct {
	kind byte
	no   uint64
	acks acks
	// oldest is the number of the oldest message the sender has queued.
	oldest  uint64
	payload []byte
}

// acks is what a frame says of what came the other way: every message
// up to through, and how many datagrams of the link have arrived (see
// datagrams.check).
type acks struct{ through, arrived uint64 }

// sendMessage writes message no as one authenticated frame; oldest is the
// oldest number the sender has.
func (l *link) sendMessage(no uint64, a acks, oldest uint64, payload []byte) error {
	_, err := l.conn.Write(appendMessage(&l.seal, nil, no, a, oldest, payload))
	return err
}

// appendMessage appends the frame of message no, sealed by s, to dst.
func appendMessage(s *sealer, dst []byte, no uint64, a acks, oldest uint64, payload []byte) []byte {
	var head [messageHead]byte
	head[0] = frameMessage
	binary.BigEndian.PutUint64(head[1:], no)
	binary.BigEndian.PutUint64(head[9:], a.through)
	binary.BigEndian.PutUint64(head[17:], a.arrived)
	binary.BigEndian.PutUint64(head[25:], oldest)
	return s.appendFrame(dst, head[:], payload)
}

// owed is what the link has to acknowledge: every message up to ack.
func (l *link) owed(ack uint64) acks {
	return acks{through: ack, arrived: l.dgArrived.Load()}
}

// sendAck acknowledges every message up to ack; wmu is held, or the link
// is not yet shared. The frame is built in a buffer of the link's own, as
// an acknowledgement goes every few milliseconds on every busy link.
func (l *link) sendAck(ack uint64) error {
	l.ackBuf = l.appendAck(l.ackBuf[:0], l.owed(ack))
	_, err := l.conn.Write(l.ackBuf)
	return err
}

// appendAck appends the frame of an acknowledgement alone to dst.
func (l *link) appendAck(dst []byte, a acks) []byte {
	var head [ackHead]byte
	head[0] = frameAck
	binary.BigEndian.PutUint64(head[1:], a.through)
	binary.BigEndian.PutUint64(head[9:], a.arrived)
	return l.seal.appendFrame(dst, head[:], nil)
}

// wakeWriter wakes the link's writer to acknowledge what is owed.
func (l *link) wakeWriter() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// receive returns what the next frame carries. The message lies in the
// link's buffer, and the next call reads over it. An error wrapping ErrAuth
// concerns that frame alone and the link stays usable; any other error
// ends the link.
func (l *link) receive() (frameBody, error) {
	frame, err := l.readFrame()
	if err != nil {
		return frameBody{}, err
	}
	return l.parse(frame)
}

// readFrame reads the next frame into the link's buffer, over the last.
func (l *link) readFrame() ([]byte, error) {
	frame, err := readFrameInto(l.r, l.in)
	if err != nil {
		return nil, err
	}
	if cap(frame) <= maxKeptBuffer {
		l.in = frame
	}
	return frame, nil
}

// parse authenticates a frame and says what it carries, as receive does.
func (l *link) parse(frame []byte) (frameBody, error) {
	body, err := l.open.open(frame)
	if err != nil {
		return frameBody{}, err
	}
	return parseBody(body)
}

// parseBody says what an authenticated frame's body carries.
func parseBody(body []byte) (frameBody, error) {
	switch {
	case len(body) == ackHead && body[0] == frameAck:
		return frameBody{kind: frameAck, acks: acks{binary.BigEndian.Uint64(body[1:]), binary.BigEndian.Uint64(body[9:])}}, nil
	case len(body) >= messageHead && body[0] == frameMessage:
		return frameBody{
			kind:    frameMessage,
			no:      binary.BigEndian.Uint64(body[1:]),
			acks:    acks{binary.BigEndian.Uint64(body[9:]), binary.BigEndian.Uint64(body[17:])},
			oldest:  binary.BigEndian.Uint64(body[25:]),
			payload: body[messageHead:],
		}, nil
	case len(body) == 2 && body[0] == frameAccept:
		return frameBody{kind: frameAccept, payload: body[1:]}, nil // its flags
	}
	return frameBody{}, errors.New("a malformed frame (an authenticated peer running other code?)")
}

// readFrames hands handle each frame that arrives, in order, until the
// connection ends or handle returns an error, which it returns. A frame
// lies in the reader's buffer and is good only until handle returns. more
// says that another whole frame has been read already and comes next.
func (l *link) readFrames(handle func(frame []byte, more bool) error) error {
	if l.raw != nil {
		return l.readRaw(handle)
	}
	for {
		frame, err := l.readFrame()
		if err != nil {
			return err
		}
		next, _ := l.r.Peek(l.r.Buffered()) // what is read already, without reading more
		if err := handle(frame, wholeFrame(next)); err != nil {
			return err
		}
	}
}

// wholeFrame says whether b begins with a whole frame.
func wholeFrame(b []byte) bool {
	return len(b) >= 4 && uint64(len(b)) >= 4+uint64(binary.BigEndian.Uint32(b))
}

// readRaw is readFrames on the connection's file descriptor. The net
// package's Read, on a socket with nothing more to read, first makes a
// read(2) that fails for want of data, then waits for the poller: with
// the lab's protocol a message mostly arrives alone, so that is a system
// call for nothing on nearly every message, and system calls are most of
// what a message costs. readRaw reads inside RawConn.Read, whose callback
// decides when to wait: after a read that filled less than the buffer,
// the socket held no more data (see shortReadDrains) and it waits at once.
//
// Readiness the poller reported before a RawConn.Read began is forgotten
// when it begins, so one call lasts as long as the connection, and the
// frames are handed over from inside its callback. The connection is held
// meanwhile, which is why close does not wait for it to be let go.
//
// The runtime merges into one the readiness reports that reach a reader
// between its wake-up and its running, and data is not all a report may be
// about: the peer's end of the stream, or a reset, which comes as often as
// not right behind the last data, waits behind that data for a read that
// finds it. So a reader that waits without that read sets a deadline, if
// none is set, and reads once more when it passes (see recheckAfter).
// Setting a deadline costs a tenth of a read(2), and a busy link sets one
// every recheckAfter, not for every message.
func (l *link) readRaw(handle func(frame []byte, more bool) error) error {
	// The greeting was read through l.r, which may hold what followed it.
	buf := make([]byte, max(readBuffer, l.r.Buffered()))
	b, _ := l.r.Peek(l.r.Buffered())
	start, end := 0, copy(buf, b) // buf[start:end] is read and not yet handed over
	_, _ = l.r.Discard(len(b))
	empty := false    // the last read left the socket empty
	deadline := false // a deadline is set
	var failed error
	read := func(fd uintptr) bool {
		for {
			for end-start >= 4 {
				n := int(binary.BigEndian.Uint32(buf[start:]))
				if n > MaxFrame {
					failed = fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, n)
					return true
				}
				if end-start < 4+n {
					if 4+n > len(buf) {
						bigger := make([]byte, 4+n)
						end = copy(bigger, buf[start:end])
						start, buf = 0, bigger
					}
					break
				}
				frame := buf[start+4 : start+4+n]
				start += 4 + n
				if failed = handle(frame, wholeFrame(buf[start:end])); failed != nil {
					return true
				}
			}
			end = copy(buf, buf[start:end])
			start = 0
			if end == 0 && len(buf) > maxKeptBuffer {
				buf = make([]byte, readBuffer) // a state transfer's buffer is not worth keeping
			}
			if empty {
				empty = false
				if !deadline {
					deadline = true
					_ = l.conn.SetReadDeadline(time.Now().Add(recheckAfter))
				}
				return false // wait for the poller
			}
			if l.closed.Load() {
				failed = net.ErrClosed
				return true
			}
			n, again, err := sysRead(fd, buf[end:])
			switch {
			case again:
				return false
			case err != nil:
				failed = err
				return true
			case n == 0 && end > 0:
				failed = io.ErrUnexpectedEOF
				return true
			case n == 0:
				failed = io.EOF
				return true
			}
			empty = shortReadDrains && n < len(buf)-end
			end += n
		}
	}
	for {
		err := l.raw.Read(read)
		if err == nil {
			return failed
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		// The deadline passed: the next call reads first.
		_ = l.conn.SetReadDeadline(time.Time{})
		deadline = false
	}
}

// recheckAfter bounds how long a reader waits, without having seen its
// socket empty, before it reads once more (see link.readRaw): how late, at
// worst, a link learns that its peer has gone when the news came merged
// with the peer's last data.
const recheckAfter = 20 * time.Millisecond

// close closes the connection, without waiting for the net package to let
// go of it: the link's reader holds it while it hands a message over (see
// readRaw), and may be waiting for a lock that the caller of close holds.
// The reader reads nothing more, as from a connection closed at once.
func (l *link) close() {
	if l.raw == nil {
		_ = l.conn.Close()
		return
	}
	l.closed.Store(true)
	l.closing.Do(func() { go l.conn.Close() })
}

// greeter is what an endpoint says of itself when a connection opens (see
// doc.go), and what it needs to judge what the other side says.
type greeter struct {
	keys *Keyring
	self lab.ID
	name string // a client's name
	inc  incarnation
	// settings are a replica's (see Settings); a client carries none, and
	// nobody compares a client's.
	settings []setting
	// heardFrom says whether this endpoint has delivered messages from a
	// run of replica peer other than inc; nil for a client.
	heardFrom func(peer lab.ID, inc incarnation) bool
	// datagrams says that this endpoint reads datagrams from replicas at
	// its listening address (see datagram.go).
	datagrams bool
	// dgPort is the port at which a client reads the replies sent to it
	// as datagrams, 0 for none.
	dgPort uint16
}

// greet is the dialling side of the handshake: it reads the welcome, checks
// that the process it reached is want, and answers with its own identity,
// nonce and settings, and whether it has heard from another run of want
// than the one that welcomed it, all tagged with the pair's key.
func (g *greeter) greet(conn net.Conn, want lab.ID) (*link, error) {
	_ = conn.SetDeadline(time.Now().Add(handshakeTimeout))
	defer func() { _ = conn.SetDeadline(time.Time{}) }()
	r := bufio.NewReaderSize(conn, readBuffer)
	frame, err := readFrame(r)
	if err != nil {
		return nil, fmt.Errorf("no greeting from the process listening there: %w", err)
	}
	peer, theirs, peerInc, err := parseWelcome(frame)
	if err != nil {
		return nil, err
	}
	if peer != want {
		return nil, fmt.Errorf("the process listening there is %s, not %s (check the ports)", peer, want)
	}
	h := hello{id: g.self, name: g.name, inc: g.inc, yourInc: peerInc, settings: g.settings, dgPort: g.dgPort}
	_, _ = rand.Read(h.nonce[:])
	h.earlier = g.heardFrom != nil && g.heardFrom(want, peerInc)
	body := h.body()
	key := g.keys.pair(g.self, want)
	if err := writeFrame(conn, append(body, tag(key, helloLabel, g.self, want, theirs, body)...)); err != nil {
		return nil, err
	}
	l := newLink(conn, r, g.self, want, "", peerInc,
		sealer{key: key, from: g.self, to: want, nonce: theirs},
		opener{key: key, from: want, to: g.self, nonce: h.nonce})
	if g.dgPort != 0 {
		l.dgOpen = &opener{key: key, from: want, to: g.self, nonce: h.nonce, label: datagramLabel}
	}
	// The acceptor's first frame says it took the greeting, or refuses
	// settings other than its own, which it gives. One that hangs up
	// instead refuses this process: it has another cluster key, most
	// likely, and will refuse it again.
	frame, err = l.readFrame()
	if err == nil {
		body, err = l.open.open(frame)
	}
	switch {
	case err != nil:
	case len(body) >= 1 && body[0] == frameSettings:
		settings, rest, derr := decodeSettings(body[1:])
		if derr == nil && len(rest) == 0 {
			if serr := mismatch(want, g.settings, settings); serr != nil {
				return nil, serr
			}
		}
		err = errors.New("it refused this process's settings, which are the same as its own (a process running other code?)")
	default:
		if b, perr := parseBody(body); perr == nil && b.kind == frameAccept {
			if b.payload[0]&acceptDatagrams != 0 {
				l.datagrams = true
				l.dgSeal = sealer{key: key, from: g.self, to: want, nonce: theirs, label: datagramLabel}
			}
			return l, nil
		}
		err = errors.New("it did not acknowledge the greeting")
	}
	return nil, fmt.Errorf("%w (%v)", ErrRefused, err)
}

// frameSettings is the acceptor's first frame when it refuses the
// dialler's settings: its own, for the dialler to say what differs.
const frameSettings byte = 's'

// ErrRefused is the error of a connection whose greeting the peer refused.
var ErrRefused = errors.New("it refuses this process: most likely the two were started with different --key files (every process needs the same one)")

// welcome is the accepting side of the handshake: it sends its identity and
// a fresh nonce, then checks the dialler's answer. valid says whether the
// claimed identity may connect at all; the tag proves the claim. A replica
// whose settings differ is refused, and told this endpoint's settings.
// It returns, even when the greeting is refused, whom the dialler claimed
// to be ("P2", "client alice"), "" when it did not get that far.
func (g *greeter) welcome(conn net.Conn, valid func(id lab.ID, name string) error) (*link, string, error) {
	_ = conn.SetDeadline(time.Now().Add(handshakeTimeout))
	defer func() { _ = conn.SetDeadline(time.Time{}) }()
	var ours nonce
	_, _ = rand.Read(ours[:])
	if err := writeFrame(conn, welcomeBody(g.self, ours, g.inc)); err != nil {
		return nil, "", err
	}
	r := bufio.NewReaderSize(conn, readBuffer)
	frame, err := readFrame(r)
	if err != nil {
		return nil, "", fmt.Errorf("no greeting: %w", err)
	}
	if len(frame) < tagSize {
		return nil, "", fmt.Errorf("%w: greeting too short", ErrAuth)
	}
	body, got := frame[:len(frame)-tagSize], frame[len(frame)-tagSize:]
	h, err := parseHello(body)
	if err != nil {
		return nil, "", err
	}
	claimed := who(h.id, h.name)
	if err := valid(h.id, h.name); err != nil {
		return nil, claimed, err
	}
	key := g.keys.pair(h.id, g.self)
	if !hmac.Equal(got, tag(key, helloLabel, h.id, g.self, ours, body)) {
		return nil, claimed, fmt.Errorf("%w: greeting claiming to be %s does not verify (is it using the same cluster key?)", ErrAuth, claimed)
	}
	if h.yourInc != g.inc {
		// The welcome is not tagged: it was altered on the way.
		return nil, claimed, fmt.Errorf("the greeting of %s answers a welcome this process did not send", claimed)
	}
	l := newLink(conn, r, g.self, h.id, h.name, h.inc,
		sealer{key: key, from: g.self, to: h.id, nonce: h.nonce},
		opener{key: key, from: h.id, to: g.self, nonce: ours})
	l.earlier = h.earlier && h.id != lab.Client
	if h.id != lab.Client {
		if err := mismatch(h.id, g.settings, h.settings); err != nil {
			_, _ = conn.Write(l.seal.frame([]byte{frameSettings}, encodeSettings(g.settings)))
			return nil, claimed, err
		}
	}
	// The first frame says the greeting was accepted (see greet), and
	// whether this endpoint reads datagrams from the dialler.
	var flags byte
	if g.datagrams {
		flags |= acceptDatagrams
		l.datagrams = true
		l.dgOpen = &opener{key: key, from: h.id, to: g.self, nonce: ours, label: datagramLabel}
		if h.dgPort != 0 {
			l.dgPort = h.dgPort
			l.dgSeal = sealer{key: key, from: g.self, to: h.id, nonce: h.nonce, label: datagramLabel}
		}
	}
	if _, err := conn.Write(l.seal.frame([]byte{frameAccept, flags}, nil)); err != nil {
		return nil, claimed, err
	}
	return l, claimed, nil
}

func welcomeBody(self lab.ID, n nonce, inc incarnation) []byte {
	b := append([]byte(welcomeMagic), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(b[len(welcomeMagic):], uint32(int32(self)))
	b = append(b, n[:]...)
	return append(b, inc[:]...)
}

func parseWelcome(b []byte) (id lab.ID, n nonce, inc incarnation, err error) {
	if len(b) != len(welcomeMagic)+4+nonceSize+len(inc) || string(b[:len(welcomeMagic)]) != welcomeMagic {
		return 0, n, inc, errors.New("the process listening there does not speak this lab's protocol (or another version of it)")
	}
	b = b[len(welcomeMagic):]
	id = lab.ID(int32(binary.BigEndian.Uint32(b)))
	copy(n[:], b[4:])
	copy(inc[:], b[4+nonceSize:])
	return id, n, inc, nil
}

// hello is the dialler's half of the handshake.
type hello struct {
	id    lab.ID
	name  string // a client's
	nonce nonce
	inc   incarnation
	// yourInc is the acceptor's incarnation, from its welcome: what
	// earlier speaks of, under the tag.
	yourInc incarnation
	// earlier: the dialler has delivered messages from a run of the
	// acceptor other than yourInc.
	earlier  bool
	settings []setting
	// dgPort is where a client reads datagrams, 0 for none (see
	// datagram.go); replicas leave it 0.
	dgPort uint16
}

// helloEarlier is hello.earlier's bit in the flags byte.
const helloEarlier byte = 1

func (h hello) body() []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(int32(h.id)))
	b = append(b, byte(len(h.name)))
	b = append(b, h.name...)
	b = append(b, h.nonce[:]...)
	b = append(b, h.inc[:]...)
	b = append(b, h.yourInc[:]...)
	var flags byte
	if h.earlier {
		flags |= helloEarlier
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint16(b, h.dgPort)
	return append(b, encodeSettings(h.settings)...)
}

func parseHello(b []byte) (hello, error) {
	var h hello
	if len(b) < 5 {
		return h, errors.New("greeting too short")
	}
	h.id = lab.ID(int32(binary.BigEndian.Uint32(b)))
	k := int(b[4])
	if k > maxName || len(b) < 5+k+nonceSize+2*len(h.inc)+3 {
		return h, errors.New("malformed greeting")
	}
	h.name = string(b[5 : 5+k])
	b = b[5+k:]
	b = b[copy(h.nonce[:], b):]
	b = b[copy(h.inc[:], b):]
	b = b[copy(h.yourInc[:], b):]
	flags := b[0]
	if flags&^helloEarlier != 0 {
		return h, errors.New("malformed greeting")
	}
	h.earlier = flags&helloEarlier != 0
	h.dgPort = binary.BigEndian.Uint16(b[1:])
	settings, rest, err := decodeSettings(b[3:])
	if err != nil || len(rest) != 0 {
		return h, errors.New("malformed greeting")
	}
	h.settings = settings
	return h, nil
}

// who names a peer in messages: "P2", or "client alice" for a client.
func who(id lab.ID, name string) string {
	if id == lab.Client && name != "" {
		return "client " + name
	}
	return id.String()
}
