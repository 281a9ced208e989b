package jsonnode

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

func TestOperationMapping(t *testing.T) {
	// Operations in the bank's form go through unchanged, valid or not:
	// the bank judges them.
	for _, op := range []string{
		"account=alice,amount=100,operation=deposit",
		"operation=withdraw,account=bob,amount=5",
		"account=alice,amount=-1,operation=deposit",
	} {
		assert.Equal(t, op, toBank(op))
		assert.Equal(t, op, fromBank(op))
	}
	// Anything else becomes a deposit of 1 that every bank accepts, and
	// comes back as the client wrote it (but for surrounding space).
	for _, op := range []string{
		"set x=42", "get x", "", "  cas x 1,2  ", "100% sure, 50%2C off", "account=alice", "a\nb=c,,d",
	} {
		bankOp := toBank(op)
		parsed, err := lab.ParseOperation(bankOp)
		require.NoError(t, err, "%q became %q", op, bankOp)
		assert.Equal(t, lab.Operation{Account: parsed.Account, Amount: 1, Kind: "deposit"}, parsed)
		assert.NoError(t, lab.NewBank(nil, nil).Validate(bankOp), "%q became %q", op, bankOp)
		assert.Equal(t, lab.Operation{Account: parsed.Account, Amount: 1, Kind: "deposit"}.String(), bankOp)
		assert.Equal(t, strings.TrimSpace(op), fromBank(bankOp), "%q became %q", op, bankOp)
	}
	assert.Equal(t, "account=op:set x=42,amount=1,operation=deposit", toBank("set x=42"))
}

func TestSeqStatus(t *testing.T) {
	req := &lab.Request{Client: "c1", Timestamp: 1, Op: "account=a,amount=1,operation=deposit"}
	all := []lab.ID{0, 1, 2, 3}
	st := lab.Status{
		LastExecuted: 4,
		Log: []lab.Entry{
			// Sequence numbers 1 to 3 were garbage collected: 1 and 2 are
			// in the history, 3 was a null request.
			{View: 0, Seq: 4, Request: req, Phase: lab.PhaseCommitted, PrepareYes: all, CommitYes: all, Executed: true},
			// In view 1 the primary is P1: its pre-prepare is not a prepare.
			{View: 1, Seq: 5, Request: req, Phase: lab.PhasePrepared, PrepareYes: []lab.ID{1, 0, 3}, PrepareNo: []lab.ID{2}, CommitYes: []lab.ID{3}},
			{View: 1, Seq: 6, Request: req, Phase: lab.PhasePrePrepared, PrepareYes: []lab.ID{1}},
			{View: 1, Seq: 7, Phase: 0, CommitYes: []lab.ID{2}}, // votes came before the pre-prepare
			{View: 1, Seq: 8, Request: req, Phase: lab.PhaseAborted, PrepareYes: []lab.ID{1}, PrepareNo: []lab.ID{0, 2}},
		},
		History: []lab.Outcome{
			{Seq: 1, Request: *req, Committed: true},
			{Seq: 2, Request: *req, Committed: false},
			{Seq: 4, Request: *req, Committed: true},
		},
	}
	for seq, want := range map[int]statusOK{
		1: {Phase: "committed", PreparesReceived: 2, CommitsReceived: 3, Executed: true},
		2: {Phase: "aborted", Executed: true},
		3: {Phase: "committed", PreparesReceived: 2, CommitsReceived: 3, Executed: true},
		4: {Phase: "committed", PreparesReceived: 3, CommitsReceived: 4, Executed: true},
		5: {Phase: "prepared", PreparesReceived: 2, CommitsReceived: 1},
		6: {Phase: "pre-prepare"},
		7: {Phase: "none", CommitsReceived: 1},
		8: {Phase: "aborted"},
		9: {Phase: "none"},
		0: {Phase: "none"},
	} {
		assert.Equal(t, want, seqStatus(st, 4, seq), "seq %d", seq)
	}
}
