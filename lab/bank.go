package lab

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Operation is a parsed bank operation.
type Operation struct {
	Account string
	Amount  int
	Kind    string // "deposit" or "withdraw"
}

func (o Operation) String() string {
	return fmt.Sprintf("account=%s,amount=%d,operation=%s", o.Account, o.Amount, o.Kind)
}

// ParseOperation reads "account=alice,amount=100,operation=deposit"; the
// keys may come in any order. It checks the form only; whether the bank can
// apply the operation is Bank.Validate's question.
func ParseOperation(s string) (Operation, error) {
	var op Operation
	var haveAccount, haveAmount, haveKind bool
	for rest, more := strings.TrimSpace(s), true; more; {
		var field string
		field, rest, more = strings.Cut(rest, ",")
		key, value, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok {
			return op, fmt.Errorf("operation %q: %q is not key=value", s, field)
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		var seen *bool
		switch key {
		case "account":
			seen, op.Account = &haveAccount, value
		case "amount":
			n, err := strconv.Atoi(value)
			if err != nil {
				return op, fmt.Errorf("operation %q: amount %q is not a whole number", s, value)
			}
			seen, op.Amount = &haveAmount, n
		case "operation":
			seen, op.Kind = &haveKind, value
		default:
			return op, fmt.Errorf("operation %q: unknown key %q (want account, amount, operation)", s, key)
		}
		if *seen {
			return op, fmt.Errorf("operation %q: %s given twice", s, key)
		}
		*seen = true
	}
	switch {
	case op.Account == "":
		return op, fmt.Errorf("operation %q: no account", s)
	case !haveAmount:
		return op, fmt.Errorf("operation %q: no amount", s)
	case op.Kind == "":
		return op, fmt.Errorf("operation %q: no operation", s)
	}
	return op, nil
}

// ErrOutOfOrder is returned by Bank.Execute when a sequence number is not
// the one after the last executed. It is a constant: an exported variable
// of this package could be written by one replica and read by another,
// and replicas share nothing.
const ErrOutOfOrder = constError("executed out of sequence order")

// constError is an error that can be a constant.
type constError string

func (e constError) Error() string { return string(e) }

// Bank is the replicated state machine: account balances, plus the last
// request timestamp executed for each client, which is what lets a replica
// execute a request at most once. It belongs to the kit; a replica creates
// one with NewBank and drives it only through Execute and Restore.
//
// Its state sits behind a pointer: a replica that overwrites the Bank it
// was given (*cfg.Bank = *other) replaces only that pointer, and the
// runtime, which watches execution through the state's observer, sees the
// change (Same) instead of losing sight of what the replica executes.
type Bank struct{ s *bankState }

type bankState struct {
	balances map[string]int
	clients  map[string]int64
	last     int
	observe  func(Execution)
}

// Execution is what a bank reports to its observer each time a replica
// executes a sequence number or restores a snapshot. The simulator's safety
// checks are built on it.
type Execution struct {
	Seq      int
	Digest   string // of the request executed, or of the snapshot restored
	Restored bool   // a snapshot was restored rather than a request executed
	Err      error  // why the bank refused, as for an out-of-order execution
}

// NewBank returns a bank holding the given starting balances, at sequence
// number 0. The runtime passes observe to watch execution; it may be nil.
func NewBank(balances map[string]int, observe func(Execution)) *Bank {
	b := &Bank{&bankState{balances: map[string]int{}, clients: map[string]int64{}, observe: observe}}
	for k, v := range balances {
		b.s.balances[k] = v
	}
	return b
}

// Same reports whether b holds the very state that other held when the
// runtime handed it over: false once either has been overwritten with
// another bank's.
func (b *Bank) Same(other *Bank) bool { return b.s == other.s }

// Validate says whether op would be applied to the bank as it is now: a
// known operation, a positive amount, and no overdraft.
func (b *Bank) Validate(op string) error {
	_, err := b.check(op)
	return err
}

// CheckOperation says whether op is well formed: it parses, names a known
// operation and a positive amount. Unlike Validate it does not depend on
// the state, so every honest replica gives the same answer at any moment.
func CheckOperation(op string) error {
	_, err := checkForm(op)
	return err
}

func checkForm(op string) (Operation, error) {
	o, err := ParseOperation(op)
	if err != nil {
		return o, err
	}
	if o.Kind != "deposit" && o.Kind != "withdraw" {
		return o, fmt.Errorf("unknown operation %q (want deposit or withdraw)", o.Kind)
	}
	if o.Amount <= 0 {
		return o, fmt.Errorf("amount %d is not positive", o.Amount)
	}
	return o, nil
}

// check is Validate, returning the parsed operation too.
func (b *Bank) check(op string) (Operation, error) {
	o, err := checkForm(op)
	if err != nil {
		return o, err
	}
	if o.Kind == "withdraw" && b.s.balances[o.Account] < o.Amount {
		return o, fmt.Errorf("insufficient funds: %s has %d, withdraw %d", o.Account, b.s.balances[o.Account], o.Amount)
	}
	if o.Kind == "deposit" && b.s.balances[o.Account] > math.MaxInt-o.Amount {
		return o, fmt.Errorf("too large: %s has %d, and a deposit of %d would take it past %d, the most an account holds", o.Account, b.s.balances[o.Account], o.Amount, math.MaxInt)
	}
	return o, nil
}

// Execute applies the request decided at seq and returns its result. A nil
// request (a null request) applies nothing but still uses up seq; an
// aborted request goes to Abort instead. Sequence numbers must come in order, each once; otherwise
// Execute changes nothing and returns ErrOutOfOrder. An invalid operation or
// a request the client already had executed leaves the balances as they are
// and says why in the result.
func (b *Bank) Execute(seq int, r *Request) (string, error) {
	if seq != b.s.last+1 {
		err := fmt.Errorf("seq %d after seq %d: %w", seq, b.s.last, ErrOutOfOrder)
		if b.s.observe != nil {
			b.s.observe(Execution{Seq: seq, Digest: Digest(r), Err: err})
		}
		return "", err
	}
	b.s.last = seq
	result := b.apply(r)
	if b.s.observe != nil {
		b.s.observe(Execution{Seq: seq, Digest: Digest(r)})
	}
	return result, nil
}

// Abort uses up seq for request r, which was decided aborted there: the
// balances stay as they are, but the bank remembers that r was decided, as
// it does for an executed request, so that r is never ordered again when
// it arrives a second time (Executed reports it). Sequence numbers must come
// in order, as for Execute.
func (b *Bank) Abort(seq int, r *Request) error {
	if seq != b.s.last+1 {
		err := fmt.Errorf("seq %d after seq %d: %w", seq, b.s.last, ErrOutOfOrder)
		if b.s.observe != nil {
			b.s.observe(Execution{Seq: seq, Digest: NullDigest, Err: err})
		}
		return err
	}
	b.s.last = seq
	if r != nil {
		if ts, ok := b.s.clients[r.Client]; !ok || r.Timestamp > ts {
			b.s.clients[r.Client] = r.Timestamp
		}
	}
	if b.s.observe != nil {
		b.s.observe(Execution{Seq: seq, Digest: NullDigest})
	}
	return nil
}

// ExecuteBatch applies the requests of a batch decided at seq, in order, as
// Execute applies one, and returns their results in the same order. The
// observer sees one execution at seq, with the batch's digest.
func (b *Bank) ExecuteBatch(seq int, batch []Request) ([]string, error) {
	if seq != b.s.last+1 {
		err := fmt.Errorf("seq %d after seq %d: %w", seq, b.s.last, ErrOutOfOrder)
		if b.s.observe != nil {
			b.s.observe(Execution{Seq: seq, Digest: BatchDigest(batch), Err: err})
		}
		return nil, err
	}
	b.s.last = seq
	results := make([]string, len(batch))
	for i := range batch {
		results[i] = b.apply(&batch[i])
	}
	if b.s.observe != nil {
		b.s.observe(Execution{Seq: seq, Digest: BatchDigest(batch)})
	}
	return results, nil
}

func (b *Bank) apply(r *Request) string {
	if r == nil {
		return "no-op"
	}
	if ts, ok := b.s.clients[r.Client]; ok && r.Timestamp <= ts {
		return "duplicate: already executed"
	}
	b.s.clients[r.Client] = r.Timestamp
	o, err := b.check(r.Op)
	if err != nil {
		return "rejected: " + err.Error()
	}
	if o.Kind == "deposit" {
		b.s.balances[o.Account] += o.Amount
	} else {
		b.s.balances[o.Account] -= o.Amount
	}
	var buf [64]byte
	res := append(append(buf[:0], o.Account...), '=')
	return string(strconv.AppendInt(res, int64(b.s.balances[o.Account]), 10))
}

// Executed reports whether the request (client, timestamp) or a later one
// from the same client has already been executed.
func (b *Bank) Executed(client string, timestamp int64) bool {
	ts, ok := b.s.clients[client]
	return ok && timestamp <= ts
}

// LastExecuted is the sequence number of the last request executed.
func (b *Bank) LastExecuted() int { return b.s.last }

// Balance returns the balance of account.
func (b *Bank) Balance(account string) int { return b.s.balances[account] }

// Balances returns a copy of every balance.
func (b *Bank) Balances() map[string]int { return maps.Clone(b.s.balances) }

// Digest is a short hash of the state: balances and client table, in a
// fixed order so that equal states have equal digests on every replica.
func (b *Bank) Digest() string {
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(b.s.balances)) {
		fmt.Fprintf(h, "b\x00%s\x00%d\x00", k, b.s.balances[k])
	}
	for _, k := range slices.Sorted(maps.Keys(b.s.clients)) {
		fmt.Fprintf(h, "c\x00%s\x00%d\x00", k, b.s.clients[k])
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Snapshot is the state at a sequence number, as checkpoints and state
// transfer carry it.
type Snapshot struct {
	Seq      int
	Digest   string
	Balances map[string]int
	Clients  map[string]int64
}

// Snapshot returns a copy of the state as it is after LastExecuted.
func (b *Bank) Snapshot() Snapshot {
	return Snapshot{Seq: b.s.last, Digest: b.Digest(), Balances: maps.Clone(b.s.balances), Clients: maps.Clone(b.s.clients)}
}

// Restore replaces the state with s, as a recovering replica does once f+1
// replicas vouch for it. It refuses a snapshot whose digest does not match
// its contents, and one older than the state it has.
func (b *Bank) Restore(s Snapshot) error {
	if s.Seq < b.s.last {
		return fmt.Errorf("snapshot at seq %d is older than the state at seq %d", s.Seq, b.s.last)
	}
	nb := &Bank{&bankState{balances: maps.Clone(s.Balances), clients: maps.Clone(s.Clients)}}
	if nb.s.balances == nil {
		nb.s.balances = map[string]int{}
	}
	if nb.s.clients == nil {
		nb.s.clients = map[string]int64{}
	}
	if d := nb.Digest(); d != s.Digest {
		return fmt.Errorf("snapshot at seq %d: digest %s does not match its contents (%s)", s.Seq, s.Digest, d)
	}
	b.s.balances, b.s.clients, b.s.last = nb.s.balances, nb.s.clients, s.Seq
	if b.s.observe != nil {
		b.s.observe(Execution{Seq: s.Seq, Digest: s.Digest, Restored: true})
	}
	return nil
}
