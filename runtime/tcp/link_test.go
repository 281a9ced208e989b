package tcp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

// handshake runs both sides of a greeting over an in-memory connection.
func handshake(t *testing.T, dialKeys, acceptKeys *Keyring, self lab.ID, name string, want, acceptor lab.ID) (dialled, accepted *link, dialErr, acceptErr error) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	done := make(chan struct{})
	go func() {
		defer close(done)
		accepted, _, acceptErr = welcome(b, acceptKeys, acceptor, newIncarnation(), func(id lab.ID, name string) error {
			if id == lab.Client && name == "" {
				return errors.New("no name")
			}
			if id == acceptor {
				return errors.New("same ID")
			}
			return nil
		})
		if acceptErr != nil {
			_ = b.Close()
		}
	}()
	dialled, dialErr = greet(a, dialKeys, self, name, newIncarnation(), want)
	if dialErr != nil {
		_ = a.Close()
	}
	<-done
	return dialled, accepted, dialErr, acceptErr
}

func TestHandshake(t *testing.T) {
	keys := keyring(t, "cluster")
	for _, tc := range []struct {
		name       string
		dialKeys   *Keyring
		self       lab.ID
		client     string
		want       lab.ID // whom the dialler means to reach
		acceptor   lab.ID // who answers
		dialOK     bool
		refused    bool // the dialler learns that the acceptor refused it
		acceptOK   bool
		acceptAuth bool // the acceptor's refusal is an authentication failure
	}{
		{name: "replica to replica", dialKeys: keys, self: 1, want: 2, acceptor: 2, dialOK: true, acceptOK: true},
		{name: "client to replica", dialKeys: keys, self: lab.Client, client: "alice", want: 0, acceptor: 0, dialOK: true, acceptOK: true},
		{name: "another cluster key", dialKeys: keyring(t, "intruder"), self: 1, want: 2, acceptor: 2, refused: true, acceptAuth: true},
		{name: "the wrong process at the port", dialKeys: keys, self: 1, want: 3, acceptor: 2},
		{name: "a client with no name", dialKeys: keys, self: lab.Client, want: 0, acceptor: 0, refused: true},
		{name: "a replica claiming the acceptor's own ID", dialKeys: keys, self: 2, want: 2, acceptor: 2, refused: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, a, dErr, aErr := handshake(t, tc.dialKeys, keys, tc.self, tc.client, tc.want, tc.acceptor)
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
			assert.Equal(t, tc.self, a.peer)
			assert.Equal(t, tc.client, a.name)

			// Both directions carry authenticated frames.
			go func() { _ = d.sendMessage(1, 0, []byte("request")) }()
			kind, no, ack, got, err := a.receive()
			require.NoError(t, err)
			assert.Equal(t, []any{frameMessage, uint64(1), uint64(0), "request"}, []any{kind, no, ack, string(got)})
			go func() { _ = a.sendMessage(1, 1, []byte("reply")) }()
			kind, no, ack, got, err = d.receive()
			require.NoError(t, err)
			assert.Equal(t, []any{frameMessage, uint64(1), uint64(1), "reply"}, []any{kind, no, ack, string(got)})
			go func() { _ = d.sendAck(1) }()
			kind, _, ack, _, err = a.receive()
			require.NoError(t, err)
			assert.Equal(t, []any{frameAck, uint64(1)}, []any{kind, ack})
		})
	}
}

func TestHandshakeRefusesAStranger(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	go func() {
		_ = writeFrame(b, []byte("HTTP/1.1 200 OK"))
		_ = b.Close()
	}()
	_, err := greet(a, keyring(t, "k"), 1, "", newIncarnation(), 2)
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
	l.q, l.gen = q, q.rewind()
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
	frame := func(payload int) int64 { return int64(4 + counterSize + 17 + payload + tagSize) }
	assert.Equal(t, frame(4<<20)+frame(len("next")), <-received)
}
