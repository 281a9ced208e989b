package driver

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHeadTailKeepsBothEndsAndCountsTheCut(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"short output is whole", []string{"abc", "def"}, "abcdef"},
		{"exactly the limit", []string{"0123456789"}, "0123456789"},
		{"one long write", []string{"0123456789ABCDEFGHIJ"}, "01234\n[... 10 bytes of output left out here ...]\nFGHIJ"},
		{"many small writes", strings.Split("abcdefghijklmnopqrstuvwxyz", ""), "abcde\n[... 16 bytes of output left out here ...]\nvwxyz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHeadTail(10)
			for _, w := range tt.writes {
				n, err := h.Write([]byte(w))
				require.NoError(t, err)
				assert.Equal(t, len(w), n, "a write is always taken whole")
			}
			assert.Equal(t, tt.want, h.String())
		})
	}
}

func TestCappedWriterDropsPastItsLimitAndSaysSo(t *testing.T) {
	var out bytes.Buffer
	c := capWriter(&out, 8)
	for _, w := range []string{"12345", "6789", "abc"} {
		n, err := c.Write([]byte(w))
		require.NoError(t, err)
		assert.Equal(t, len(w), n)
	}
	assert.Equal(t, "12345678", out.String())
	require.NoError(t, c.Close())
	assert.Equal(t, "12345678\n[pbftlab: 4 more bytes of output were left out: this log keeps at most 8]\n", out.String())

	var quiet bytes.Buffer
	c = capWriter(&quiet, 8)
	_, _ = c.Write([]byte("short"))
	require.NoError(t, c.Close())
	assert.Equal(t, "short", quiet.String(), "nothing cut, no note")
}
