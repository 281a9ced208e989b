package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"pbftlab/internal/cmdline"
)

func TestDispatch(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"no command", nil, cmdline.ExitUsage, []string{"usage: pbftlab COMMAND", "grade "}, nil},
		{"help", []string{"help"}, cmdline.ExitOK, []string{"usage: pbftlab COMMAND", "grade "}, nil},
		{"-h", []string{"-h"}, cmdline.ExitOK, []string{"usage: pbftlab COMMAND"}, nil},
		{"a typo", []string{"grdae"}, cmdline.ExitUsage, nil, []string{`pbftlab: unknown command "grdae"`, "usage: pbftlab COMMAND"}},
		{"a command's bad flag", []string{"grade", "-no-such-flag"}, cmdline.ExitUsage, nil, []string{"-no-such-flag"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			assert.Equal(t, tc.code, dispatch(tc.args, &stdout, &stderr))
			for _, want := range tc.stdout {
				assert.Contains(t, stdout.String(), want)
			}
			for _, want := range tc.stderr {
				assert.Contains(t, stderr.String(), want)
			}
		})
	}
}

// Every command of the table is listed by help, under its own name.
func TestHelpListsEveryCommand(t *testing.T) {
	var stdout bytes.Buffer
	dispatch([]string{"help"}, &stdout, &stdout)
	for _, c := range commands() {
		assert.Contains(t, stdout.String(), "  "+c.name+" ", c.name)
	}
}
