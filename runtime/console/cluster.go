package console

import (
	"fmt"
	"io"
	"strings"

	"pbftlab/lab"
	"pbftlab/runtime/tcp"
	"pbftlab/script"
)

// Cluster is what the cluster console drives: every replica and the
// client in one process. *tcp.Cluster is one, through ClusterOf.
type Cluster interface {
	N() int
	Replica(id lab.ID) Replica
	Client() Client
	// Settle waits for the network to quieten after a step, so that each
	// line acts on the state the previous one left, as in a case.
	Settle() error
}

// ClusterOf adapts an in-process TCP cluster for the cluster console.
func ClusterOf(c *tcp.Cluster) Cluster { return tcpCluster{c} }

type tcpCluster struct{ c *tcp.Cluster }

func (t tcpCluster) N() int                    { return t.c.N() }
func (t tcpCluster) Replica(id lab.ID) Replica { return t.c.Nodes[id] }
func (t tcpCluster) Client() Client            { return t.c.Client }
func (t tcpCluster) Settle() error             { return t.c.Settle() }

// ClusterConsole is the console of a whole cluster: a console for each
// replica and one for the client, reached by the targets of each line.
type ClusterConsole struct {
	c        Cluster
	replicas []*ReplicaConsole
	client   *ClientConsole
}

// NewClusterConsole makes the console of c. events, when not nil, holds
// each replica's events by ID, and clientEvents the client's; snapshot,
// when not nil, writes a replica's snapshot for the checkpoint command.
func NewClusterConsole(c Cluster, events []*Events, clientEvents *ClientEvents, snapshot func(id lab.ID) (string, error)) *ClusterConsole {
	cc := &ClusterConsole{c: c, client: NewClientConsole(c.Client(), clientEvents)}
	for i := range c.N() {
		var ev *Events
		if i < len(events) {
			ev = events[i]
		}
		rc := NewReplicaConsole(c.Replica(lab.ID(i)), ev)
		if snapshot != nil {
			id := lab.ID(i)
			rc.Snapshot = func() (string, error) { return snapshot(id) }
		}
		cc.replicas = append(cc.replicas, rc)
	}
	return cc
}

// RunCluster reads lines in the case language ("P1, P2: prepare yes",
// "client: send ...") from in until quit (nil) or the end of the input
// (ErrEndOfInput), and waits for the network to settle after each.
func RunCluster(cc *ClusterConsole, in io.Reader, out *Out, prompt string) error {
	return loop(in, out, func() string { return cc.prompt(prompt) }, func(line string) bool {
		quit := cc.Command(line, out)
		// The client's queue sends its next request when the one before
		// it has its outcome: a quiet network in between, or one that
		// settles while the next request leaves, is not the end of the
		// line's work.
		for {
			sends := cc.client.queueSends()
			if err := cc.c.Settle(); err != nil {
				out.Print("", "error: "+oneLine(err))
				break
			}
			if !cc.client.awaitNextSend() && cc.client.queueSends() == sends {
				break
			}
		}
		return quit
	})
}

// Close stops the client's queue.
func (cc *ClusterConsole) Close() { cc.client.Close() }

// prompt is "P0 data> " while a bare tx at P0 waits for its operation.
func (cc *ClusterConsole) prompt(normal string) string {
	for i, rc := range cc.replicas {
		if p := rc.Prompt(normal); p != normal {
			return lab.ID(i).String() + " " + p
		}
	}
	return normal
}

// ClusterCommand carries out one line at a cluster console that remembers
// nothing from earlier lines.
func ClusterCommand(c Cluster, line string, out *Out) (quit bool) {
	cc := NewClusterConsole(c, nil, nil, nil)
	defer cc.Close()
	return cc.Command(line, out)
}

// Command carries out one line of the cluster console, printing its
// results behind the name of the process each comes from.
func (cc *ClusterConsole) Command(line string, out *Out) (quit bool) {
	c := cc.c
	left, right, found := strings.Cut(line, ":")
	if !found {
		switch w := strings.Fields(strings.ToLower(line)); {
		case len(w) == 1 && (w[0] == "help" || w[0] == "?"):
			out.Print("", clusterHelp)
		case len(w) == 1 && (w[0] == "quit" || w[0] == "exit"):
			return true
		case len(w) >= 1 && w[0] == "status" && (len(w) == 1 || (len(w) == 2 && w[1] == "all")):
			for i := range c.N() {
				out.Print("", StatusReport(c.Replica(lab.ID(i)), len(w) == 2))
			}
			out.Print("", cc.client.status())
		default:
			out.Print("", fmt.Sprintf("error: want \"TARGETS: COMMAND\" (as \"P1, P2: prepare yes\" or \"client: send ...\"), or help, status, quit; got %q", line))
		}
		return false
	}
	left, right = strings.TrimSpace(left), strings.TrimSpace(right)
	if strings.EqualFold(left, "tick") {
		clusterTick(c, right, out)
		return false
	}
	if strings.EqualFold(script.StripNotes(left), "client") {
		text, _, err := cc.client.Command(right)
		report(out, "client: ", text, err)
		return false
	}
	// Any replica command, the case language's and the console's own
	// (help, net, data, a data> line), goes to each target's console.
	targets, err := script.ParseStep(left, "status")
	if err != nil {
		out.Print("", "error: "+oneLine(err))
		return false
	}
	if !known(c, targets.Targets, out) {
		return false
	}
	if w := strings.Fields(strings.ToLower(right)); len(w) == 1 && (w[0] == "quit" || w[0] == "exit") {
		out.Print("", "error: quit leaves the whole cluster console: type it alone (to stop a replica, type P1: crash)")
		return false
	}
	for _, id := range targets.Targets {
		text, _, cerr := cc.replicas[id].Command(right)
		prefix := id.String() + ": "
		if strings.HasPrefix(text, prefix) {
			prefix = "" // a status names its replica already
		}
		report(out, prefix, text, cerr)
	}
	return false
}

// known checks that every target is a replica of the cluster.
func known(c Cluster, ids []lab.ID, out *Out) bool {
	for _, id := range ids {
		if int(id) >= c.N() {
			out.Print("", fmt.Sprintf("error: %s is not a replica of this %d-replica cluster", id, c.N()))
			return false
		}
	}
	return true
}

// clusterTick is "tick: N": every replica's clock advances N times.
func clusterTick(c Cluster, arg string, out *Out) {
	k, err := tickCount(append([]string{"tick"}, strings.Fields(arg)...))
	if err != nil {
		out.Print("", "error: "+oneLine(err))
		return
	}
	for range k {
		for i := range c.N() {
			_ = c.Replica(lab.ID(i)).Tick()
		}
		if err := c.Settle(); err != nil {
			out.Print("", "error: "+oneLine(err))
			return
		}
	}
	out.Printf("", "ok: %d tick(s) at every replica", k)
}

func report(out *Out, prefix, text string, err error) {
	switch {
	case err != nil:
		out.Print(prefix, "error: "+oneLine(err))
	case text != "":
		out.Print(prefix, text)
	}
}
