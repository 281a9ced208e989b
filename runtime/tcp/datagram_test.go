package tcp

import (
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

// withoutDatagrams keeps a transport on its connections.
func withoutDatagrams(cfg *TransportConfig) { cfg.NoDatagrams = true }

// pingPong sends n messages from a to b one at a time, each once the last
// has arrived, as the lab's protocol does at the keyboard.
func pingPong(t *testing.T, a, b *endpoint, to lab.ID, n int) {
	t.Helper()
	for i := range n {
		a.tr.Send(to, []byte(fmt.Sprint(i)))
		b.expect(t, a.tr.cfg.Self, fmt.Sprint(i))
	}
}

// eventually waits until cond holds, looking every millisecond, and fails
// the test, saying what it waited for, if it does not within deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	give := time.After(deadline)
	for !cond() {
		select {
		case <-give:
			t.Fatalf("%s: not so within %v", what, deadline)
		case <-time.After(time.Millisecond):
		}
	}
}

// pair starts replicas P0 and P1 of a two-replica cluster, each changed by
// with, and returns them with their addresses.
func pair(t *testing.T, with ...func(*TransportConfig)) (p0, p1 *endpoint, addrs []string) {
	t.Helper()
	addrs = freeAddrs(t, 2)
	peers := Peers{Replicas: addrs}
	keys := keyring(t, "cluster")
	p0 = start(t, 0, peers, keys, listen(t, addrs[0]), with...)
	p1 = start(t, 1, peers, keys, listen(t, addrs[1]), with...)
	return p0, p1, addrs
}

// awaitReady waits until every link of e that sends datagrams has heard
// from its other end, from which moment its messages go as datagrams.
func awaitReady(t *testing.T, e *endpoint) {
	t.Helper()
	eventually(t, "every link of "+who(e.tr.cfg.Self, e.tr.cfg.Name)+" heard from its other end", func() bool {
		for _, s := range e.tr.sending() {
			if s.l.dg != nil && !s.l.dg.ready.Load() {
				return false
			}
		}
		return true
	})
}

// Between two replicas that read datagrams, a message sent alone goes as
// a datagram once the link has heard from the other end; with
// NoDatagrams on either side, every message goes on the connection. Either
// way each arrives once, in order.
func TestMessagesGoAsDatagrams(t *testing.T) {
	for _, tc := range []struct {
		name     string
		with     []func(*TransportConfig)
		atLeast  uint64
		atMost   uint64
		linkSays string
	}{
		// A message goes on the connection when it finds the link's
		// writer busy (writing an acknowledgement, say), which on a
		// loaded machine is often: most, not all.
		{name: "both read datagrams", atLeast: 15, atMost: 50, linkSays: "datagrams"},
		{name: "tcp only", with: []func(*TransportConfig){withoutDatagrams}, atLeast: 0, atMost: 0, linkSays: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p0, p1, _ := pair(t, tc.with...)
			pingPong(t, p0, p1, 1, 1)
			awaitReady(t, p0)
			pingPong(t, p0, p1, 1, 49)
			arrived := uint64(0)
			if p1.tr.dg != nil {
				arrived = p1.tr.dg.arrived.Load()
			}
			assert.GreaterOrEqual(t, arrived, tc.atLeast)
			assert.LessOrEqual(t, arrived, tc.atMost)
			assert.Equal(t, tc.linkSays, linkTo(p0, 1).Datagrams)
			assert.Zero(t, p1.tr.Rejected())
		})
	}
}

// A client sends its requests and gets its replies as datagrams too: the
// replica sends them to the port the client gave in its greeting.
func TestClientTalksInDatagrams(t *testing.T) {
	addrs := freeAddrs(t, 1)
	peers := Peers{Replicas: addrs}
	keys := keyring(t, "cluster")
	p0 := start(t, 0, peers, keys, listen(t, addrs[0]))
	c := start(t, lab.Client, peers, keys, nil, func(cfg *TransportConfig) { cfg.Name = "alice" })
	c.tr.Send(0, []byte("hello"))
	p0.expect(t, lab.Client, "hello")
	awaitReady(t, c)
	awaitReady(t, p0)
	for i := range 30 {
		c.tr.Send(0, []byte(fmt.Sprint("request ", i)))
		p0.expect(t, lab.Client, fmt.Sprint("request ", i))
		require.NoError(t, p0.tr.SendClient("alice", []byte(fmt.Sprint("reply ", i))))
		c.expect(t, 0, fmt.Sprint("reply ", i))
	}
	// A message goes on the connection when it finds the link's writer
	// busy (writing an acknowledgement, say), which on a loaded machine
	// is often: most, not all.
	assert.GreaterOrEqual(t, p0.tr.dg.arrived.Load(), uint64(10), "requests as datagrams")
	assert.GreaterOrEqual(t, c.tr.dg.arrived.Load(), uint64(10), "replies as datagrams")
}

// Datagrams that never arrive (here the receiver's socket is closed, as a
// firewall letting only TCP through would have it) are written again on
// the connection: every message still arrives, once and in order, and
// after dgGiveUp such rounds the link gives datagrams up and says so.
func TestLostDatagramsGoOnTheConnection(t *testing.T) {
	p0, p1, addrs := pair(t)
	p1.got = make(chan received, 1000)
	pingPong(t, p0, p1, 1, 1)
	awaitReady(t, p0)
	pingPong(t, p0, p1, 1, 10) // datagrams arrive, are acknowledged...
	require.NoError(t, p1.tr.dg.conn.Close())
	// ... and then no more. A message that finds the link's writer busy
	// goes on the connection, which tells nothing of datagrams: as many
	// as it takes.
	i := 0
	eventually(t, "a note that datagrams go unacknowledged", func() bool {
		p0.tr.Send(1, []byte(fmt.Sprint("lost ", i)))
		p1.expect(t, 0, fmt.Sprint("lost ", i))
		i++
		return p0.count("go unacknowledged") > 0
	})
	assert.Equal(t, 1, p0.count("datagrams to P1 at "+addrs[1]+" go unacknowledged"))
	assert.Equal(t, "datagrams given up", linkTo(p0, 1).Datagrams)
	assert.Equal(t, 0, p1.count("unacknowledged"))
	for i := range 200 {
		p0.tr.Send(1, []byte(fmt.Sprint("after ", i)))
	}
	for i := range 200 {
		p1.expect(t, 0, fmt.Sprint("after ", i))
	}
	assert.Equal(t, 1, p0.count("go unacknowledged"), "said once")
}

// A datagram that does not verify is dropped and counted, never
// delivered: garbage, one that names a sender without its key, one sent
// again (a replay), and one from a sender the receiver has no link with.
func TestForgedDatagramsAreDropped(t *testing.T) {
	p0, p1, addrs := pair(t)
	keys := keyring(t, "cluster")
	pingPong(t, p0, p1, 1, 3) // the link is up and has heard from P1

	conn, err := net.Dial("udp", addrs[1])
	require.NoError(t, err)
	defer conn.Close()
	// What P0 would send, sealed by a key that is not the cluster's.
	other := keyring(t, "another cluster")
	p1.tr.mu.Lock()
	nonce := p1.tr.dgFrom[dgKey{peer: 0}].l.dgOpen.nonce
	p1.tr.mu.Unlock()
	forged := binary.BigEndian.AppendUint32(nil, 0)
	s := sealer{key: other.pair(0, 1), from: 0, to: 1, nonce: nonce, label: datagramLabel}
	forged = appendMessage(&s, forged, 100, acks{}, 4, []byte("forged"))
	// A true one (P0's next message, as an attacker who had P0's key
	// could make it), sent twice: the second is a replay.
	s = sealer{key: keys.pair(0, 1), from: 0, to: 1, nonce: nonce, label: datagramLabel, counter: 1 << 40}
	replayed := appendMessage(&s, binary.BigEndian.AppendUint32(nil, 0), 4, acks{}, 4, []byte("true"))

	before := p1.tr.Rejected()
	stranger := binary.BigEndian.AppendUint32(nil, 9) // no replica of this cluster
	stranger = append(stranger, replayed[4:]...)
	self := binary.BigEndian.AppendUint32(nil, 1) // the receiver itself
	self = append(self, replayed[4:]...)
	for _, b := range [][]byte{[]byte("garbage"), forged, replayed, replayed, stranger, self} {
		_, err := conn.Write(b)
		require.NoError(t, err)
	}
	p1.expect(t, 0, "true")
	eventually(t, "5 datagrams rejected", func() bool { return p1.tr.Rejected() >= before+5 })
	select {
	case r := <-p1.got:
		t.Fatalf("delivered %q", r.payload)
	default:
	}
}

// The receiver delivers each sender's messages in order and once, however
// they arrive: a message kept until the ones before it come, and skipped
// numbers the sender has dropped for good (its oldest moved past them).
func TestInboxDeliversInOrder(t *testing.T) {
	type frame struct{ no, oldest uint64 }
	for _, tc := range []struct {
		name   string
		frames []frame
		want   []uint64
		acked  uint64
	}{
		{"in order", []frame{{1, 1}, {2, 1}, {3, 1}}, []uint64{1, 2, 3}, 3},
		{"overtaken", []frame{{2, 1}, {3, 1}, {1, 1}}, []uint64{1, 2, 3}, 3},
		{"twice", []frame{{1, 1}, {1, 1}, {3, 2}, {3, 2}, {2, 2}}, []uint64{1, 2, 3}, 3},
		{"the sender dropped the first", []frame{{3, 3}, {4, 3}}, []uint64{3, 4}, 4},
		{"a gap still to come", []frame{{1, 1}, {3, 2}}, []uint64{1}, 1},
		{"kept, then passed by one the sender says follows a drop", []frame{{1, 1}, {3, 2}, {5, 5}, {6, 5}}, []uint64{1, 5, 6}, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []uint64
			tr := &Transport{delivered: map[origin]*inbox{}}
			tr.cfg.Deliver = func(_ lab.ID, _ string, p []byte) { got = append(got, binary.BigEndian.Uint64(p)) }
			tr.ackClock = time.AfterFunc(time.Hour, func() {})
			defer tr.ackClock.Stop()
			l := &link{peer: 0, wake: make(chan struct{}, 1)}
			for _, f := range tc.frames {
				payload := binary.BigEndian.AppendUint64(nil, f.no)
				tr.take(l, origin{peer: 0}, frameBody{kind: frameMessage, no: f.no, oldest: f.oldest, payload: payload})
				payload[0] = 0xff // the reader's buffer is read over: what is kept is a copy
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.acked, l.ackOwed.Load(), "acknowledges what it delivered, in order")
		})
	}
}

// What is kept ahead of its turn is bounded: one message too many is
// dropped, for its sender to write again.
func TestInboxKeepsABoundedNumber(t *testing.T) {
	in := &inbox{}
	for no := uint64(2); no < maxAhead+10; no++ {
		in.keep(frameBody{no: no, oldest: 1, payload: []byte("x")})
	}
	assert.Len(t, in.ahead, maxAhead)
	assert.Equal(t, maxAhead, in.size)
}

// A peer that stops handling messages for a while (a process suspended
// with Ctrl-Z, a long call into its replica) acknowledges neither its
// datagrams nor its connection's messages: that says nothing of datagrams,
// and the link keeps sending them, however often it happens.
func TestAPausedPeerKeepsDatagrams(t *testing.T) {
	var paused sync.RWMutex // held to write while the peer is paused
	p0, p1, _ := pair(t, func(cfg *TransportConfig) {
		deliver := cfg.Deliver
		cfg.Deliver = func(from lab.ID, client string, p []byte) {
			paused.RLock()
			defer paused.RUnlock()
			deliver(from, client, p)
		}
	})
	pingPong(t, p0, p1, 1, 1)
	awaitReady(t, p0)
	rounds := func() int { // since the clock last had the connection carry the datagrams
		p0.tr.dg.checkMu.Lock()
		defer p0.tr.dg.checkMu.Unlock()
		p0.tr.dialers[1].mu.Lock()
		defer p0.tr.dialers[1].mu.Unlock()
		return p0.tr.dialers[1].cur.dg.pending
	}
	for i := range 2 * dgGiveUp {
		paused.Lock()
		p0.tr.Send(1, []byte(fmt.Sprint("while paused ", i)))
		eventually(t, "the clock waits a third round for the paused peer", func() bool { return rounds() >= 3 })
		paused.Unlock()
		p1.expect(t, 0, fmt.Sprint("while paused ", i))
	}
	pingPong(t, p0, p1, 1, 5)
	assert.Equal(t, 0, p0.count("unacknowledged"))
	assert.Equal(t, "datagrams", linkTo(p0, 1).Datagrams)
}

// A round whose datagrams went unacknowledged while the connection's were
// counts against datagrams only if none of the link's datagrams arrived
// since the last such round: under load a datagram waits, unacknowledged,
// behind a slow message of the connection, and it has arrived all the
// same.
func TestDatagramLossesNeedDatagramsMissing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		arrived []uint64 // what the peer says at each round
		offAt   int      // the round that gives datagrams up, 0 for none
	}{
		{"some arrive each round", []uint64{3, 9, 10, 11, 30, 31, 32, 33}, 0},
		{"none ever arrives", []uint64{0, 0, 0, 0}, 3},
		{"none arrives any more", []uint64{12, 12, 12, 12, 12}, 4},
		{"one arrives in between", []uint64{0, 0, 1, 1, 1, 1}, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &Transport{}
			tr.cfg.Note = func(string) {}
			g := &dgSender{to: &net.UDPAddr{}}
			l := &link{dg: g}
			off := 0
			for i, a := range tc.arrived {
				tr.handle(l, nil, frameBody{kind: frameAck, acks: acks{arrived: a}})
				g.loss(tr, l)
				if g.off.Load() && off == 0 {
					off = i + 1
				}
			}
			assert.Equal(t, tc.offAt, off)
		})
	}
}

// A message goes as a datagram up to maxDatagram bytes with its head and
// tag, and on the connection beyond: a datagram larger than the reader's
// buffer would be cut, refused, and sent again a round later.
func TestLargestDatagram(t *testing.T) {
	p0, p1, _ := pair(t)
	pingPong(t, p0, p1, 1, 1)
	awaitReady(t, p0)
	fits := maxDatagram - (4 + 4 + counterSize + messageHead + tagSize)
	for _, tc := range []struct {
		size     int
		datagram bool
	}{{fits, true}, {fits + 1, false}} {
		before := p1.tr.dg.arrived.Load()
		payload := strings.Repeat("x", tc.size)
		p0.tr.Send(1, []byte(payload))
		p1.expect(t, 0, payload)
		assert.Equal(t, tc.datagram, p1.tr.dg.arrived.Load() > before, "%d bytes", tc.size)
	}
	assert.Zero(t, p1.tr.Rejected())
}
