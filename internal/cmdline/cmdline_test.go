package cmdline

import (
	"bytes"
	"flag"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlagsAmongArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		pos  []string
		on   bool
	}{
		{[]string{"P1", "5001"}, []string{"P1", "5001"}, false},
		{[]string{"P1", "5001", "-manual"}, []string{"P1", "5001"}, true},
		{[]string{"-manual", "P1", "5001"}, []string{"P1", "5001"}, true},
		{[]string{"P1", "--manual", "5001"}, []string{"P1", "5001"}, true},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		on := fs.Bool("manual", false, "")
		pos, err := Parse(fs, tc.args)
		require.NoError(t, err)
		assert.Equal(t, tc.pos, pos, "%v", tc.args)
		assert.Equal(t, tc.on, *on, "%v", tc.args)
	}
}

func TestParseNone(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		ok   bool
		says string
	}{
		{nil, ExitOK, true, ""},
		{[]string{"-v"}, ExitOK, true, ""},
		{[]string{"-h"}, ExitOK, false, "usage: pbftlab grade [-v]\n\nflags:\n"},
		{[]string{"-x"}, ExitUsage, false, "flag provided but not defined: -x"},
		{[]string{"-v", "extra"}, ExitUsage, false, `pbftlab grade: unexpected argument "extra"`},
	} {
		var out bytes.Buffer
		fs := NewFlags("pbftlab", "grade", "grade [-v]", &out)
		fs.Bool("v", false, "verbose")
		code, ok := ParseNone("pbftlab", fs, tc.args)
		assert.Equal(t, tc.code, code, "%v", tc.args)
		assert.Equal(t, tc.ok, ok, "%v", tc.args)
		assert.Contains(t, out.String(), tc.says, "%v", tc.args)
	}
}
