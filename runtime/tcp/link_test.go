package tcp

import (
	"errors"
	"net"
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
