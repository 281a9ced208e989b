package report

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPrintable(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain text, with\ttab\nand newline", "plain text, with\ttab\nand newline"},
		{"\x1b[2J\x1b[HScore: 100/100", `\x1b[2J\x1b[HScore: 100/100`},
		{"carriage\rreturn and bell\a", `carriage\x0dreturn and bell\x07`},
		{"del\x7f", `del\x7f`},
		{"C1 \u009b2J next line \u0085", `C1 \u009b2J next line \u0085`},
		{"héllo, wörld: ünïcode stays", "héllo, wörld: ünïcode stays"},
		{"bad \xff byte", `bad \xff byte`},
	} {
		assert.Equal(t, tt.want, Printable(tt.in), "%q", tt.in)
	}
}

func TestPrintableWriter(t *testing.T) {
	var b bytes.Buffer
	n, err := PrintableWriter(&b).Write([]byte("a\x1b[31mred"))
	assert.NoError(t, err)
	assert.Equal(t, 9, n, "the bytes given, not the bytes written")
	assert.Equal(t, `a\x1b[31mred`, b.String())
}
