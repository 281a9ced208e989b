package lab

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDescribePrePrepare(t *testing.T) {
	a := &Request{Client: "c", Timestamp: 1, Op: "account=a,amount=1,operation=deposit"}
	b := Request{Client: "c", Timestamp: 2, Op: "account=a,amount=2,operation=deposit"}
	tests := []struct {
		pp   PrePrepare
		want string
	}{
		{PrePrepare{View: 1, Seq: 4}, "PRE-PREPARE v1 n4 null"},
		{PrePrepare{View: 0, Seq: 2, Request: a}, "PRE-PREPARE v0 n2 account=a,amount=1,operation=deposit"},
		{PrePrepare{View: 0, Seq: 3, Request: a, Batch: []Request{b, b}}, "PRE-PREPARE v0 n3 batch of 3: account=a,amount=1,operation=deposit, ..."},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Describe(&tt.pp))
	}
}
