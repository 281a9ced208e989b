package lab

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseOperation(t *testing.T) {
	tests := []struct {
		in      string
		want    Operation
		wantErr string
	}{
		{in: "account=alice,amount=100,operation=deposit", want: Operation{"alice", 100, "deposit"}},
		{in: " operation=withdraw , amount=20, account=bob ", want: Operation{"bob", 20, "withdraw"}},
		{in: "account=alice,amount=1OO,operation=deposit", wantErr: "not a whole number"},
		{in: "account=alice,operation=deposit", wantErr: "no amount"},
		{in: "amount=5,operation=deposit", wantErr: "no account"},
		{in: "account=alice,amount=5", wantErr: "no operation"},
		{in: "account=alice,amount=5,operation=deposit,x=1", wantErr: "unknown key"},
		{in: "account=alice,account=bob,amount=5,operation=deposit", wantErr: "given twice"},
		{in: "deposit 5", wantErr: "not key=value"},
	}
	for _, tt := range tests {
		got, err := ParseOperation(tt.in)
		if tt.wantErr != "" {
			assert.ErrorContains(t, err, tt.wantErr, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got)
	}
}

func TestBankValidate(t *testing.T) {
	b := NewBank(map[string]int{"alice": 80, "carol": math.MaxInt - 1}, nil)
	tests := []struct {
		op      string
		wantErr string
	}{
		{"account=carol,amount=1,operation=deposit", ""},
		{"account=carol,amount=2,operation=deposit", "too large: carol has 9223372036854775806"},
		{"account=alice,amount=9223372036854775807,operation=deposit", "too large"},
		{"account=alice,amount=80,operation=withdraw", ""},
		{"account=alice,amount=81,operation=withdraw", "insufficient funds"},
		{"account=bob,amount=1,operation=withdraw", "insufficient funds"},
		{"account=bob,amount=1,operation=deposit", ""},
		{"account=alice,amount=0,operation=deposit", "not positive"},
		{"account=alice,amount=-5,operation=deposit", "not positive"},
		{"account=alice,amount=5,operation=transfer", "unknown operation"},
	}
	for _, tt := range tests {
		err := b.Validate(tt.op)
		if tt.wantErr == "" {
			assert.NoError(t, err, tt.op)
		} else {
			assert.ErrorContains(t, err, tt.wantErr, tt.op)
		}
	}
}

func TestBankExecute(t *testing.T) {
	var seen []Execution
	b := NewBank(nil, func(e Execution) { seen = append(seen, e) })
	dep := &Request{Client: "c", Timestamp: 1, Op: "account=alice,amount=100,operation=deposit"}
	res, err := b.Execute(1, dep)
	require.NoError(t, err)
	assert.Equal(t, "alice=100", res)

	res, err = b.Execute(2, &Request{Client: "c", Timestamp: 2, Op: "account=alice,amount=500,operation=withdraw"})
	require.NoError(t, err)
	assert.Contains(t, res, "rejected: insufficient funds")

	res, err = b.Execute(3, nil)
	require.NoError(t, err)
	assert.Equal(t, "no-op", res)

	res, err = b.Execute(4, dep)
	require.NoError(t, err)
	assert.Contains(t, res, "duplicate")
	assert.Equal(t, 100, b.Balance("alice"), "a request runs at most once")

	_, err = b.Execute(6, nil)
	assert.ErrorIs(t, err, ErrOutOfOrder)
	_, err = b.Execute(4, nil)
	assert.ErrorIs(t, err, ErrOutOfOrder)
	assert.Equal(t, 4, b.LastExecuted())

	require.Len(t, seen, 6)
	assert.Equal(t, Digest(dep), seen[0].Digest)
	assert.Equal(t, NullDigest, seen[2].Digest)
	assert.ErrorIs(t, seen[4].Err, ErrOutOfOrder)
}

func TestBankAbort(t *testing.T) {
	tests := []struct {
		name      string
		req       *Request
		seq       int
		wantErr   bool
		remembers bool
	}{
		{"an aborted request is remembered", &Request{Client: "c", Timestamp: 1, Op: "account=alice,amount=50,operation=deposit"}, 1, false, true},
		{"an aborted null entry", nil, 1, false, false},
		{"out of order", &Request{Client: "c", Timestamp: 1, Op: "account=alice,amount=50,operation=deposit"}, 2, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen []Execution
			b := NewBank(map[string]int{"alice": 10}, func(e Execution) { seen = append(seen, e) })
			before := b.Digest()
			err := b.Abort(tt.seq, tt.req)
			if tt.wantErr {
				assert.ErrorIs(t, err, ErrOutOfOrder)
				assert.Equal(t, 0, b.LastExecuted())
				assert.Equal(t, before, b.Digest())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 10, b.Balance("alice"), "an aborted request applies nothing")
			assert.Equal(t, tt.seq, b.LastExecuted())
			require.Len(t, seen, 1)
			assert.Equal(t, NullDigest, seen[0].Digest, "the same decision at every honest replica")
			if tt.req != nil {
				assert.Equal(t, tt.remembers, b.Executed(tt.req.Client, tt.req.Timestamp))
				res, err := b.Execute(tt.seq+1, tt.req)
				require.NoError(t, err)
				assert.Contains(t, res, "duplicate", "never run after it aborted")
				assert.Equal(t, 10, b.Balance("alice"))
			}
		})
	}
}

func TestBankSnapshotRestore(t *testing.T) {
	a := NewBank(map[string]int{"alice": 80}, nil)
	_, err := a.Execute(1, &Request{Client: "c", Timestamp: 1, Op: "account=alice,amount=100,operation=deposit"})
	require.NoError(t, err)
	snap := a.Snapshot()

	b := NewBank(map[string]int{"alice": 80}, nil)
	assert.NotEqual(t, a.Digest(), b.Digest())
	require.NoError(t, b.Restore(snap))
	assert.Equal(t, a.Digest(), b.Digest())
	assert.Equal(t, 180, b.Balance("alice"))
	assert.Equal(t, 1, b.LastExecuted())
	assert.True(t, b.Executed("c", 1))

	// The snapshot is a copy: changing the source later does not reach it.
	_, err = a.Execute(2, &Request{Client: "c", Timestamp: 2, Op: "account=alice,amount=1,operation=deposit"})
	require.NoError(t, err)
	assert.Equal(t, 180, snap.Balances["alice"])

	forged := b.Snapshot()
	forged.Balances["alice"] = 1_000_000
	forged.Seq = 5
	assert.ErrorContains(t, b.Restore(forged), "does not match")

	old := NewBank(nil, nil).Snapshot()
	assert.ErrorContains(t, b.Restore(old), "older")
}

func TestDigestDistinguishesRequests(t *testing.T) {
	r := Request{Client: "c", Timestamp: 1, Op: "account=a,amount=1,operation=deposit"}
	other := r
	other.Timestamp = 2
	assert.NotEqual(t, Digest(&r), Digest(&other))
	assert.Equal(t, Digest(&r), Digest(&Request{Client: "c", Timestamp: 1, Op: r.Op}))
	assert.Equal(t, NullDigest, Digest(nil))
}

func TestCheckOperation(t *testing.T) {
	tests := []struct {
		op      string
		wantErr string
	}{
		{"account=alice,amount=1000,operation=withdraw", ""}, // overdrafts are the state's business
		{"account=bob,amount=1,operation=deposit", ""},
		{"account=alice,amount=0,operation=deposit", "not positive"},
		{"account=alice,amount=5,operation=transfer", "unknown operation"},
		{"deposit 5", "not key=value"},
	}
	for _, tt := range tests {
		err := CheckOperation(tt.op)
		if tt.wantErr == "" {
			assert.NoError(t, err, tt.op)
		} else {
			assert.ErrorContains(t, err, tt.wantErr, tt.op)
		}
	}
}

// A batch applies its requests in order at one sequence number, each as
// Execute would, and the observer sees the batch once, by its digest.
func TestBankExecuteBatch(t *testing.T) {
	var seen []Execution
	b := NewBank(map[string]int{"alice": 10}, func(e Execution) { seen = append(seen, e) })
	batch := []Request{
		{Client: "c", Timestamp: 1, Op: "account=alice,amount=15,operation=withdraw"},
		{Client: "d", Timestamp: 1, Op: "account=alice,amount=5,operation=deposit"},
		{Client: "c", Timestamp: 2, Op: "account=alice,amount=15,operation=withdraw"},
		{Client: "d", Timestamp: 1, Op: "account=alice,amount=5,operation=deposit"},
	}
	res, err := b.ExecuteBatch(1, batch)
	require.NoError(t, err)
	assert.Contains(t, res[0], "rejected: insufficient funds")
	assert.Equal(t, "alice=15", res[1])
	assert.Equal(t, "alice=0", res[2])
	assert.Contains(t, res[3], "duplicate")
	assert.Equal(t, 1, b.LastExecuted())

	_, err = b.ExecuteBatch(3, batch)
	assert.ErrorIs(t, err, ErrOutOfOrder)
	require.Len(t, seen, 2)
	assert.Equal(t, Execution{Seq: 1, Digest: BatchDigest(batch)}, seen[0])
	assert.ErrorIs(t, seen[1].Err, ErrOutOfOrder)
}
