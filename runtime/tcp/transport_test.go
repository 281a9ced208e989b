package tcp

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

// deadline bounds every wait in these tests; nothing waits for it to pass.
const deadline = 10 * time.Second

type received struct {
	from    lab.ID
	payload string
}

// endpoint is a transport under test and what it received.
type endpoint struct {
	tr    *Transport
	got   chan received
	mu    sync.Mutex
	notes []string
	noted chan struct{} // a token after each note
}

func (e *endpoint) note(line string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.notes = append(e.notes, line)
	select {
	case e.noted <- struct{}{}:
	default:
	}
}

// count says how many notes contain part.
func (e *endpoint) count(part string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Count(strings.Join(e.notes, "\n"), part)
}

// awaitNote waits for a note that contains part.
func (e *endpoint) awaitNote(t *testing.T, part string) {
	t.Helper()
	for e.count(part) == 0 {
		select {
		case <-e.noted:
		case <-time.After(deadline):
			e.mu.Lock()
			defer e.mu.Unlock()
			t.Fatalf("no note %q within %v; notes:\n%s", part, deadline, strings.Join(e.notes, "\n"))
		}
	}
}

func (e *endpoint) expect(t *testing.T, from lab.ID, payload string) {
	t.Helper()
	select {
	case r := <-e.got:
		assert.Equal(t, received{from, payload}, r)
	case <-time.After(deadline):
		t.Fatalf("nothing arrived within %v (expected %q from %s)", deadline, payload, from)
	}
}

// expectAfter is expect for a peer that was restarted: the new process may
// first get again what the old one received but had not yet acknowledged
// when it died (at-least-once across restarts; exactly once within one).
func (e *endpoint) expectAfter(t *testing.T, from lab.ID, payload string, earlier ...string) {
	t.Helper()
	for {
		select {
		case r := <-e.got:
			if r == (received{from, payload}) {
				return
			}
			require.Contains(t, earlier, r.payload, "unexpected delivery %+v while waiting for %q", r, payload)
		case <-time.After(deadline):
			t.Fatalf("nothing arrived within %v (expected %q from %s)", deadline, payload, from)
		}
	}
}

// start starts replica self of peers, listening on ln (nil for none), its
// configuration changed by each of with.
func start(t *testing.T, self lab.ID, peers Peers, keys *Keyring, ln net.Listener, with ...func(*TransportConfig)) *endpoint {
	t.Helper()
	e := &endpoint{got: make(chan received, 100), noted: make(chan struct{}, 1)}
	cfg := TransportConfig{
		Self: self, Peers: peers, Keys: keys, Listener: ln,
		Deliver:    func(from lab.ID, _ string, p []byte) { e.got <- received{from, string(p)} },
		Note:       e.note,
		MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond,
	}
	for _, f := range with {
		f(&cfg)
	}
	e.tr = StartTransport(cfg)
	t.Cleanup(e.tr.Close)
	return e
}

// withSettings gives a transport the settings s.
func withSettings(s Settings) func(*TransportConfig) {
	return func(cfg *TransportConfig) { cfg.Settings = &s }
}

// waitDown waits until e's link to peer is down: what e sends from then on
// waits for the peer's next run, while what it wrote before went to the
// run that died, and is lost with it.
func waitDown(t *testing.T, e *endpoint, peer lab.ID) { t.Helper(); waitLink(t, e, peer, false) }

// waitLink waits until e's link to peer is up, or down.
func waitLink(t *testing.T, e *endpoint, peer lab.ID, up bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		e.tr.mu.Lock()
		changed := e.tr.changed
		e.tr.mu.Unlock()
		if e.tr.dialers[peer].info().Up == up {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("the link to %s never went %s", peer, map[bool]string{true: "up", false: "down"}[up])
		}
	}
}

// freeAddrs finds n loopback addresses free for TCP and UDP, for
// endpoints started later. The ports lie below the range the system
// gives out to connections as they are made (32768 and up here), so that
// a connection a test makes in the meantime does not take one.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for len(out) < n {
		port := 20000 + rand.IntN(12000)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		ln, err := net.Listen("tcp", addr)
		if err != nil || slices.Contains(out, addr) {
			if err == nil {
				require.NoError(t, ln.Close())
			}
			continue
		}
		pc, err := net.ListenPacket("udp", addr)
		if err == nil {
			require.NoError(t, pc.Close())
			out = append(out, addr)
		}
		require.NoError(t, ln.Close())
	}
	return out
}

func listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := Listen(addr)
	require.NoError(t, err)
	return ln
}

// TestReconnect sends from P0 to P1 while P1 comes and goes: whatever P0
// sends reaches P1 once it is (back) up.
func TestReconnect(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, p0 *endpoint, startP1 func() *endpoint)
	}{
		{"the peer starts after the sender", func(t *testing.T, p0 *endpoint, startP1 func() *endpoint) {
			p0.tr.Send(1, []byte("sent before P1 existed"))
			p1 := startP1()
			p1.expect(t, 0, "sent before P1 existed")
		}},
		{"the peer is killed and started again", func(t *testing.T, p0 *endpoint, startP1 func() *endpoint) {
			p1 := startP1()
			p0.tr.Send(1, []byte("one"))
			p1.expect(t, 0, "one")
			p1.tr.Close()
			waitDown(t, p0, 1) // what P1's run had on the wire is lost with it
			p0.tr.Send(1, []byte("two"))
			p0.tr.Send(1, []byte("three"))
			p1 = startP1()
			p1.expectAfter(t, 0, "two", "one")
			p1.expect(t, 0, "three")
		}},
		{"the peer restarts twice", func(t *testing.T, p0 *endpoint, startP1 func() *endpoint) {
			sent := []string{}
			for _, m := range []string{"a", "b", "c"} {
				p1 := startP1()
				p0.tr.Send(1, []byte(m))
				p1.expectAfter(t, 0, m, sent...)
				p1.tr.Close()
				waitDown(t, p0, 1)
				sent = append(sent, m)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addrs := freeAddrs(t, 4)
			peers := Peers{Replicas: addrs}
			keys := keyring(t, "cluster")
			p0 := start(t, 0, peers, keys, listen(t, addrs[0]))
			tc.run(t, p0, func() *endpoint { return start(t, 1, peers, keys, listen(t, addrs[1])) })
		})
	}
}

func TestWaitConnected(t *testing.T) {
	addrs := freeAddrs(t, 4)
	peers := Peers{Replicas: addrs}
	keys := keyring(t, "cluster")
	var eps []*endpoint
	for i := range 4 {
		eps = append(eps, start(t, lab.ID(i), peers, keys, listen(t, addrs[i])))
	}
	ctx, cancel := contextWithDeadline()
	defer cancel()
	for _, e := range eps {
		require.NoError(t, e.tr.WaitConnected(ctx))
	}
	for _, l := range eps[0].tr.Links() {
		if l.Outbound {
			assert.True(t, l.Up, "link to %s", l.Peer)
		}
	}
}

func TestWrongKeyIsNeverDelivered(t *testing.T) {
	addrs := freeAddrs(t, 4)
	peers := Peers{Replicas: addrs}
	p1 := start(t, 1, peers, keyring(t, "cluster"), listen(t, addrs[1]))
	intruder := start(t, 0, peers, keyring(t, "intruder"), nil)
	intruder.tr.Send(1, []byte("forged"))

	// An honest P2 sends after the intruder; it arrives, the forgery never.
	p2 := start(t, 2, peers, keyring(t, "cluster"), nil)
	p2.tr.Send(1, []byte("honest"))
	p1.expect(t, 2, "honest")
	for p1.tr.Rejected() == 0 {
		select {
		case r := <-p1.got:
			t.Fatalf("a frame sealed with another key was delivered: %+v", r)
		case <-time.After(time.Millisecond):
		}
	}
	p1.mu.Lock()
	defer p1.mu.Unlock()
	assert.Contains(t, strings.Join(p1.notes, "\n"), "does not verify with this process's cluster key")
}

// A process with another key keeps dialling; each side says once what is
// wrong, and the refusals are counted, not printed, after that.
func TestWrongKeyIsReportedOnce(t *testing.T) {
	addrs := freeAddrs(t, 4)
	peers := Peers{Replicas: addrs}
	p1 := start(t, 1, peers, keyring(t, "cluster"), listen(t, addrs[1]))
	intruder := start(t, 0, peers, keyring(t, "intruder"), nil)
	intruder.tr.Send(1, []byte("forged"))
	for p1.tr.Rejected() < 3 {
		select {
		case r := <-p1.got:
			t.Fatalf("a frame sealed with another key was delivered: %+v", r)
		case <-time.After(time.Millisecond):
		}
	}
	assert.Equal(t, 1, p1.count("refused P0"), "the acceptor says it once")
	assert.Equal(t, 1, intruder.count("different --key files"), "the dialler says it once")
	assert.Zero(t, intruder.count("lost the connection"), "a refusal is not a lost connection")
}

func TestClientGetsRepliesOnItsOwnConnection(t *testing.T) {
	addrs := freeAddrs(t, 4)
	peers := Peers{Replicas: addrs}
	keys := keyring(t, "cluster")
	p0 := start(t, 0, peers, keys, listen(t, addrs[0]))
	got := make(chan received, 10)
	client := StartTransport(TransportConfig{
		Self: lab.Client, Name: "alice", Peers: peers, Keys: keys,
		Deliver:    func(from lab.ID, _ string, p []byte) { got <- received{from, string(p)} },
		MinBackoff: time.Millisecond,
	})
	defer client.Close()

	client.Send(0, []byte("request"))
	p0.expect(t, lab.Client, "request")
	require.NoError(t, p0.tr.SendClient("alice", []byte("reply")))
	select {
	case r := <-got:
		assert.Equal(t, received{0, "reply"}, r)
	case <-time.After(deadline):
		t.Fatal("no reply")
	}
}

// Two clients started with one name take the replica's one connection for
// that name from each other. Each says once what is likely wrong and then
// backs off quietly, and the replica says it once, instead of a line per
// reconnection from all three, many times a second.
func TestTwoClientsWithOneName(t *testing.T) {
	addrs := freeAddrs(t, 4)
	peers := Peers{Replicas: addrs[:1]}
	keys := keyring(t, "cluster")
	connected := func(cfg *TransportConfig) { cfg.Connected = cfg.Note }
	p0 := start(t, 0, peers, keys, listen(t, addrs[0]), connected)
	named := func(cfg *TransportConfig) {
		cfg.Name = "alice"
		cfg.MaxBackoff = time.Second
		cfg.Connected = cfg.Note
	}
	a := start(t, lab.Client, peers, keys, nil, named)
	b := start(t, lab.Client, peers, keys, nil, named)
	a.tr.Send(0, []byte("from a"))
	b.tr.Send(0, []byte("from b"))
	hint := "is another client running with the name alice?"
	limit := time.After(deadline)
	for a.count(hint)+b.count(hint) < 2 {
		select {
		case <-a.noted:
		case <-b.noted:
		case <-limit:
			t.Fatalf("no hint from both clients within %v", deadline)
		}
	}
	for _, c := range []*endpoint{a, b} {
		assert.Equal(t, 1, c.count(hint), "each client says it once")
		assert.Less(t, c.count("lost the connection"), 2*flapQuiet, "and little else before")
	}
	assert.Equal(t, 1, p0.count("connected again while its earlier connection was open"), "the replica says it once")
	assert.Equal(t, 2, p0.count("client alice connected"), "the first connection told as usual, then the note, then nothing")
}

// A reply to a client that has not connected yet waits for it: a client
// started before the replicas, or still connecting to this one.
func TestReplyWaitsForALateClient(t *testing.T) {
	addrs := freeAddrs(t, 4)
	peers := Peers{Replicas: addrs}
	keys := keyring(t, "cluster")
	p0 := start(t, 0, peers, keys, listen(t, addrs[0]))
	require.NoError(t, p0.tr.SendClient("bob", []byte("early reply")))
	got := make(chan received, 10)
	client := StartTransport(TransportConfig{
		Self: lab.Client, Name: "bob", Peers: peers, Keys: keys,
		Deliver:    func(from lab.ID, _ string, p []byte) { got <- received{from, string(p)} },
		MinBackoff: time.Millisecond,
	})
	defer client.Close()
	select {
	case r := <-got:
		assert.Equal(t, received{0, "early reply"}, r)
	case <-time.After(deadline):
		t.Fatal("the reply queued before the client connected never reached it")
	}
}

// TestHolding follows one message through holding: it waits while a
// reader works through a backlog, and goes when the backlog is handed over
// or has gone on for holdFrames frames. The link is busy (another writer
// holds it), so what goes wakes the link's writer, which shows on the
// queue's wake channel.
func TestHolding(t *testing.T) {
	for _, tc := range []struct {
		name    string
		readers int                 // readers working through a backlog when it is sent
		after   func(tr *Transport) // what happens next
		goes    bool                // the message is let go
	}{
		{"a lone message goes at once", 0, func(*Transport) {}, true},
		{"a message sent under load is held", 1, func(*Transport) {}, false},
		{"it goes when the backlog is handed over", 1, func(tr *Transport) { tr.release() }, true},
		{"it waits for the last reader", 2, func(tr *Transport) { tr.release() }, false},
		{"it goes after holdFrames frames however long the load", 2, func(tr *Transport) {
			for range holdFrames {
				tr.handedOver()
			}
		}, true},
		{"it waits a frame short of that", 1, func(tr *Transport) {
			for range holdFrames - 1 {
				tr.handedOver()
			}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &Transport{}
			for range tc.readers {
				tr.holdFrom()
			}
			q, l := newQueue(0), &link{}
			l.wmu.Lock()
			q.push([]byte("m"))
			tr.flush(l, q)
			tc.after(tr)
			assert.Equal(t, tc.goes, len(q.wake) == 1)
		})
	}
}

func TestQueue(t *testing.T) {
	payloads := func(q *queue, gen int) []string {
		var out []string
		for {
			it, ok, _ := q.peek(gen)
			if !ok {
				return out
			}
			out = append(out, string(it.payload))
			q.written(gen, it.no)
		}
	}
	for _, tc := range []struct {
		name string
		run  func(q *queue) []string
		want []string
	}{
		{"writes in order", func(q *queue) []string {
			q.push([]byte("a"))
			q.push([]byte("b"))
			return payloads(q, q.again())
		}, []string{"a", "b"}},
		{"a new connection writes again what was not acknowledged", func(q *queue) []string {
			q.push([]byte("a"))
			q.push([]byte("b"))
			q.push([]byte("c"))
			payloads(q, q.again())
			q.ack(1)
			return payloads(q, q.again())
		}, []string{"b", "c"}},
		{"acknowledged messages are gone", func(q *queue) []string {
			q.push([]byte("a"))
			q.push([]byte("b"))
			payloads(q, q.again())
			q.ack(2)
			return payloads(q, q.again())
		}, nil},
		{"a full queue drops its oldest", func(q *queue) []string {
			for _, p := range []string{"a", "b", "c", "d"} {
				q.push([]byte(p))
			}
			return payloads(q, q.again())
		}, []string{"b", "c", "d"}},
		{"a new run of the peer gets what was never written, not what its previous run was sent", func(q *queue) []string {
			q.push([]byte("a"))
			q.push([]byte("b"))
			first, _ := q.rewind(incarnation{1})
			payloads(q, first)  // a and b reach run 1, which dies before acknowledging
			q.push([]byte("c")) // queued while the peer is down
			gen, dropped := q.rewind(incarnation{2})
			if dropped != 2 {
				return []string{fmt.Sprintf("dropped %d", dropped)}
			}
			return payloads(q, gen)
		}, []string{"c"}},
		{"the same run of the peer, reconnected, gets everything again", func(q *queue) []string {
			q.push([]byte("a"))
			first, _ := q.rewind(incarnation{1})
			payloads(q, first)
			gen, dropped := q.rewind(incarnation{1})
			if dropped != 0 {
				return []string{fmt.Sprintf("dropped %d", dropped)}
			}
			return payloads(q, gen)
		}, []string{"a"}},
		{"an older connection's writer gets nothing", func(q *queue) []string {
			q.push([]byte("a"))
			old := q.again()
			q.again()
			_, ok, stale := q.peek(old)
			if ok || !stale {
				return []string{"the old writer was served"}
			}
			return nil
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.run(newQueue(3)))
		})
	}
}

// TestAcknowledged: messages too few to fill a batch of acknowledgements
// are acknowledged all the same, by the transport's clock, with nothing
// going the other way to carry it.
func TestAcknowledged(t *testing.T) {
	for _, n := range []int{1, ackBatch - 1, ackBatch, 3 * ackBatch} {
		t.Run(fmt.Sprint(n, " messages"), func(t *testing.T) {
			addrs := freeAddrs(t, 4)
			peers := Peers{Replicas: addrs}
			keys := keyring(t, "cluster")
			p0 := start(t, 0, peers, keys, listen(t, addrs[0]))
			p1 := start(t, 1, peers, keys, listen(t, addrs[1]))
			p1.got = make(chan received, n)
			for i := range n {
				p0.tr.Send(1, []byte(fmt.Sprint(i)))
			}
			for i := range n {
				p1.expect(t, 0, fmt.Sprint(i))
			}
			give := time.After(deadline)
			for p0.tr.dialers[1].q.len() > 0 {
				select {
				case <-give:
					t.Fatalf("%d messages still unacknowledged after %v", p0.tr.dialers[1].q.len(), deadline)
				case <-time.After(time.Millisecond):
				}
			}
		})
	}
}

// TestBrokenConnectionLosesAndRepeatsNothing breaks the connection under a
// stream of messages: the sender writes again what was not acknowledged,
// and the receiver, the same process, delivers each message exactly once,
// in order; with datagrams too, sent under the connection that broke.
func TestBrokenConnectionLosesAndRepeatsNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		with []func(*TransportConfig)
	}{
		{"connections only", []func(*TransportConfig){withoutDatagrams}},
		{"datagrams", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addrs := freeAddrs(t, 4)
			peers := Peers{Replicas: addrs}
			keys := keyring(t, "cluster")
			p0 := start(t, 0, peers, keys, listen(t, addrs[0]), tc.with...)
			p1 := start(t, 1, peers, keys, listen(t, addrs[1]), tc.with...)
			p1.got = make(chan received, 1000)
			const total = 300
			for i := range total {
				p0.tr.Send(1, []byte(fmt.Sprint(i)))
			}
			for i := range total {
				if i == total/3 || i == 2*total/3 {
					p1.tr.mu.Lock()
					for l := range p1.tr.accepted {
						l.close()
					}
					p1.tr.mu.Unlock()
				}
				p1.expect(t, 0, fmt.Sprint(i))
			}
			p0.awaitNote(t, "lost the connection to P1")
			for i := range total {
				p0.tr.Send(1, []byte(fmt.Sprint("after ", i)))
			}
			for i := range total {
				p1.expect(t, 0, fmt.Sprint("after ", i))
			}
		})
	}
}

func TestPeersFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want Peers
		err  string
	}{
		{name: "the lab's layout", text: "# name address\nP0 127.0.0.1:5000\nP1 127.0.0.1:5001\nP2 127.0.0.1:5002\nP3 127.0.0.1:5003\nclient 127.0.0.1:7000\n",
			want: DefaultPeers(4)},
		{name: "any order, no client", text: "P3 h:4\nP1 h:2\nP0 h:1 # the first primary\nP2 h:3",
			want: Peers{Replicas: []string{"h:1", "h:2", "h:3", "h:4"}}},
		{name: "a gap", text: "P0 h:1\nP1 h:2\nP2 h:3\nP4 h:5", err: "P3 is missing"},
		{name: "too few", text: "P0 h:1\nP1 h:2\nP2 h:3", err: "at least 4"},
		{name: "twice", text: "P0 h:1\nP0 h:2", err: "given twice"},
		{name: "no port", text: "P0 localhost", err: "not HOST:PORT"},
		{name: "a bad name", text: "Q0 h:1", err: "not a replica name"},
		{name: "extra words", text: "P0 h:1 h:2", err: "want \"NAME HOST:PORT\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePeers(tc.text)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, p)
			again, err := ParsePeers(p.String())
			require.NoError(t, err)
			assert.Equal(t, p, again, "String writes what ParsePeers reads")
		})
	}
}

func TestPeersWithPort(t *testing.T) {
	p := DefaultPeers(4).WithPort(2, 6002).WithPort(lab.Client, 7100)
	assert.Equal(t, "127.0.0.1:6002", p.Addr(2))
	assert.Equal(t, "127.0.0.1:5001", p.Addr(1))
	assert.Equal(t, "127.0.0.1:7100", p.Client)
	assert.Equal(t, "127.0.0.1:5002", DefaultPeers(4).Addr(2), "the original is unchanged")
}

func TestInflight(t *testing.T) {
	f := NewInflight()
	ctx, cancel := contextWithDeadline()
	defer cancel()
	require.NoError(t, f.Wait(ctx), "nothing in flight")
	f.add(2)
	done := make(chan error)
	go func() { done <- f.Wait(ctx) }()
	f.add(-1)
	assert.Equal(t, 1, f.Pending())
	f.add(-1)
	require.NoError(t, <-done)
	f.add(-1)
	assert.Zero(t, f.Pending(), "never below zero")
	f.add(1)
	short, stop := context.WithCancel(context.Background())
	stop()
	assert.Error(t, f.Wait(short), "a wait ends with its context")
}

// A writer takes everything not yet written at once, up to a limit, and
// then only what came after.
func TestQueueUnwritten(t *testing.T) {
	q := newQueue(10)
	for _, p := range []string{"a", "b", "c", "d", "e"} {
		q.push([]byte(p))
	}
	gen := q.again()
	names := func(items []item) (out []string) {
		for _, it := range items {
			out = append(out, string(it.payload))
		}
		return out
	}
	items, oldest, stale := q.unwritten(nil, gen, 3)
	require.False(t, stale)
	assert.Equal(t, uint64(1), oldest)
	assert.Equal(t, []string{"a", "b", "c"}, names(items))
	q.written(gen, items[len(items)-1].no)
	q.ack(1)
	items, oldest, _ = q.unwritten(items[:0], gen, 3)
	assert.Equal(t, []string{"d", "e"}, names(items))
	assert.Equal(t, uint64(2), oldest, "a is acknowledged, b is the oldest queued")
	q.written(gen, items[len(items)-1].no)
	items, _, _ = q.unwritten(items[:0], gen, 3)
	assert.Empty(t, items)

	again := q.again()
	items, _, _ = q.unwritten(nil, again, 10)
	assert.Equal(t, []string{"b", "c", "d", "e"}, names(items), "a new connection writes what was not acknowledged")
	_, _, stale = q.unwritten(nil, gen, 10)
	assert.True(t, stale)
}

// TestWrongKeyIsToldAfterUnreachable: a peer that could not be reached at
// first and then refuses the greeting (it came up with another key) is
// told of again, as a refusal.
func TestWrongKeyIsToldAfterUnreachable(t *testing.T) {
	addrs := freeAddrs(t, 4)
	peers := Peers{Replicas: addrs}
	count := func(e *endpoint, part string) int {
		e.mu.Lock()
		defer e.mu.Unlock()
		return strings.Count(strings.Join(e.notes, "\n"), part)
	}
	intruder := start(t, 0, peers, keyring(t, "intruder"), nil)
	intruder.tr.Send(1, []byte("forged"))
	for count(intruder, "cannot reach P1") == 0 {
		<-time.After(time.Millisecond)
	}
	p1 := start(t, 1, peers, keyring(t, "cluster"), listen(t, addrs[1]))
	for p1.tr.Rejected() < 3 {
		<-time.After(time.Millisecond)
	}
	assert.Equal(t, 1, count(intruder, "cannot reach P1"))
	assert.Equal(t, 1, count(intruder, "different --key files"), "the refusal is told though the peer was unreachable before")
}

// Two replicas started with different settings refuse each other, and
// each says once, however often the two try again, which setting differs
// and both values; with the same settings they connect.
func TestSettingsMustAgree(t *testing.T) {
	k10 := labSettings
	k10.CheckpointInterval = 10
	for _, tc := range []struct {
		name  string
		p1    Settings
		note0 string // what P0 says; "" when the two connect
		note1 string // what P1 says
	}{
		{name: "the same settings", p1: labSettings},
		{
			name:  "another checkpoint interval",
			p1:    k10,
			note0: "P1 runs with checkpoint interval 10, this replica with 100: start every process with the same --checkpoint-interval",
			note1: "P0 runs with checkpoint interval 100, this replica with 10: start every process with the same --checkpoint-interval",
		},
		{
			name:  "another vote mode",
			p1:    ReplicaSettings(4, lab.Config{Manual: true}, labSettings.Balances),
			note0: "P1 runs with votes typed (--manual), this replica with automatic: start every process with the same --manual setting",
			note1: "P0 runs with votes automatic, this replica with typed (--manual): start every process with the same --manual setting",
		},
		{
			name:  "no starting balances",
			p1:    ReplicaSettings(4, lab.Config{}, nil),
			note0: "P1 runs with starting balances none, this replica with alice=100: start every process with the same --balances",
			note1: "P0 runs with starting balances alice=100, this replica with none: start every process with the same --balances",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addrs := freeAddrs(t, 4)
			peers := Peers{Replicas: addrs}
			keys := keyring(t, "cluster")
			p0 := start(t, 0, peers, keys, listen(t, addrs[0]), withSettings(labSettings))
			p1 := start(t, 1, peers, keys, listen(t, addrs[1]), withSettings(tc.p1))
			p0.tr.Send(1, []byte("to P1"))
			p1.tr.Send(0, []byte("to P0"))
			if tc.note0 == "" {
				p1.expect(t, 0, "to P1")
				p0.expect(t, 1, "to P0")
				assert.Zero(t, p0.count("runs with"))
				return
			}
			p0.awaitNote(t, tc.note0)
			p1.awaitNote(t, tc.note1)
			// Let each refuse the other a few more times: the refusals
			// are counted, not printed, and nothing is delivered.
			limit := time.Now().Add(deadline)
			for refusals(p0, "P1") < 3 || refusals(p1, "P0") < 3 {
				select {
				case r := <-p0.got:
					t.Fatalf("P0 delivered %+v from a replica with other settings", r)
				case r := <-p1.got:
					t.Fatalf("P1 delivered %+v from a replica with other settings", r)
				case <-time.After(time.Millisecond):
				}
				require.True(t, time.Now().Before(limit), "fewer than 3 refusals on each side within %v", deadline)
			}
			assert.Equal(t, 1, p0.count("runs with"), "P0 says it once")
			assert.Equal(t, 1, p1.count("runs with"), "P1 says it once")
			assert.Zero(t, p0.count("lost the connection")+p1.count("lost the connection"), "a refusal is not a lost connection")
			assert.Zero(t, p0.tr.Rejected(), "nor an authentication failure")
			assert.Contains(t, linkTo(p1, 0).Err, tc.note1, "net says why the link is down")
		})
	}
}

// refusals counts the greetings e refused from a peer claiming to be
// claimed since that peer last connected.
func refusals(e *endpoint, claimed string) int {
	e.tr.mu.Lock()
	defer e.tr.mu.Unlock()
	return e.tr.refused[claimed]
}

// linkTo describes e's outbound link to peer.
func linkTo(e *endpoint, peer lab.ID) LinkInfo {
	for _, l := range e.tr.Links() {
		if l.Outbound && l.Peer == peer {
			return l
		}
	}
	return LinkInfo{}
}

// A replica restarted (a new transport on the same port) into a cluster
// that delivered messages from its previous run learns so from the
// others' greetings, before it receives anything from them; one that
// joins for the first time, or whose previous run sent nothing, does not.
func TestEarlierRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		// first plays the first run of P0, with P1 up; nil for none.
		first func(t *testing.T, p0, p1 *endpoint)
		want  bool
	}{
		{name: "the first run"},
		{name: "a restart after the first run sent", want: true, first: func(t *testing.T, p0, p1 *endpoint) {
			p0.tr.Send(1, []byte("from the first run"))
			p1.expect(t, 0, "from the first run")
		}},
		{name: "a restart after the first run only received", first: func(t *testing.T, p0, p1 *endpoint) {
			p1.tr.Send(0, []byte("to the first run"))
			p0.expect(t, 1, "to the first run")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addrs := freeAddrs(t, 4)
			peers := Peers{Replicas: addrs}
			keys := keyring(t, "cluster")
			p1 := start(t, 1, peers, keys, listen(t, addrs[1]))
			if tc.first != nil {
				first := start(t, 0, peers, keys, listen(t, addrs[0]))
				tc.first(t, first, p1)
				assert.False(t, first.tr.EarlierRun(), "the first run has no earlier one")
				// P1's link to the first run is up before it ends, so that
				// what P1 sends next cannot go to that run as it dies.
				waitLink(t, p1, 0, true)
				first.tr.Close()
				waitDown(t, p1, 0)
			}
			var told atomic.Int32
			p0 := start(t, 0, peers, keys, listen(t, addrs[0]), func(cfg *TransportConfig) {
				cfg.EarlierRun = func() { told.Add(1) }
			})
			p1.tr.Send(0, []byte("to P0"))
			p0.expectAfter(t, 1, "to P0", "to the first run")
			assert.Equal(t, tc.want, p0.tr.EarlierRun())
			if tc.want {
				assert.Equal(t, int32(1), told.Load(), "told once")
			} else {
				assert.Zero(t, told.Load())
			}
			assert.False(t, p1.tr.EarlierRun(), "P1 did not restart")
		})
	}
}
