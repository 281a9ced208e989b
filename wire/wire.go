// Package wire is the byte form of the lab's messages, as the simulator
// and the TCP and JSON runtimes carry them: a kind byte followed by the
// message's fields in a fixed order, integers as varints, strings and
// lists prefixed by their length. It is compact and fast enough that the
// simulator can encode every message it carries, which is how it
// guarantees that replicas share no memory. Replicas never see it.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"reflect"
	"slices"
	"sync/atomic"

	"pbftlab/lab"
)

// maxList bounds every length read from the wire, so a corrupt or hostile
// frame cannot make the decoder allocate without limit.
const maxList = 1 << 20

// Encode returns the wire form of m.
//
// Each case writes its kind itself rather than asking lab.KindOf: that is
// a call through the interface, which the compiler cannot see through, so
// every message handed to Encode would escape to the heap, and a caller
// that encodes a message of its own (a reply) would allocate it.
func Encode(m lab.Message) []byte {
	w := writer{buf: make([]byte, 0, 64)}
	switch m := m.(type) {
	case *lab.Request:
		w.byte(byte(lab.KindRequest))
		w.request(m)
	case *lab.PrePrepare:
		w.byte(byte(lab.KindPrePrepare))
		w.prePrepare(m)
	case *lab.Prepare:
		w.byte(byte(lab.KindPrepare))
		w.prepare(m)
	case *lab.Commit:
		w.byte(byte(lab.KindCommit))
		w.int(m.View)
		w.int(m.Seq)
		w.str(m.Digest)
		w.int(int(m.Replica))
		w.bool(m.Yes)
	case *lab.Reply:
		w.byte(byte(lab.KindReply))
		w.int(m.View)
		w.int(m.Seq)
		w.int64(m.Timestamp)
		w.str(m.Client)
		w.int(int(m.Replica))
		w.bool(m.Committed)
		w.str(m.Result)
	case *lab.Checkpoint:
		w.byte(byte(lab.KindCheckpoint))
		w.checkpoint(m)
	case *lab.ViewChange:
		w.byte(byte(lab.KindViewChange))
		w.viewChange(m)
	case *lab.NewView:
		w.byte(byte(lab.KindNewView))
		w.int(m.View)
		w.int(len(m.ViewChanges))
		for i := range m.ViewChanges {
			w.viewChange(&m.ViewChanges[i])
		}
		w.int(len(m.PrePrepares))
		for i := range m.PrePrepares {
			w.prePrepare(&m.PrePrepares[i])
		}
	case *lab.StateRequest:
		w.byte(byte(lab.KindStateRequest))
		w.int(int(m.Replica))
		w.int(m.Nonce)
	case *lab.StateReply:
		w.byte(byte(lab.KindStateReply))
		w.int(int(m.Replica))
		w.int(m.Nonce)
		w.int(m.View)
		w.snapshot(&m.Checkpoint)
		w.int(len(m.Committed))
		for i := range m.Committed {
			w.prePrepare(&m.Committed[i])
		}
	default:
		// Not %T of fmt, which would make m escape as well.
		panic("wire.Encode: unknown message type " + reflect.TypeOf(m).String())
	}
	return w.buf
}

// Decode reads a message written by Encode. The message shares no memory
// with b, which the caller may reuse at once.
func Decode(b []byte) (lab.Message, error) {
	r := reader{buf: b, orig: b}
	var m lab.Message
	switch lab.Kind(r.byte()) {
	case lab.KindRequest:
		m = r.request()
	case lab.KindPrePrepare:
		m = r.prePrepare()
	case lab.KindPrepare:
		m = r.prepare()
	case lab.KindCommit:
		m = &lab.Commit{View: r.int(), Seq: r.int(), Digest: r.digest(), Replica: lab.ID(r.int()), Yes: r.bool()}
	case lab.KindReply:
		m = &lab.Reply{View: r.int(), Seq: r.int(), Timestamp: r.int64(), Client: r.str(), Replica: lab.ID(r.int()), Committed: r.bool(), Result: r.str()}
	case lab.KindCheckpoint:
		m = r.checkpoint()
	case lab.KindViewChange:
		m = r.viewChange()
	case lab.KindNewView:
		nv := &lab.NewView{View: r.int()}
		for n := r.len(); n > 0 && r.err == nil; n-- {
			nv.ViewChanges = append(nv.ViewChanges, *r.viewChange())
		}
		for n := r.len(); n > 0 && r.err == nil; n-- {
			nv.PrePrepares = append(nv.PrePrepares, *r.prePrepare())
		}
		m = nv
	case lab.KindStateRequest:
		m = &lab.StateRequest{Replica: lab.ID(r.int()), Nonce: r.int()}
	case lab.KindStateReply:
		sr := &lab.StateReply{Replica: lab.ID(r.int()), Nonce: r.int(), View: r.int(), Checkpoint: r.snapshot()}
		for n := r.len(); n > 0 && r.err == nil; n-- {
			sr.Committed = append(sr.Committed, *r.prePrepare())
		}
		m = sr
	default:
		if r.err == nil {
			r.err = fmt.Errorf("unknown message kind %d", b[0])
		}
	}
	if r.err == nil && len(r.buf) != 0 {
		r.err = fmt.Errorf("%d bytes left over", len(r.buf))
	}
	if r.err != nil {
		return nil, fmt.Errorf("decode: %w", r.err)
	}
	return m, nil
}

type writer struct{ buf []byte }

func (w *writer) byte(b byte)   { w.buf = append(w.buf, b) }
func (w *writer) int(v int)     { w.buf = binary.AppendVarint(w.buf, int64(v)) }
func (w *writer) int64(v int64) { w.buf = binary.AppendVarint(w.buf, v) }
func (w *writer) str(s string)  { w.int(len(s)); w.buf = append(w.buf, s...) }
func (w *writer) bool(b bool) {
	if b {
		w.byte(1)
	} else {
		w.byte(0)
	}
}

func (w *writer) request(r *lab.Request) {
	w.str(r.Client)
	w.int64(r.Timestamp)
	w.str(r.Op)
}

// What a pre-prepare carries, in the byte after its digest: nothing (the
// null request), a request, or a request and the rest of its batch. A
// pre-prepare without a batch is written as it was before batches existed.
const (
	ppRequest byte = 1 << iota
	ppBatch
)

func (w *writer) prePrepare(p *lab.PrePrepare) {
	w.int(p.View)
	w.int(p.Seq)
	w.str(p.Digest)
	var form byte
	if p.Request != nil {
		form |= ppRequest
	}
	if len(p.Batch) > 0 {
		form |= ppBatch
	}
	w.byte(form)
	if p.Request != nil {
		w.request(p.Request)
	}
	if len(p.Batch) > 0 {
		w.int(len(p.Batch))
		for i := range p.Batch {
			w.request(&p.Batch[i])
		}
	}
}

func (w *writer) prepare(p *lab.Prepare) {
	w.int(p.View)
	w.int(p.Seq)
	w.str(p.Digest)
	w.int(int(p.Replica))
	w.bool(p.Yes)
}

func (w *writer) checkpoint(c *lab.Checkpoint) {
	w.int(c.Seq)
	w.str(c.Digest)
	w.int(int(c.Replica))
}

func (w *writer) viewChange(v *lab.ViewChange) {
	w.int(v.View)
	w.int(v.StableSeq)
	w.int(len(v.Checkpoints))
	for i := range v.Checkpoints {
		w.checkpoint(&v.Checkpoints[i])
	}
	w.int(len(v.Prepared))
	for i := range v.Prepared {
		w.prePrepare(&v.Prepared[i].PrePrepare)
		w.int(len(v.Prepared[i].Prepares))
		for j := range v.Prepared[i].Prepares {
			w.prepare(&v.Prepared[i].Prepares[j])
		}
	}
	w.int(int(v.Replica))
}

func (w *writer) snapshot(s *lab.Snapshot) {
	w.int(s.Seq)
	w.str(s.Digest)
	w.int(len(s.Balances))
	for _, k := range slices.Sorted(maps.Keys(s.Balances)) {
		w.str(k)
		w.int(s.Balances[k])
	}
	w.int(len(s.Clients))
	for _, k := range slices.Sorted(maps.Keys(s.Clients)) {
		w.str(k)
		w.int64(s.Clients[k])
	}
}

var errShort = errors.New("message truncated")

// reader decodes one message. Its strings are cut from a single copy of
// the whole message (s, made when the first string is read), so a message
// costs one allocation for all its strings rather than one each.
type reader struct {
	buf  []byte // what is left to read
	orig []byte // the whole message
	s    string // string(orig), once a string has been read
	err  error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.buf = nil
}

func (r *reader) byte() byte {
	if len(r.buf) < 1 {
		r.fail(errShort)
		return 0
	}
	b := r.buf[0]
	r.buf = r.buf[1:]
	return b
}

func (r *reader) int64() int64 {
	v, n := binary.Varint(r.buf)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *reader) int() int { return int(r.int64()) }

func (r *reader) len() int {
	n := r.int()
	if n < 0 || n > maxList || n > len(r.buf) {
		r.fail(fmt.Errorf("bad length %d", n))
		return 0
	}
	return n
}

func (r *reader) str() string { return r.strN(r.len()) }

// strN reads a string of n bytes; len has checked that they are there.
func (r *reader) strN(n int) string {
	if n == 0 {
		return ""
	}
	if r.s == "" {
		r.s = string(r.orig)
	}
	off := len(r.orig) - len(r.buf)
	r.buf = r.buf[n:]
	return r.s[off : off+n]
}

// digests remembers digests decoded lately. A digest travels in many
// messages (a pre-prepare, every prepare and commit for it), so decoding
// hands out the remembered string instead of allocating a copy each time.
// A slot is chosen by a hash of the bytes and holds one digest; a digest
// that finds its slot taken by another just replaces it.
var (
	digests    [1024]atomic.Pointer[string]
	digestSeed = maphash.MakeSeed()
)

// maxDigest bounds the strings worth remembering: a digest is 16 hex
// digits, "null", or a short test value.
const maxDigest = 64

func (r *reader) digest() string {
	n := r.len()
	if n == 0 || n > maxDigest {
		return r.strN(n)
	}
	b := r.buf[:n]
	r.buf = r.buf[n:]
	slot := &digests[maphash.Bytes(digestSeed, b)%uint64(len(digests))]
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}

func (r *reader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail(errors.New("bad boolean"))
	return false
}

func (r *reader) request() *lab.Request {
	req := new(lab.Request)
	r.requestInto(req)
	return req
}

func (r *reader) requestInto(req *lab.Request) {
	*req = lab.Request{Client: r.str(), Timestamp: r.int64(), Op: r.str()}
}

// prePrepareBox holds a decoded pre-prepare and its request in one
// allocation.
type prePrepareBox struct {
	pp  lab.PrePrepare
	req lab.Request
}

func (r *reader) prePrepare() *lab.PrePrepare {
	box := &prePrepareBox{pp: lab.PrePrepare{View: r.int(), Seq: r.int(), Digest: r.digest()}}
	p := &box.pp
	form := r.byte()
	if form&^(ppRequest|ppBatch) != 0 || form == ppBatch {
		// A batch always carries its first request in Request.
		r.fail(fmt.Errorf("bad pre-prepare form %d", form))
		return p
	}
	if form&ppRequest != 0 {
		r.requestInto(&box.req)
		p.Request = &box.req
	}
	if form&ppBatch != 0 {
		n := r.len()
		if n == 0 && r.err == nil {
			r.fail(errors.New("empty batch"))
		}
		if n > 0 {
			p.Batch = make([]lab.Request, n)
			for i := range p.Batch {
				r.requestInto(&p.Batch[i])
			}
		}
	}
	return p
}

func (r *reader) prepare() *lab.Prepare {
	return &lab.Prepare{View: r.int(), Seq: r.int(), Digest: r.digest(), Replica: lab.ID(r.int()), Yes: r.bool()}
}

func (r *reader) checkpoint() *lab.Checkpoint {
	return &lab.Checkpoint{Seq: r.int(), Digest: r.digest(), Replica: lab.ID(r.int())}
}

func (r *reader) viewChange() *lab.ViewChange {
	v := &lab.ViewChange{View: r.int(), StableSeq: r.int()}
	for n := r.len(); n > 0 && r.err == nil; n-- {
		v.Checkpoints = append(v.Checkpoints, *r.checkpoint())
	}
	for n := r.len(); n > 0 && r.err == nil; n-- {
		p := lab.Prepared{PrePrepare: *r.prePrepare()}
		for k := r.len(); k > 0 && r.err == nil; k-- {
			p.Prepares = append(p.Prepares, *r.prepare())
		}
		v.Prepared = append(v.Prepared, p)
	}
	v.Replica = lab.ID(r.int())
	return v
}

func (r *reader) snapshot() lab.Snapshot {
	s := lab.Snapshot{Seq: r.int(), Digest: r.str()}
	if n := r.len(); n > 0 {
		s.Balances = make(map[string]int, n)
		for ; n > 0 && r.err == nil; n-- {
			k := r.str()
			s.Balances[k] = r.int()
		}
	}
	if n := r.len(); n > 0 {
		s.Clients = make(map[string]int64, n)
		for ; n > 0 && r.err == nil; n-- {
			k := r.str()
			s.Clients[k] = r.int64()
		}
	}
	return s
}
