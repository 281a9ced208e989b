package sim

import (
	"fmt"
	"io"
)

// envName is all that printing a replica's Env shows. The simulator's Env
// values hold the whole run (which replica is Byzantine, what it lies about,
// the other replicas themselves), and fmt's %+v or %#v would
// print those fields to a replica that asked; the Env is a way out for
// messages, nothing to read.
const envName = "lab.Env"

// Format prints a node, the Env a replica is given, as its neutral name,
// whatever the verb.
func (n *node) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, envName) }
