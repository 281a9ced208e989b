package sim

import (
	"fmt"
	"io"

	"pbftlab/lab"
)

// envName is all that printing a replica's Env shows. The simulator's
// nodes hold the whole run (which replica is Byzantine, what it lies
// about, the other replicas themselves), and a replica must learn none of
// it: the Env is a way out for messages, nothing to read.
const envName = "lab.Env"

// env is the Env a replica is given: a handle on its node and nothing
// else. Its Format method names it whatever the verb; a verb that skips
// Format (%w on a value that is not an error prints by reflection) shows
// the handle's one field, a pointer, as an address, never what it points
// to.
type env struct{ n *node }

func (e env) Send(to lab.ID, m lab.Message)        { e.n.Send(to, m) }
func (e env) Broadcast(m lab.Message)              { e.n.Broadcast(m) }
func (e env) Reply(r lab.Reply)                    { e.n.Reply(r) }
func (e env) Logf(format string, args ...any)      { e.n.Logf(format, args...) }
func (e env) Checkpointed(s lab.Snapshot, st bool) { e.n.Checkpointed(s, st) }
func (e env) Tracing() bool                        { return e.n.Tracing() }
func (e env) Format(f fmt.State, _ rune)           { _, _ = io.WriteString(f, envName) }
