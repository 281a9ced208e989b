package lab

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestJoinIDs(t *testing.T) {
	tests := []struct {
		ids  []ID
		sep  string
		want string
	}{
		{nil, ", ", ""},
		{[]ID{3}, ", ", "P3"},
		{[]ID{0, 1, 3}, " ", "P0 P1 P3"},
		{[]ID{2, Client}, ",", "P2,client"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, JoinIDs(tt.ids, tt.sep))
	}
}

// A batch's digest covers every request in order: reordering, dropping or
// changing one changes it, and it differs from the first request's own.
func TestContentDigest(t *testing.T) {
	a := Request{Client: "c", Timestamp: 1, Op: "account=a,amount=1,operation=deposit"}
	b := Request{Client: "c", Timestamp: 2, Op: "account=a,amount=2,operation=deposit"}
	single := PrePrepare{Request: &a}
	assert.Equal(t, Digest(&a), single.ContentDigest())
	assert.Equal(t, NullDigest, (&PrePrepare{}).ContentDigest())

	ab := PrePrepare{Request: &a, Batch: []Request{b}}
	assert.Equal(t, []Request{a, b}, ab.Requests())
	assert.Equal(t, BatchDigest([]Request{a, b}), ab.ContentDigest())
	seen := map[string]string{}
	for name, d := range map[string]string{
		"a":     Digest(&a),
		"a, b":  ab.ContentDigest(),
		"b, a":  BatchDigest([]Request{b, a}),
		"[a]":   BatchDigest([]Request{a}),
		"a, a":  BatchDigest([]Request{a, a}),
		"a, b'": BatchDigest([]Request{a, {Client: "c", Timestamp: 2, Op: "account=a,amount=3,operation=deposit"}}),
		"empty": BatchDigest(nil),
	} {
		if other, dup := seen[d]; dup {
			t.Errorf("%s and %s share digest %s", name, other, d)
		}
		seen[d] = name
	}
}

// The digests are part of what replicas agree on and what reports show:
// these two must not change.
func TestDigestsKeepTheirValue(t *testing.T) {
	a := Request{Client: "c1", Timestamp: 7, Op: "account=alice,amount=100,operation=deposit"}
	b := Request{Client: "c2", Timestamp: -3}
	assert.Equal(t, "57bcaf3851615732", Digest(&a))
	assert.Equal(t, "1d18a6a46d3316f2", BatchDigest([]Request{a, b}))
}
