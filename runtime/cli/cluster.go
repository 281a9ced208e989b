package cli

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"pbftlab/lab"
	"pbftlab/runtime/console"
	"pbftlab/runtime/tcp"
)

func runCluster(newReplica lab.NewFunc, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("cluster", "cluster [flags]\n\nRuns every replica and the client in this process, on the lab's ports, with one\nconsole that takes the case language: \"P1, P2: prepare yes\", \"client: send ...\".", stderr)
	var c common
	var r replicaFlags
	c.register(fs)
	c.registerStay(fs)
	r.register(fs)
	name := fs.String("name", "client", "the client's `name` in its requests")
	retry := fs.Duration("retry", tcp.DefaultRetry, "send a request unanswered for this long to every replica; each later resend waits twice as long (0: never)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := nonNegative("retry", *retry, "0 never resends"); err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("cluster takes no arguments")
	}
	peers, err := c.peers()
	if err != nil {
		return err
	}
	keys, err := c.keys()
	if err != nil {
		return err
	}
	if err := r.check(peers.N()); err != nil {
		return usageError{err}
	}
	if peers.Client != "" {
		hold, err := holdPort(peers.Client)
		if err != nil {
			return err
		}
		defer hold.Close()
	}
	out := console.NewOut(stdout)
	files := newFiles(r.dir, peers.N(), func(line string) { out.Print("", "-- "+line) }, nil)
	events := make([]*console.Events, peers.N())
	var started atomic.Pointer[tcp.Cluster]
	clientEvents := console.NewClientEvents(out, "client: ")
	cl, err := tcp.StartCluster(tcp.ClusterConfig{
		Peers: &peers, Keys: keys, New: newReplica, Replica: r.config(),
		Balances: r.balances, Byzantine: r.byzantine, Tick: r.tick,
		ClientName: *name, Retry: *retry, TCPOnly: c.tcpOnly,
		Observer: func(id lab.ID) tcp.Observer {
			ev := console.NewEvents(out, id.String()+": ", id, peers.N())
			ev.Logs = r.logs
			events[id] = ev
			return &replicaFiles{Observer: ev, f: files, id: id, bank: func() (lab.Snapshot, map[string]int) {
				if c := started.Load(); c != nil {
					s := c.Nodes[id].SnapshotInStep()
					return s, s.Balances
				}
				return lab.Snapshot{}, nil
			}}
		},
		ClientObserver: clientEvents,
		Checkpointed:   files.report,
	})
	if err != nil {
		return err
	}
	started.Store(cl)
	defer cl.Close()
	var where []string
	for i := range cl.N() {
		where = append(where, fmt.Sprintf("%s %s", lab.ID(i), cl.Nodes[i].Addr()))
	}
	votes := "automatic votes"
	if r.manual {
		votes = "manual votes"
	}
	byz := idsFlag(r.byzantine)
	out.Printf("", "cluster of %d replicas (%s) and client %s; %s; Byzantine: %s; one line per step, as \"P1: prepare yes\"; type help for the commands",
		cl.N(), strings.Join(where, ", "), *name, votes, byz.String())
	prompt := ""
	if interactive(stdin) {
		prompt = "> "
	}
	snapshot := func(id lab.ID) (string, error) {
		n := cl.Nodes[id]
		st, err := n.Status()
		if err != nil {
			return "", err
		}
		return files.snapshot(id, n.Snapshot(), st)
	}
	cc := console.NewClusterConsole(console.ClusterOf(cl), events, clientEvents, snapshot)
	defer cc.Close()
	return untilInterrupted(out, c.stay, func() error { return console.RunCluster(cc, stdin, out, prompt) })
}
