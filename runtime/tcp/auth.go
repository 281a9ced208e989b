package tcp

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"os"
	"sync"

	"pbftlab/lab"
)

// DefaultKey is the cluster key used when no key file is given. It is printed
// here for all to read, so it keeps apart processes of different clusters
// and shows the mechanism at work, but it protects nothing: give every
// process the same --key file when the network is not your own machine.
const DefaultKey = "pbftlab lab default cluster key (published, loopback use only)"

// ErrAuth is the error for a frame or a greeting whose tag does not verify,
// or that was seen before. Such a frame is dropped, never delivered.
var ErrAuth = errors.New("authentication failed")

const (
	nonceSize = 16
	tagSize   = sha256.Size
	// counterSize is the frame counter in front of every message.
	counterSize = 8
)

type nonce [nonceSize]byte

// Keyring derives the key of every pair of endpoints from the cluster key.
// The client counts as one endpoint, lab.Client, whatever its name.
type Keyring struct {
	cluster []byte
	mu      sync.Mutex
	pairs   map[[2]lab.ID][]byte
}

// NewKeyring builds a keyring from a cluster secret.
func NewKeyring(secret []byte) (*Keyring, error) {
	if len(bytes.TrimSpace(secret)) == 0 {
		return nil, errors.New("the cluster key is empty")
	}
	sum := sha256.Sum256(append([]byte("pbftlab cluster key\x00"), bytes.TrimSpace(secret)...))
	return &Keyring{cluster: sum[:], pairs: map[[2]lab.ID][]byte{}}, nil
}

// DefaultKeyring is the keyring of DefaultKey.
func DefaultKeyring() *Keyring {
	k, _ := NewKeyring([]byte(DefaultKey))
	return k
}

// LoadKeyring reads a cluster key file: any text or bytes, of which leading
// and trailing white space is ignored, so "openssl rand -hex 32 > key" is a
// good way to make one.
func LoadKeyring(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cluster key: %w", err)
	}
	k, err := NewKeyring(b)
	if err != nil {
		return nil, fmt.Errorf("cluster key file %s: %w", path, err)
	}
	return k, nil
}

// pair returns the key shared by a and b, the same whichever asks.
func (k *Keyring) pair(a, b lab.ID) []byte {
	if b < a {
		a, b = b, a
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if key, ok := k.pairs[[2]lab.ID{a, b}]; ok {
		return key
	}
	m := hmac.New(sha256.New, k.cluster)
	fmt.Fprintf(m, "pair\x00%s\x00%s", a, b)
	key := m.Sum(nil)
	k.pairs[[2]lab.ID{a, b}] = key
	return key
}

// tag computes the HMAC of body as sent by from to to, bound to the
// receiver's nonce and to what the bytes are (label).
func tag(key []byte, label string, from, to lab.ID, n nonce, body []byte) []byte {
	return newMAC(key, label, from, to, n).sum(nil, body)
}

// mac is a keyed HMAC with the context every tag of one direction of a
// connection starts with, kept so that each frame costs no key setup.
type mac struct {
	h      hash.Hash
	prefix []byte
}

func newMAC(key []byte, label string, from, to lab.ID, n nonce) *mac {
	p := append([]byte(label), 0, 0, 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(p[len(label):], uint32(int32(from)))
	binary.BigEndian.PutUint32(p[len(label)+4:], uint32(int32(to)))
	return &mac{h: hmac.New(sha256.New, key), prefix: append(p, n[:]...)}
}

// sum appends the tag of body to dst.
func (m *mac) sum(dst, body []byte) []byte {
	m.h.Reset()
	m.h.Write(m.prefix)
	m.h.Write(body)
	return m.h.Sum(dst)
}

// Frames on a connection and datagrams are tagged under different labels,
// so that neither passes for the other.
const (
	frameLabel    = "pbftlab frame\x00"
	datagramLabel = "pbftlab datagram\x00"
)

// sealer authenticates what one side of a connection sends. One goroutine
// uses it at a time.
type sealer struct {
	key      []byte
	from, to lab.ID
	nonce    nonce // the receiver's
	counter  uint64
	mac      *mac
	label    string // frameLabel when empty
}

// frame returns a whole frame, length prefix included, for head and
// payload: the counter, head, payload, and the tag over all three.
func (s *sealer) frame(head, payload []byte) []byte {
	return s.appendFrame(make([]byte, 0, 4+counterSize+len(head)+len(payload)+tagSize), head, payload)
}

// appendFrame appends the frame for head and payload to dst, so that a
// writer can put several frames in one buffer and one write.
func (s *sealer) appendFrame(dst, head, payload []byte) []byte {
	if s.mac == nil {
		s.mac = newMAC(s.key, cmp.Or(s.label, frameLabel), s.from, s.to, s.nonce)
	}
	s.counter++
	start := len(dst)
	n := counterSize + len(head) + len(payload)
	dst = binary.BigEndian.AppendUint32(dst, uint32(n+tagSize))
	dst = binary.BigEndian.AppendUint64(dst, s.counter)
	dst = append(dst, head...)
	dst = append(dst, payload...)
	return s.mac.sum(dst, dst[start+4:])
}

// seal returns the frame body for payload: counter, payload, tag.
func (s *sealer) seal(payload []byte) []byte { return s.frame(nil, payload)[4:] }

// opener checks what one side of a connection receives. One goroutine
// uses it at a time.
type opener struct {
	key      []byte
	from, to lab.ID
	nonce    nonce // our own, sent when the connection opened
	last     uint64
	mac      *mac
	buf      []byte
	label    string // frameLabel when empty
}

// open verifies a frame body and returns its payload. A frame is accepted
// only with a valid tag and a counter above the last accepted one.
func (o *opener) open(frame []byte) ([]byte, error) {
	if len(frame) < counterSize+tagSize {
		return nil, fmt.Errorf("%w: a %d-byte frame is too short to carry a tag", ErrAuth, len(frame))
	}
	if o.mac == nil {
		o.mac = newMAC(o.key, cmp.Or(o.label, frameLabel), o.from, o.to, o.nonce)
	}
	body, got := frame[:len(frame)-tagSize], frame[len(frame)-tagSize:]
	o.buf = o.mac.sum(o.buf[:0], body)
	if !hmac.Equal(got, o.buf) {
		return nil, fmt.Errorf("%w: the tag does not match (another cluster key, or altered on the way)", ErrAuth)
	}
	c := binary.BigEndian.Uint64(body)
	if c <= o.last {
		return nil, fmt.Errorf("%w: frame %d after frame %d (a replay)", ErrAuth, c, o.last)
	}
	o.last = c
	return body[counterSize:], nil
}
