package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"pbftlab/ckptfile"
	"pbftlab/internal/cmdline"
	"pbftlab/lab"
	"pbftlab/runtime/console"
	"pbftlab/runtime/tcp"
)

func runPrimary(newReplica lab.NewFunc, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("primary", "primary [flags]\n\nRuns P0, the primary of view 0, with its console.", stderr)
	var c common
	var r replicaFlags
	c.register(fs)
	c.registerStay(fs)
	r.register(fs)
	port := fs.Int("port", -1, "`port` to listen on (default: P0's in the peers file, 5000)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("primary takes no arguments (P0 is the first primary; run the others with node ID PORT)")
	}
	return serveReplica(newReplica, 0, *port, c, r, stdin, stdout)
}

func runNode(newReplica lab.NewFunc, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("node", "node ID [PORT] [flags]\n\nRuns replica ID (P1, P2, P3, ...) with its console, listening on PORT\n(default: its port in the peers file, 5000 + its number).", stderr)
	var c common
	var r replicaFlags
	c.register(fs)
	c.registerStay(fs)
	r.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usagef("want node ID [PORT], as in node P1 5001")
	}
	id, err := parseReplica(pos[0])
	if err != nil {
		return usagef("%v", err)
	}
	port := -1
	if len(pos) == 2 {
		if port, err = parsePort(pos[1]); err != nil {
			return usagef("%v", err)
		}
	}
	return serveReplica(newReplica, id, port, c, r, stdin, stdout)
}

// serveReplica runs one replica and its console until quit, the end of the
// input, or an interrupt.
func serveReplica(newReplica lab.NewFunc, id lab.ID, port int, c common, r replicaFlags, stdin io.Reader, stdout io.Writer) error {
	peers, err := c.peers()
	if err != nil {
		return err
	}
	keys, err := c.keys()
	if err != nil {
		return err
	}
	if int(id) >= peers.N() {
		return usagef("%s is not a replica of this %d-replica cluster (the peers file lists P0 to P%d)", id, peers.N(), peers.N()-1)
	}
	moved := ""
	if port >= 0 {
		if port == 0 {
			return usagef("%v", errPortZero)
		}
		listed := peers.Addr(id)
		peers = peers.WithPort(id, port)
		if peers.Addr(id) != listed {
			moved = fmt.Sprintf("-- %s listens on %s, but the peers file lists it at %s: the others dial that, so they will not reach %s unless their peers file says the same", id, peers.Addr(id), listed, id)
		}
	}
	if err := r.check(peers.N()); err != nil {
		return usageError{err}
	}
	out := console.NewOut(stdout)
	events := console.NewEvents(out, "", id, peers.N())
	events.Logs = r.logs
	watch := &replicaFiles{Observer: events, id: id, peers: true, primary: lab.Primary(0, peers.N())}
	watch.f = newFiles(r.dir, peers.N(), events.Noted, func(d ckptfile.Folder) ckptfile.FS {
		return ownFiles{Folder: d, id: id, final: func() bool { return watch.primary == id }}
	})
	watch.f.w.Gather = ckptfile.Folder(r.dir).Find
	var started atomic.Pointer[tcp.Node]
	watch.bank = func() (lab.Snapshot, map[string]int) {
		if n := started.Load(); n != nil {
			s := n.SnapshotInStep()
			return s, s.Balances
		}
		return lab.Snapshot{}, nil
	}
	node, err := tcp.StartNode(tcp.NodeConfig{
		ID: id, Peers: peers, Keys: keys, New: newReplica, Replica: r.config(),
		Balances: r.balances, Byzantine: r.byzantine, Tick: r.tick,
		Observer: watch, Checkpointed: watch.checkpointed, TCPOnly: c.tcpOnly,
	})
	if err != nil {
		return err
	}
	started.Store(node)
	defer node.Close()
	out.Print("", banner(node, r))
	if moved != "" {
		out.Print("", moved)
	}
	// Restart is recovery: a replica whose process starts while the others
	// run (after a crash, kill -9, Ctrl-C) fetches the state and the view
	// from f+1 of them by itself, so "rerun its command" is all a person
	// does. With a cluster that is starting too, the answers say there is
	// nothing to catch up.
	out.Print("", "-- asking the other replicas for their state and view, in case this one is rejoining a running cluster")
	if err := node.Rejoin(); err != nil {
		out.Print("", "error: "+err.Error())
	}
	prompt := ""
	if interactive(stdin) {
		prompt = id.String() + "> "
	}
	rc := console.NewReplicaConsole(node, events)
	rc.Snapshot = func() (string, error) {
		st, err := node.Status()
		if err != nil {
			return "", err
		}
		return watch.f.snapshot(id, node.Snapshot(), st)
	}
	return untilInterrupted(out, c.stay, func() error { return console.RunReplica(rc, stdin, out, prompt) })
}

// banner is the first thing a replica prints: who it is, where it listens,
// how it votes.
func banner(node *tcp.Node, r replicaFlags) string {
	role := "replica"
	if node.ID() == lab.Primary(0, node.N()) {
		role = "primary of view 0"
	}
	votes := "automatic votes"
	if r.manual {
		votes = "manual votes (prepare yes|no, ack commit|abort, progress)"
	}
	var peers []string
	for i := range node.N() {
		if lab.ID(i) != node.ID() {
			peers = append(peers, fmt.Sprintf("%s %s", lab.ID(i), node.Peers().Addr(lab.ID(i))))
		}
	}
	byz := idsFlag(r.byzantine)
	return fmt.Sprintf("%s (%s) listening on %s; peers %s; %s; Byzantine: %s; type help for the commands",
		node.ID(), role, node.Addr(), strings.Join(peers, ", "), votes, byz.String())
}

// untilInterrupted runs a console and returns when it ends or on Ctrl-C.
// With stay, the end of the input does not end the process: it runs on,
// without a console, until interrupted.
func untilInterrupted(out *console.Out, stay bool, run func() error) error {
	sig, stop := cmdline.Interrupts()
	defer stop()
	done := make(chan error, 1)
	go func() { done <- run() }()
	select {
	case err := <-done:
		if !errors.Is(err, console.ErrEndOfInput) {
			return err
		}
		if !stay {
			out.Print("", "-- end of input: leaving, as quit does")
			return nil
		}
		out.Print("", "-- end of input: running on without a console until interrupted (-stay)")
		out.Printf("", "-- %v: stopping", <-sig)
		return nil
	case s := <-sig:
		out.Printf("", "-- %v: stopping", s)
		return nil
	}
}
