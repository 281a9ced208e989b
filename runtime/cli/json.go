package cli

import (
	"io"
	"time"

	"pbftlab/lab"
	"pbftlab/runtime/jsonnode"
)

// runJSON is the json command: one replica speaking the JSON node protocol
// (newline-delimited envelopes on stdin and stdout). The protocol lives in
// its own package, pbftlab/runtime/jsonnode; this command only binds it to the
// tree's replica.
func runJSON(newReplica lab.NewFunc, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("json", "json\n\nRuns one replica as a node of the JSON protocol: envelopes {\"src\",\"dest\",\"body\"}\nin on standard input, out on standard output, its log on standard error.", stderr)
	tick := fs.Duration("tick", 100*time.Millisecond, "period of the replica's clock, which drives the view-change timer so that a dead primary is replaced; 0 stops it, and the same input then always gives the same output")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("json takes no arguments")
	}
	if err := nonNegative("tick", *tick, "0 stops the clock"); err != nil {
		return err
	}
	return jsonNode(newReplica, stdin, stdout, stderr, *tick)
}

// jsonNode runs the JSON node protocol. It is the one place the json
// command depends on package jsonnode.
func jsonNode(newReplica lab.NewFunc, in io.Reader, out, log io.Writer, tick time.Duration) error {
	return jsonnode.RunWith(newReplica, in, out, log, jsonnode.Options{Tick: tick})
}
