package lab

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// ID names a replica: 0 is P0, the primary of view 0. The client is not a
// replica and has its own name, Client.
type ID int

// Client is the ID under which client requests arrive at a replica.
const Client ID = -1

func (id ID) String() string {
	if id == Client {
		return "client"
	}
	return "P" + strconv.Itoa(int(id))
}

// JoinIDs writes replica names separated by sep: "P0, P3" with sep ", ".
func JoinIDs(ids []ID, sep string) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(id.String())
	}
	return b.String()
}

// ParseID reads "P2" (or "p2") as 2 and "client" as Client.
func ParseID(s string) (ID, error) {
	if strings.EqualFold(s, "client") {
		return Client, nil
	}
	if len(s) < 2 || (s[0] != 'P' && s[0] != 'p') {
		return 0, fmt.Errorf("%q is not a replica name (P0, P1, ...)", s)
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a replica name (P0, P1, ...)", s)
	}
	return ID(n), nil
}

// Primary returns the primary of view v in a cluster of n: views rotate
// round-robin, P0, P1, ..., P(n-1), P0, ...
func Primary(view, n int) ID { return ID(view % n) }

// Message is anything one replica sends another. The concrete types are the
// ones below; the kit encodes each on the way, so replicas never share memory.
type Message interface{ kind() Kind }

// Kind tells the messages apart on the wire and in transcripts.
type Kind uint8

const (
	KindRequest Kind = iota + 1
	KindPrePrepare
	KindPrepare
	KindCommit
	KindReply
	KindCheckpoint
	KindViewChange
	KindNewView
	KindStateRequest
	KindStateReply
)

var kindNames = map[Kind]string{
	KindRequest:      "REQUEST",
	KindPrePrepare:   "PRE-PREPARE",
	KindPrepare:      "PREPARE",
	KindCommit:       "COMMIT",
	KindReply:        "REPLY",
	KindCheckpoint:   "CHECKPOINT",
	KindViewChange:   "VIEW-CHANGE",
	KindNewView:      "NEW-VIEW",
	KindStateRequest: "STATE-REQUEST",
	KindStateReply:   "STATE-REPLY",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "KIND(" + strconv.Itoa(int(k)) + ")"
}

// KindOf returns the kind of m.
func KindOf(m Message) Kind { return m.kind() }

// Request is a client's operation. Client and Timestamp identify it: a
// replica executes each (Client, Timestamp) at most once.
type Request struct {
	Client    string
	Timestamp int64
	Op        string // e.g. "account=alice,amount=100,operation=deposit"
}

// PrePrepare is the primary's proposal to run Request at sequence number Seq
// in View. A nil Request is the null request a new primary uses to fill a gap.
//
// Batch is empty in the lab's cases. A primary that batches (Config.BatchSize)
// orders several requests at one sequence number: the first in Request, the
// others in Batch, executed in that order. Digest then covers them all (see
// ContentDigest). A batch without its first request does not decode.
type PrePrepare struct {
	View    int
	Seq     int
	Digest  string
	Request *Request
	Batch   []Request
}

// ContentDigest returns the digest pp must carry for what it proposes:
// Digest(pp.Request) for one request or the null request, and the digest of
// every request in order for a batch.
func (pp *PrePrepare) ContentDigest() string {
	if len(pp.Batch) == 0 {
		return Digest(pp.Request)
	}
	return BatchDigest(pp.Requests())
}

// Requests returns the requests pp proposes, in execution order: Request,
// if any, then Batch. It returns a new slice.
func (pp *PrePrepare) Requests() []Request {
	out := make([]Request, 0, 1+len(pp.Batch))
	if pp.Request != nil {
		out = append(out, *pp.Request)
	}
	return append(out, pp.Batch...)
}

// Prepare is a backup's vote on the pre-prepare for (View, Seq, Digest). In
// the lab's variant of PBFT a vote is yes or no; the primary never sends one,
// because its pre-prepare already stands for its yes.
type Prepare struct {
	View    int
	Seq     int
	Digest  string
	Replica ID
	Yes     bool
}

// Commit is a replica's commit-phase acknowledgement: Yes for "ack
// commit", not Yes for "ack abort", as Prepare's Yes is its vote.
type Commit struct {
	View    int
	Seq     int
	Digest  string
	Replica ID
	Yes     bool
}

// Reply tells the client how its request ended at one replica.
type Reply struct {
	View      int
	Seq       int
	Timestamp int64
	Client    string
	Replica   ID
	Committed bool
	Result    string
}

// Checkpoint says that Replica's state after executing Seq has digest Digest.
type Checkpoint struct {
	Seq     int
	Digest  string
	Replica ID
}

// Prepared is the proof that a request prepared: its pre-prepare and the 2f
// matching yes prepares from distinct backups.
type Prepared struct {
	PrePrepare PrePrepare
	Prepares   []Prepare
}

// ViewChange asks to move to View. It carries the sender's last stable
// checkpoint with its proof and every request prepared above it.
type ViewChange struct {
	View        int
	StableSeq   int
	Checkpoints []Checkpoint
	Prepared    []Prepared
	Replica     ID
}

// NewView is the new primary's announcement: the 2f+1 view changes it acted
// on and the pre-prepares it re-issues for the new view.
type NewView struct {
	View        int
	ViewChanges []ViewChange
	PrePrepares []PrePrepare
}

// StateRequest is sent by a recovering replica to ask the others for state.
type StateRequest struct {
	Replica ID
	Nonce   int
}

// StateReply answers a StateRequest with the sender's view, its latest
// stable checkpoint and what it committed above it.
type StateReply struct {
	Replica    ID
	Nonce      int
	View       int
	Checkpoint Snapshot
	Committed  []PrePrepare
}

func (*Request) kind() Kind      { return KindRequest }
func (*PrePrepare) kind() Kind   { return KindPrePrepare }
func (*Prepare) kind() Kind      { return KindPrepare }
func (*Commit) kind() Kind       { return KindCommit }
func (*Reply) kind() Kind        { return KindReply }
func (*Checkpoint) kind() Kind   { return KindCheckpoint }
func (*ViewChange) kind() Kind   { return KindViewChange }
func (*NewView) kind() Kind      { return KindNewView }
func (*StateRequest) kind() Kind { return KindStateRequest }
func (*StateReply) kind() Kind   { return KindStateReply }

// NullDigest is the digest of the null request.
const NullDigest = "null"

// Digest returns the digest a pre-prepare, prepare and commit carry for r:
// a short hash of its client, timestamp and operation. A nil request is the
// null request.
func Digest(r *Request) string {
	if r == nil {
		return NullDigest
	}
	var buf [128]byte
	b := append(buf[:0], r.Client...)
	b = append(b, 0)
	b = strconv.AppendInt(b, r.Timestamp, 10)
	b = append(b, 0)
	b = append(b, r.Op...)
	return shortHash(b)
}

// shortHash is the first 8 bytes of the SHA-256 of b, in hex, built with
// one allocation (the string).
func shortHash(b []byte) string {
	sum := sha256.Sum256(b)
	var h [16]byte
	hex.Encode(h[:], sum[:8])
	return string(h[:])
}

// BatchDigest returns the digest of a batch: a short hash of every request's
// client, timestamp and operation, in order, each field prefixed by its
// length so that no two batches share an input.
func BatchDigest(batch []Request) string {
	b := make([]byte, 0, 16+64*len(batch))
	b = append(b, "batch\x00"...)
	b = binary.AppendVarint(b, int64(len(batch)))
	for i := range batch {
		b = appendString(b, batch[i].Client)
		b = binary.AppendVarint(b, batch[i].Timestamp)
		b = appendString(b, batch[i].Op)
	}
	return shortHash(b)
}

// appendString appends s prefixed by its length.
func appendString(b []byte, s string) []byte {
	b = binary.AppendVarint(b, int64(len(s)))
	return append(b, s...)
}
