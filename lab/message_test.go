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
