package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"pbftlab/lab"
	"pbftlab/runtime/console"
	"pbftlab/runtime/tcp"
	"pbftlab/script"
)

// clientRetryTicks is how many ticks the client of a replayed case waits
// before sending an unanswered request to every replica: the simulator's
// client does the same, so a case behaves alike in both homes.
const clientRetryTicks = 10

func runCase(newReplica lab.NewFunc, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("run", "run CASEFILE [flags]\n\nReplays a case, step by step, against a cluster of this tree's replicas talking\nover TCP on loopback; prints the transcript and checks the case's check and expect\nlines. Exits 1 if any of them does not hold.", stderr)
	var c common
	c.register(fs)
	fs.Lookup("peers").Usage = "peers `file` giving the replicas' ports (default: free ports on 127.0.0.1)"
	quiet := fs.Bool("q", false, "print the steps and the outcome only, not the events under each step")
	logs := fs.Bool("logs", false, "print the replicas' own log lines beside the events")
	settle := fs.Duration("settle", tcp.DefaultSettleTimeout, "longest wait for the network to settle after a step")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want run CASEFILE, as in run cases/case1_deposit.case")
	}
	text, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	cs, err := script.Parse(pos[0], string(text))
	if err != nil {
		return err
	}
	keys, err := c.keys()
	if err != nil {
		return err
	}
	cfg := tcp.ClusterConfig{
		N: cs.N, Keys: keys, New: newReplica,
		Replica:  lab.Config{Manual: cs.Manual, CheckpointInterval: cs.CheckpointInterval, Window: cs.Window},
		Balances: cs.Balances, Byzantine: cs.Byzantine,
		RetryTicks: clientRetryTicks, SettleTimeout: *settle, TCPOnly: c.tcpOnly,
	}
	if c.peersFile != "" {
		peers, err := c.peers()
		if err != nil {
			return err
		}
		if peers.N() != cs.N {
			return fmt.Errorf("the peers file lists %d replicas, the case has %d", peers.N(), cs.N)
		}
		cfg.Peers = &peers
	}
	out := console.NewOut(stdout)
	if !*quiet {
		cfg.Observer = func(id lab.ID) tcp.Observer {
			ev := console.NewEvents(out, "    "+id.String()+": ", id, cs.N)
			ev.Logs = *logs
			return ev
		}
		cfg.ClientObserver = console.NewClientEvents(out, "    client: ")
	}
	files := newFiles("", cs.N, func(line string) { out.Print("", "    -- "+line) }, nil)
	cfg.Checkpointed = files.report
	tc, err := tcp.StartCluster(cfg)
	if err != nil {
		return err
	}
	defer tc.Close()
	cl := caseCluster{tc, files}
	var where []string
	for i := range cl.N() {
		where = append(where, fmt.Sprintf("%s %s", lab.ID(i), tc.Nodes[i].Addr()))
	}
	out.Printf("", "# %s\n# %s, over TCP: %s", cs.Title, cs.File, strings.Join(where, ", "))
	start := time.Now()
	failures, err := script.Run(cs, cl, func(line string) { out.Print("", line) })
	if err != nil {
		out.Printf("", "STOPPED: %v", err)
		for _, n := range tc.Nodes {
			out.Print("    "+n.ID().String()+": ", console.NetReport(n))
		}
		out.Print("    client: ", console.NetReport(tc.Client))
		return errFailed
	}
	for _, f := range failures {
		out.Printf("", "FAIL %s: %v", cs.File, f)
	}
	if len(failures) > 0 {
		out.Printf("", "FAIL: %d of the case's check and expect lines do not hold (%v)", len(failures), time.Since(start).Round(time.Millisecond))
		return errFailed
	}
	out.Printf("", "PASS: every check and expect line of %s holds (%v)", cs.File, time.Since(start).Round(time.Millisecond))
	return nil
}

// caseCluster is the cluster a case is replayed on: the TCP cluster, whose
// checkpoint files are kept in memory so the case can read them back.
type caseCluster struct {
	*tcp.Cluster
	*files
}
