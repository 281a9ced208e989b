package console

import (
	"fmt"
	"io"
	"strings"

	"pbftlab/lab"
	"pbftlab/lab/script"
	"pbftlab/lab/tcp"
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

// RunCluster reads lines in the case language ("P1, P2: prepare yes",
// "client: send ...") from in until quit (nil) or the end of the input
// (ErrEndOfInput), and waits for the network to settle after each.
func RunCluster(c Cluster, in io.Reader, out *Out, prompt string) error {
	return loop(in, out, prompt, func(line string) bool {
		quit := ClusterCommand(c, line, out)
		if err := c.Settle(); err != nil {
			out.Print("", "error: "+oneLine(err))
		}
		return quit
	})
}

// ClusterCommand carries out one line of the cluster console, printing its
// results behind the name of the process each comes from.
func ClusterCommand(c Cluster, line string, out *Out) (quit bool) {
	left, right, found := strings.Cut(line, ":")
	if !found {
		switch strings.ToLower(strings.Join(strings.Fields(line), " ")) {
		case "help", "?":
			out.Print("", clusterHelp)
		case "quit", "exit":
			return true
		case "status":
			for i := range c.N() {
				out.Print("", StatusReport(c.Replica(lab.ID(i))))
			}
			out.Print("", ClientStatus(c.Client()))
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
	st, err := script.ParseStep(left, right)
	if err == nil {
		runStep(c, st, out)
		return false
	}
	// Not a step of the case language: perhaps one of the console's own
	// commands (help, net, tick, the client's status) for the targets.
	if strings.EqualFold(left, "client") {
		if consoleOnly(right) {
			text, _, cerr := ClientCommand(c.Client(), right)
			report(out, "client: ", text, cerr)
			return false
		}
		out.Print("client: ", "error: "+oneLine(err))
		return false
	}
	targets, terr := script.ParseStep(left, "status")
	if terr != nil || !consoleOnly(right) {
		out.Print("", "error: "+oneLine(err))
		return false
	}
	if !known(c, targets.Targets, out) {
		return false
	}
	for _, id := range targets.Targets {
		text, _, cerr := ReplicaCommand(c.Replica(id), right)
		report(out, id.String()+": ", text, cerr)
	}
	return false
}

// runStep carries out a parsed step at each of its targets.
func runStep(c Cluster, st script.Step, out *Out) {
	if st.Client {
		out.Print("client: ", clientStep(c.Client(), st))
		return
	}
	if !known(c, st.Targets, out) {
		return
	}
	for _, id := range st.Targets {
		text, _, err := replicaStep(c.Replica(id), st)
		prefix := id.String() + ": "
		if st.Action == script.Show && strings.HasPrefix(text, prefix) {
			prefix = "" // a status names its replica already
		}
		report(out, prefix, text, err)
	}
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

// consoleOnly reports whether a command belongs to the consoles but not to
// the case language.
func consoleOnly(command string) bool {
	w := strings.Fields(strings.ToLower(command))
	if len(w) == 0 {
		return false
	}
	switch w[0] {
	case "help", "?", "net", "tick", "status", "list":
		return true
	}
	return false
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
