// Command pbft runs the reference replica at the keyboard, over TCP, with
// the original lab's consoles: "pbft primary", "pbft node P1 5001", "pbft
// client 7000", or all of them at once with "pbft cluster"; "pbft run
// CASEFILE" replays a case against a real cluster. "pbft" alone lists the
// commands.
package main

import (
	"pbftlab/runtime/cli"
	"pbftlab/solution"
)

func main() { cli.Main(solution.New) }
