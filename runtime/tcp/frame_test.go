package tcp

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"empty", []byte{}},
		{"one byte", []byte{7}},
		{"a message", bytes.Repeat([]byte("pbft"), 100)},
		{"the largest allowed", make([]byte, MaxFrame)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, writeFrame(&buf, tc.body))
			assert.Equal(t, 4+len(tc.body), buf.Len())
			got, err := readFrame(&buf)
			require.NoError(t, err)
			assert.Equal(t, tc.body, got)
			_, err = readFrame(&buf)
			assert.ErrorIs(t, err, io.EOF, "a stream that ends between frames ends cleanly")
		})
	}
}

func TestFrameTwoInARow(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, writeFrame(&buf, []byte("first")))
	require.NoError(t, writeFrame(&buf, []byte("second")))
	a, err := readFrame(&buf)
	require.NoError(t, err)
	b, err := readFrame(&buf)
	require.NoError(t, err)
	assert.Equal(t, "first", string(a))
	assert.Equal(t, "second", string(b))
}

func TestFrameErrors(t *testing.T) {
	header := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	for _, tc := range []struct {
		name   string
		stream []byte
		want   error
	}{
		{"nothing", nil, io.EOF},
		{"half a length", []byte{0, 0}, io.ErrUnexpectedEOF},
		{"a body cut short", append(header(10), "abc"...), io.ErrUnexpectedEOF},
		{"a length with no body", header(1), io.ErrUnexpectedEOF},
		{"a length over the limit", header(MaxFrame + 1), ErrFrameTooLarge},
		{"a length of 4 GiB", header(0xffffffff), ErrFrameTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readFrame(bytes.NewReader(tc.stream))
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestWriteFrameRefusesOversizedBody(t *testing.T) {
	var buf bytes.Buffer
	err := writeFrame(&buf, make([]byte, MaxFrame+1))
	assert.ErrorIs(t, err, ErrFrameTooLarge)
	assert.Zero(t, buf.Len(), "nothing is written")
}
