// Command pbft-json runs your replica as a node of the JSON
// protocol (package pbftlab/lab/jsonnode): envelopes in on standard input,
// out on standard output, the replica's trace on standard error.
package main

import (
	"fmt"
	"os"

	"pbftlab/lab/jsonnode"
	"pbftlab/skeleton"
)

func main() {
	if err := jsonnode.Run(skeleton.New, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "pbft-json:", err)
		os.Exit(1)
	}
}
