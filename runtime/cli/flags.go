package cli

import (
	"errors"
	"golang.org/x/term"

	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"pbftlab/lab"
	"pbftlab/runtime/tcp"
)

// common holds the flags every networked command takes.
type common struct {
	peersFile string
	keyFile   string
	stay      bool
	tcpOnly   bool
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.peersFile, "peers", "", "peers `file`: one \"NAME HOST:PORT\" line per replica (P0 ...) and the client (default: the lab's ports, P0-P3 on 127.0.0.1:5000-5003, client on 7000)")
	fs.StringVar(&c.keyFile, "key", "", "cluster key `file`, the same for every process (default: the lab's published key, fit for loopback only)")
	fs.BoolVar(&c.tcpOnly, "tcp-only", false, "send every message on the TCP connections, never as a UDP datagram: slower, for a network that lets only TCP through (without it, a link whose datagrams go unanswered falls back by itself)")
}

// registerStay adds -stay, for the commands with a console.
func (c *common) registerStay(fs *flag.FlagSet) {
	fs.BoolVar(&c.stay, "stay", false, "keep running when the input ends (a process started in the background, with no console), until interrupted")
}

func (c *common) peers() (tcp.Peers, error) {
	if c.peersFile == "" {
		return tcp.DefaultPeers(4), nil
	}
	return tcp.LoadPeers(c.peersFile)
}

func (c *common) keys() (*tcp.Keyring, error) {
	if c.keyFile == "" {
		return tcp.DefaultKeyring(), nil
	}
	return tcp.LoadKeyring(c.keyFile)
}

// replicaFlags configure a replica: its votes, its state machine and its
// clock.
type replicaFlags struct {
	manual    bool
	balances  balancesFlag
	byzantine idsFlag
	tick      time.Duration
	interval  int
	window    int
	timeout   int
	batch     int
	logs      bool
	dir       string
}

func (r *replicaFlags) register(fs *flag.FlagSet) {
	r.byzantine = idsFlag{3}
	fs.BoolVar(&r.manual, "manual", false, "votes are typed (prepare yes, ack commit, progress), as in the original lab; without it replicas vote by themselves")
	fs.Var(&r.balances, "balances", "starting `balances`, as alice=100,bob=50 (accounts not named start at 0)")
	fs.Var(&r.byzantine, "byzantine", "the Byzantine `replicas` (as P3, or P2,P3, or none): they alone may send a vote to one replica (\"prepare to P1 no\")")
	fs.DurationVar(&r.tick, "tick", 100*time.Millisecond, "period of the replica's clock (view-change timers count its ticks); 0 stops it, leaving the tick command")
	fs.IntVar(&r.interval, "checkpoint-interval", 0, fmt.Sprintf("K: take a checkpoint every K sequence numbers (default %d)", lab.DefaultCheckpointInterval))
	fs.IntVar(&r.window, "window", 0, fmt.Sprintf("L: accept sequence numbers up to L above the last stable checkpoint (default %d)", lab.DefaultWindow))
	fs.IntVar(&r.timeout, "view-change-timeout", 0, fmt.Sprintf("ticks a backup waits for a request to execute before asking for a view change (default %d)", lab.DefaultViewChangeTimeout))
	fs.IntVar(&r.batch, "batch", 0, "with automatic votes, batch and pipeline: the primary orders up to this many requests at one sequence number and backups vote on their form at once (0: the lab's protocol, one request at a time)")
	fs.BoolVar(&r.logs, "logs", true, "print the replica's own log lines (log: ...) beside the events")
	fs.StringVar(&r.dir, "dir", "checkpoints", "`directory` for the checkpoint logs")
}

func (r *replicaFlags) config() lab.Config {
	return lab.Config{
		Manual:             r.manual,
		CheckpointInterval: r.interval,
		Window:             r.window,
		ViewChangeTimeout:  r.timeout,
		BatchSize:          r.batch,
	}
}

func (r *replicaFlags) check(n int) error {
	for _, f := range []struct {
		name  string
		value int
	}{{"checkpoint-interval", r.interval}, {"window", r.window}, {"view-change-timeout", r.timeout}, {"batch", r.batch}} {
		if f.value < 0 {
			return usagef("-%s %d: cannot be negative (0 is the default)", f.name, f.value)
		}
	}
	if err := nonNegative("tick", r.tick, "0 stops the clock"); err != nil {
		return err
	}
	// A window below the checkpoint interval never reaches a checkpoint:
	// none becomes stable, the window never moves, and the cluster stops
	// at its high watermark.
	if cfg := r.config().WithDefaults(); cfg.Window < cfg.CheckpointInterval {
		return usagef("-window %d is below the checkpoint interval %d: no checkpoint would ever become stable, and the replicas would stop at n%d; give a window of at least the interval (twice it is usual)",
			cfg.Window, cfg.CheckpointInterval, cfg.Window)
	}
	for _, id := range r.byzantine {
		if int(id) >= n {
			return fmt.Errorf("-byzantine: %s is not a replica of this %d-replica cluster", id, n)
		}
	}
	if len(r.byzantine) > lab.Faulty(n) {
		return fmt.Errorf("-byzantine: %d Byzantine replicas, but %d replicas tolerate only %d", len(r.byzantine), n, lab.Faulty(n))
	}
	return checkDir(r.dir)
}

// nonNegative refuses a negative duration for flag name, saying what 0 does.
func nonNegative(name string, d time.Duration, zero string) error {
	if d < 0 {
		return usagef("-%s %v: cannot be negative (%s)", name, d, zero)
	}
	return nil
}

// checkDir refuses, at the start, a checkpoint folder that cannot be one:
// a file, or a path under a file. Otherwise the replica would run with no
// files and say so at every write. A folder that does not exist yet is
// made at the first write.
func checkDir(dir string) error {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		switch {
		case err == nil && fi.IsDir():
			return nil
		case err == nil:
			return fmt.Errorf("-dir %s: %s is not a directory", dir, d)
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return fmt.Errorf("-dir %s: %v", dir, err)
		case filepath.Dir(d) == d:
			return nil
		}
	}
}

// balancesFlag reads "alice=100,bob=50".
type balancesFlag map[string]int

func (b *balancesFlag) String() string {
	if b == nil || *b == nil {
		return ""
	}
	var parts []string
	for k, v := range *b {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	return strings.Join(parts, ",")
}

func (b *balancesFlag) Set(s string) error {
	m := map[string]int{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		acct, amt, ok := strings.Cut(item, "=")
		n, err := strconv.Atoi(strings.TrimSpace(amt))
		if !ok || strings.TrimSpace(acct) == "" || err != nil || n < 0 {
			return fmt.Errorf("%q: want ACCOUNT=AMOUNT with a whole, non-negative amount", item)
		}
		m[strings.TrimSpace(acct)] = n
	}
	*b = m
	return nil
}

// idsFlag reads "P3" or "P2,P3" or "none".
type idsFlag []lab.ID

func (f *idsFlag) String() string {
	if f == nil || len(*f) == 0 {
		return "none"
	}
	return lab.JoinIDs(*f, ",")
}

func (f *idsFlag) Set(s string) error {
	*f = nil
	if strings.EqualFold(strings.TrimSpace(s), "none") {
		return nil
	}
	for item := range strings.SplitSeq(s, ",") {
		id, err := parseReplica(strings.TrimSpace(item))
		if err != nil {
			return err
		}
		*f = append(*f, id)
	}
	return nil
}

// parseReplica reads a replica's name: "P2", "p2" or plain "2".
func parseReplica(s string) (lab.ID, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return lab.ID(n), nil
	}
	id, err := lab.ParseID(s)
	if err == nil && id == lab.Client {
		err = fmt.Errorf("%q is the client, not a replica", s)
	}
	return id, err
}

// errPortZero refuses port 0, with which the system would pick a free
// port that no other process of the cluster knows to dial.
var errPortZero = errors.New("port 0 is not a port the others can find: give the one the peers file lists (5000 + the replica's number by default)")

// parsePort reads a port number.
func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port number", s)
	}
	return n, nil
}

// interactive reports whether in is a terminal, where a prompt helps; a
// pipe, a file or /dev/null (a character device, but no terminal) gets
// none.
func interactive(in any) bool {
	f, ok := in.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
