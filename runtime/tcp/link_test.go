package tcp

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

// handshake runs both sides of a greeting over an in-memory connection:
// dialler, meaning to reach want, and acceptor.
func handshake(t *testing.T, dialler, acceptor *greeter, want lab.ID) (dialled, accepted *link, dialErr, acceptErr error) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	done := make(chan struct{})
	go func() {
		defer close(done)
		accepted, _, acceptErr = acceptor.welcome(b, func(id lab.ID, name string) error {
			if id == lab.Client && name == "" {
				return errors.New("no name")
			}
			if id == acceptor.self {
				return errors.New("same ID")
			}
			return nil
		})
		if acceptErr != nil {
			_ = b.Close()
		}
	}()
	dialled, dialErr = dialler.greet(a, want)
	if dialErr != nil {
		_ = a.Close()
	}
	<-done
	return dialled, accepted, dialErr, acceptErr
}

// replicaGreeter is the greeter of replica self in a cluster of four with
// the lab's settings, which has heard from no other run of anyone.
func replicaGreeter(keys *Keyring, self lab.ID) *greeter {
	return &greeter{keys: keys, self: self, inc: newIncarnation(), settings: labSettings.describe()}
}

var labSettings = ReplicaSettings(4, lab.Config{}, map[string]int{"alice": 100})

func TestHandshake(t *testing.T) {
	keys := keyring(t, "cluster")
	other := labSettings
	other.CheckpointInterval = 10
	for _, tc := range []struct {
		name       string
		dialler    *greeter
		want       lab.ID // whom the dialler means to reach
		acceptor   lab.ID // who answers
		dialOK     bool
		refused    bool // the dialler learns that the acceptor refused it
		acceptOK   bool
		acceptAuth bool // the acceptor's refusal is an authentication failure
		settings   bool // both sides refuse the other's settings
	}{
		{name: "replica to replica", dialler: replicaGreeter(keys, 1), want: 2, acceptor: 2, dialOK: true, acceptOK: true},
		{name: "client to replica", dialler: &greeter{keys: keys, self: lab.Client, name: "alice"}, want: 0, acceptor: 0, dialOK: true, acceptOK: true},
		{name: "another cluster key", dialler: replicaGreeter(keyring(t, "intruder"), 1), want: 2, acceptor: 2, refused: true, acceptAuth: true},
		{name: "the wrong process at the port", dialler: replicaGreeter(keys, 1), want: 3, acceptor: 2},
		{name: "a client with no name", dialler: &greeter{keys: keys, self: lab.Client}, want: 0, acceptor: 0, refused: true},
		{name: "a replica claiming the acceptor's own ID", dialler: replicaGreeter(keys, 2), want: 2, acceptor: 2, refused: true},
		{name: "a replica with other settings", dialler: &greeter{keys: keys, self: 1, settings: other.describe()}, want: 2, acceptor: 2, settings: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, a, dErr, aErr := handshake(t, tc.dialler, replicaGreeter(keys, tc.acceptor), tc.want)
			if tc.settings {
				assert.EqualError(t, dErr, "P2 runs with checkpoint interval 100, this replica with 10: start every process with the same --checkpoint-interval (the two do not connect until then)")
				assert.EqualError(t, aErr, "P1 runs with checkpoint interval 10, this replica with 100: start every process with the same --checkpoint-interval (the two do not connect until then)")
				return
			}
			if tc.dialOK {
				require.NoError(t, dErr)
			} else {
				require.Error(t, dErr)
				assert.Equal(t, tc.refused, errors.Is(dErr, ErrRefused), "a refusal: %v", dErr)
			}
			if !tc.acceptOK {
				require.Error(t, aErr)
				assert.Equal(t, tc.acceptAuth, errors.Is(aErr, ErrAuth), "authentication failure: %v", aErr)
				return
			}
			require.NoError(t, aErr)
			assert.Equal(t, tc.dialler.self, a.peer)
			assert.Equal(t, tc.dialler.name, a.name)
			assert.Equal(t, tc.dialler.inc, a.inc)

			// Both directions carry authenticated frames.
			go func() { _ = d.sendMessage(1, acks{}, 1, []byte("request")) }()
			fb, err := a.receive()
			require.NoError(t, err)
			assert.Equal(t, []any{frameMessage, uint64(1), acks{}, uint64(1), "request"}, []any{fb.kind, fb.no, fb.acks, fb.oldest, string(fb.payload)})
			go func() { _ = a.sendMessage(1, acks{1, 7}, 1, []byte("reply")) }()
			fb, err = d.receive()
			require.NoError(t, err)
			assert.Equal(t, []any{frameMessage, uint64(1), acks{1, 7}, uint64(1), "reply"}, []any{fb.kind, fb.no, fb.acks, fb.oldest, string(fb.payload)})
			d.dgArrived.Store(3)
			go func() { _ = d.sendAck(1) }()
			fb, err = a.receive()
			require.NoError(t, err)
			assert.Equal(t, []any{frameAck, acks{1, 3}}, []any{fb.kind, fb.acks})
		})
	}
}

// The dialler says, under the greeting's tag, whether it has heard from a
// run of the acceptor other than the one that welcomed it; a client never
// does.
func TestHandshakeSaysWhetherAnEarlierRunWasHeard(t *testing.T) {
	keys := keyring(t, "cluster")
	for _, tc := range []struct {
		name  string
		heard func(acceptor *greeter) func(lab.ID, incarnation) bool
		self  lab.ID
		want  bool
	}{
		{name: "heard from another run", self: 1, want: true, heard: func(*greeter) func(lab.ID, incarnation) bool {
			return func(peer lab.ID, inc incarnation) bool { return peer == 2 }
		}},
		{name: "heard from this run only", self: 1, heard: func(acc *greeter) func(lab.ID, incarnation) bool {
			return func(peer lab.ID, inc incarnation) bool { return peer == 2 && inc != acc.inc }
		}},
		{name: "heard from another replica", self: 1, heard: func(*greeter) func(lab.ID, incarnation) bool {
			return func(peer lab.ID, inc incarnation) bool { return peer == 3 }
		}},
		{name: "a client", self: lab.Client},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acceptor := replicaGreeter(keys, 2)
			dialler := replicaGreeter(keys, tc.self)
			if tc.self == lab.Client {
				dialler = &greeter{keys: keys, self: lab.Client, name: "alice"}
			}
			if tc.heard != nil {
				dialler.heardFrom = tc.heard(acceptor)
			}
			_, a, dErr, aErr := handshake(t, dialler, acceptor, 2)
			require.NoError(t, dErr)
			require.NoError(t, aErr)
			assert.Equal(t, tc.want, a.earlier)
		})
	}
}

func TestHelloRoundTrip(t *testing.T) {
	h := hello{id: 3, inc: newIncarnation(), yourInc: newIncarnation(), earlier: true, settings: labSettings.describe(), dgPort: 40001}
	_, _ = rand.Read(h.nonce[:])
	got, err := parseHello(h.body())
	require.NoError(t, err)
	assert.Equal(t, h, got)

	c := hello{id: lab.Client, name: "alice"}
	got, err = parseHello(c.body())
	require.NoError(t, err)
	assert.Equal(t, "alice", got.name)
	assert.Empty(t, got.settings)

	body := h.body()
	for _, bad := range [][]byte{body[:len(body)-1], append(body, 0), body[:5]} {
		_, err := parseHello(bad)
		assert.Error(t, err, "%d bytes", len(bad))
	}
}

func TestHandshakeRefusesAStranger(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	go func() {
		_ = writeFrame(b, []byte("HTTP/1.1 200 OK"))
		_ = b.Close()
	}()
	_, err := replicaGreeter(keyring(t, "k"), 1).greet(a, 2)
	assert.ErrorContains(t, err, "does not speak this lab's protocol")
}

// TestReadFrames reads frames written in various pieces over a real TCP
// connection, where the link reads the socket itself (readRaw), and over
// an in-memory one, where it reads through the net package.
func TestReadFrames(t *testing.T) {
	frame := func(body string) []byte {
		var b bytes.Buffer
		require.NoError(t, writeFrame(&b, []byte(body)))
		return b.Bytes()
	}
	big := strings.Repeat("x", 3*readBuffer)
	for _, tc := range []struct {
		name   string
		writes [][]byte // written one after another, then the stream ends
		want   []string
		err    error
	}{
		{"one frame", [][]byte{frame("a")}, []string{"a"}, io.EOF},
		{"two frames in one write", [][]byte{append(frame("a"), frame("b")...)}, []string{"a", "b"}, io.EOF},
		{"a frame in pieces", [][]byte{frame("abc")[:2], frame("abc")[2:5], frame("abc")[5:]}, []string{"abc"}, io.EOF},
		{"a frame larger than the buffer, then a small one", [][]byte{frame(big), frame("a")}, []string{big, "a"}, io.EOF},
		{"a stream that ends inside a frame", [][]byte{frame("abc")[:5]}, nil, io.ErrUnexpectedEOF},
	} {
		for _, transport := range []string{"tcp", "pipe"} {
			t.Run(tc.name+" over "+transport, func(t *testing.T) {
				r, w := connPair(t, transport)
				l := newLink(r, bufio.NewReaderSize(r, readBuffer), 0, 1, "", incarnation{}, sealer{}, opener{})
				require.Equal(t, transport == "tcp", l.raw != nil)
				go func() {
					for _, b := range tc.writes {
						if _, err := w.Write(b); err != nil {
							return
						}
					}
					_ = w.Close()
				}()
				var got []string
				err := l.readFrames(func(frame []byte, _ bool) error {
					got = append(got, string(frame))
					return nil
				})
				assert.ErrorIs(t, err, tc.err)
				assert.Equal(t, tc.want, got)
			})
		}
	}
}

// TestReadFramesSaysWhatFollows: a frame read together with the next one
// says so, which is what puts an endpoint under load (see holding).
func TestReadFramesSaysWhatFollows(t *testing.T) {
	r, w := connPair(t, "tcp")
	l := newLink(r, bufio.NewReaderSize(r, readBuffer), 0, 1, "", incarnation{}, sealer{}, opener{})
	var two bytes.Buffer
	require.NoError(t, writeFrame(&two, []byte("a")))
	require.NoError(t, writeFrame(&two, []byte("b")))
	_, err := w.Write(two.Bytes())
	require.NoError(t, err)
	require.NoError(t, w.Close())
	var more []bool
	_ = l.readFrames(func(_ []byte, m bool) error {
		more = append(more, m)
		return nil
	})
	assert.Equal(t, []bool{true, false}, more)
}

// connPair returns the two ends of a connection: over loopback TCP, or in
// memory.
func connPair(t *testing.T, transport string) (net.Conn, net.Conn) {
	t.Helper()
	if transport == "pipe" {
		a, b := net.Pipe()
		t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
		return a, b
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	w, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	r, err := ln.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close(); _ = w.Close() })
	return r, w
}

// TestInlineWriteNeverWaits: a sender's write takes what the socket takes
// and leaves the rest to the writer goroutine, and nothing else is written
// before that rest.
func TestInlineWriteNeverWaits(t *testing.T) {
	r, w := connPair(t, "tcp")
	require.NoError(t, r.(*net.TCPConn).SetReadBuffer(64<<10))
	require.NoError(t, w.(*net.TCPConn).SetWriteBuffer(64<<10))
	l := newLink(w, bufio.NewReader(w), 0, 1, "", incarnation{}, sealer{key: []byte("k")}, opener{})
	q := newQueue(0)
	l.q, l.gen = q, q.again()
	l.wmu.Lock()
	defer l.wmu.Unlock()

	q.push(make([]byte, 4<<20)) // more than the socket takes while the peer reads nothing
	wrote, more, _, err := l.writeQueued(true)
	require.NoError(t, err)
	assert.True(t, wrote && more, "written in part")
	require.NotEmpty(t, l.rest)
	q.push([]byte("next"))
	wrote, more, _, err = l.writeQueued(true)
	require.NoError(t, err)
	assert.True(t, !wrote && more, "nothing goes before the rest")

	// The peer reads; the writer goroutine writes the rest, then the next.
	received := make(chan int64)
	go func() {
		n, _ := io.Copy(io.Discard, r)
		received <- n
	}()
	for {
		wrote, _, _, err := l.writeQueued(false)
		require.NoError(t, err)
		if !wrote {
			break
		}
	}
	require.NoError(t, w.Close())
	frame := func(payload int) int64 { return int64(4 + counterSize + messageHead + payload + tagSize) }
	assert.Equal(t, frame(4<<20)+frame(len("next")), <-received)
}
