package cli

import (
	"io"

	"pbftlab/lab"
	"pbftlab/lab/jsonnode"
)

// runJSON is the json command: one replica speaking the JSON node protocol
// (newline-delimited envelopes on stdin and stdout). The protocol lives in
// its own package, pbftlab/lab/jsonnode; this command only binds it to the
// tree's replica.
func runJSON(newReplica lab.New, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("json", "json\n\nRuns one replica as a node of the JSON protocol: envelopes {\"src\",\"dest\",\"body\"}\nin on standard input, out on standard output, its log on standard error.", stderr)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("json takes no arguments")
	}
	return jsonNode(newReplica, stdin, stdout, stderr)
}

// jsonNode runs the JSON node protocol. It is the one place the json
// command depends on package jsonnode.
func jsonNode(newReplica lab.New, in io.Reader, out, log io.Writer) error {
	return jsonnode.Run(newReplica, in, out, log)
}
