package e2e

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pbftlab/ckptfile"
	"pbftlab/lab"
	"pbftlab/script"
)

// procCluster is a cluster of OS processes, one per replica and one for
// the client, driven through their consoles. It implements script.Cluster,
// so a case plays on it as on the simulator: each step is typed at the
// consoles it names, and waits for the network to settle.
type procCluster struct {
	t        *testing.T
	c        *script.Case
	bin      string
	dir      string   // the processes' folder: peers, key, checkpoints
	common   []string // flags of every process
	replica  []string // flags of every replica
	replicas []*proc
	client   *proc
	sent     int // requests the client has sent

	// Requests the script has sent and the client not yet been told of.
	pendingOp string
	pending   int
}

var _ script.Cluster = (*procCluster)(nil)

// startCluster starts the processes for case c on free loopback ports,
// with a fresh cluster key, and waits until every one is connected to
// every replica. The ports are free when chosen, but another program may
// take one before the process that is to listen on it starts; the start is
// then tried again on other ports. extra flags go to every replica.
func startCluster(t *testing.T, bin string, c *script.Case, extra ...string) *procCluster {
	t.Helper()
	for attempt := 1; ; attempt++ {
		pc := newProcCluster(t, bin, c, extra...)
		err := pc.start(true)
		if err == nil {
			return pc
		}
		if !errors.Is(err, errPortTaken) || attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("start %d: %v; trying other ports", attempt, err)
	}
}

var errPortTaken = errors.New("a port was taken by another program")

// newProcCluster writes the peers and key files for case c and the flags
// of its processes; nothing starts yet.
func newProcCluster(t *testing.T, bin string, c *script.Case, extra ...string) *procCluster {
	dir := t.TempDir()
	ports := freePorts(t, c.N+1)
	var peers strings.Builder
	for i := range c.N {
		fmt.Fprintf(&peers, "P%d 127.0.0.1:%d\n", i, ports[i])
	}
	fmt.Fprintf(&peers, "client 127.0.0.1:%d\n", ports[c.N])
	peersFile := filepath.Join(dir, "peers")
	keyFile := filepath.Join(dir, "cluster.key")
	write(t, peersFile, peers.String())
	write(t, keyFile, fmt.Sprintf("e2e key %d\n", time.Now().UnixNano()))

	common := []string{"-peers", peersFile, "-key", keyFile}
	replica := slices.Concat(common, []string{"-tick", "0", "-logs=false", "-dir", filepath.Join(dir, "checkpoints"), "-byzantine", ids(c.Byzantine)})
	if c.Manual {
		replica = append(replica, "-manual")
	}
	if len(c.Balances) > 0 {
		var b []string
		for _, k := range slices.Sorted(maps.Keys(c.Balances)) {
			b = append(b, fmt.Sprintf("%s=%d", k, c.Balances[k]))
		}
		replica = append(replica, "-balances", strings.Join(b, ","))
	}
	if c.CheckpointInterval > 0 {
		replica = append(replica, "-checkpoint-interval", strconv.Itoa(c.CheckpointInterval))
	}
	if c.Window > 0 {
		replica = append(replica, "-window", strconv.Itoa(c.Window))
	}
	replica = append(replica, extra...)
	return &procCluster{t: t, c: c, bin: bin, dir: dir, common: common, replica: replica, replicas: make([]*proc, c.N)}
}

// replicaArgs is the command that starts replica i: the original lab's
// "primary" for P0, "node PX" for the others.
func (pc *procCluster) replicaArgs(i int) []string {
	if i == 0 {
		return slices.Concat([]string{"primary"}, pc.replica)
	}
	return slices.Concat([]string{"node", fmt.Sprintf("P%d", i)}, pc.replica)
}

// startReplica starts (or starts again) replica i with its command.
func (pc *procCluster) startReplica(i int) *proc {
	p := startProc(pc.t, fmt.Sprintf("P%d", i), pc.bin, pc.replicaArgs(i)...)
	pc.replicas[i] = p
	return p
}

// startClient starts the client with no flags but the cluster's files.
func (pc *procCluster) startClient() *proc {
	pc.client = startProc(pc.t, "client", pc.bin, slices.Concat([]string{"client"}, pc.common)...)
	return pc.client
}

// start starts every replica and, with client, the client, and waits for
// their banners and their connections. Without client, the client runs
// already and its banner has been read.
func (pc *procCluster) start(client bool) error {
	for i := range pc.c.N {
		pc.startReplica(i)
	}
	if client {
		pc.startClient()
	}
	// First every banner, printed once a process listens (or its end, when
	// it cannot), then every connection.
	starts := map[*proc]*start{}
	for _, p := range pc.all() {
		starts[p] = &start{banner: p == pc.client && !client}
	}
	for _, phase := range []func(*start) bool{(*start).listening, (*start).ready} {
		for _, p := range pc.all() {
			if err := pc.awaitStart(p, starts[p], phase); err != nil {
				for _, q := range pc.all() {
					q.discard()
				}
				if errors.Is(err, errEnded) && strings.Contains(p.output(), "already in use") {
					return fmt.Errorf("%s: %w", p.name, errPortTaken)
				}
				return err
			}
		}
	}
	return nil
}

// start is what a process has printed of its start: its banner, and the
// replicas it is connected to ("-- connected to PX").
type start struct {
	banner    bool
	connected map[string]bool
	want      int
}

func (s *start) listening() bool { return s.banner }
func (s *start) ready() bool     { return s.banner && len(s.connected) == s.want }

// all is every process started, the client last.
func (pc *procCluster) all() []*proc {
	var out []*proc
	for _, p := range pc.replicas {
		if p != nil && !p.gone {
			out = append(out, p)
		}
	}
	if pc.client != nil {
		out = append(out, pc.client)
	}
	return out
}

// awaitStart reads p's output until done says its start has come far
// enough.
func (pc *procCluster) awaitStart(p *proc, s *start, done func(*start) bool) error {
	if s.connected == nil {
		s.connected = map[string]bool{}
		s.want = pc.c.N
		if p != pc.client {
			s.want--
		}
	}
	if done(s) {
		return nil
	}
	_, err := p.tryAwait("its banner and a connection to every replica", func(line string) bool {
		s.banner = s.banner || strings.Contains(line, "type help for the commands")
		if rest, ok := strings.CutPrefix(line, "-- connected to "); ok {
			s.connected[strings.Fields(rest)[0]] = true
		}
		return done(s)
	})
	return err
}

// counts is what every process said about the messages it sent and
// handled, by peer.
type counts map[string]map[string]uint64 // process → "sent P1" / "handled client" → n

var countRE = regexp.MustCompile(`^messages: sent (.*); handled (.*); rejected (\d+)$`)

// queuedRE reads the line a client's net report has while requests wait
// in its queue.
var queuedRE = regexp.MustCompile(`^requests queued: (\d+) `)

// netCounts asks every process for its message counts.
func (pc *procCluster) netCounts() counts {
	for _, p := range pc.all() {
		p.type_("net")
	}
	out := counts{}
	for _, p := range pc.all() {
		got := p.await("net report", isCounts)
		m := countRE.FindStringSubmatch(got[len(got)-1])
		if m == nil {
			pc.t.Fatalf("%s: cannot read %q", p.name, got[len(got)-1])
		}
		c := map[string]uint64{"rejected": parseUint(pc.t, m[3])}
		// A client with requests still queued has more to send: the
		// network is not settled, however balanced its counts.
		if len(got) >= 2 {
			if q := queuedRE.FindStringSubmatch(got[len(got)-2]); q != nil {
				c["queued"] = parseUint(pc.t, q[1])
			}
		}
		for verb, list := range map[string]string{"sent": m[1], "handled": m[2]} {
			if list == "none" {
				continue
			}
			for item := range strings.FieldsSeq(list) {
				k, v, _ := strings.Cut(item, "=")
				c[verb+" "+k] = parseUint(pc.t, v)
			}
		}
		out[p.name] = c
	}
	return out
}

// balanced says whether every message sent has been handled by its
// receiver, and none failed authentication.
func (c counts) balanced() bool {
	for from, m := range c {
		if m["rejected"] > 0 || m["queued"] > 0 {
			return false
		}
		for k, n := range m {
			to, ok := strings.CutPrefix(k, "sent ")
			if ok && c[to]["handled "+from] != n {
				return false
			}
		}
	}
	return true
}

// settle waits until the network is quiet: two rounds of counts in a row,
// identical, with every message sent handled. The counts only grow, so two
// equal rounds mean nothing moved between them, and since each process
// answers from the goroutine that handles its messages, nothing was half
// handled either.
//
// A thousand requests take a while on a busy machine: the wait fails only
// when nothing at all moves for waitLimit, not when the work is slow.
func (pc *procCluster) settle() {
	pc.t.Helper()
	limit, last := time.Now().Add(waitLimit), time.Now().Add(settleLimit)
	prev := counts(nil)
	for {
		cur := pc.netCounts()
		if time.Now().After(last) {
			pc.t.Fatalf("the network did not settle within %v: %v", settleLimit, cur)
		}
		same := fmt.Sprint(cur) == fmt.Sprint(prev)
		if cur.balanced() && same {
			return
		}
		if !same {
			limit = time.Now().Add(waitLimit)
		}
		if time.Now().After(limit) {
			pc.t.Fatalf("the network stood still for %v without settling: %v", waitLimit, cur)
		}
		prev = cur
	}
}

// settleLimit bounds any one wait for the network to settle.
const settleLimit = 3 * time.Minute

// The script.Cluster methods.

func (pc *procCluster) N() int { return len(pc.replicas) }

// Send queues the request: the requests the script sends one after
// another with the same operation are typed as one "send ... times K"
// line when the script next does something else, as a person would.
func (pc *procCluster) Send(op string) int {
	if pc.pendingOp != op {
		pc.flush()
		pc.pendingOp = op
	}
	pc.pending++
	pc.sent++
	return pc.sent
}

// flush types the queued sends and waits for the network to settle.
func (pc *procCluster) flush() {
	pc.t.Helper()
	if pc.pending == 0 {
		return
	}
	line := "send " + pc.pendingOp
	if pc.pending > 1 {
		line += fmt.Sprintf(" times %d", pc.pending)
	}
	pc.pending, pc.pendingOp = 0, ""
	if _, err := pc.client.command(line); err != nil {
		pc.t.Fatalf("client: %s: %v", line, err)
	}
	pc.settle()
}

func (pc *procCluster) Do(id lab.ID, c lab.Command) error {
	pc.flush()
	_, err := pc.replicas[id].command(c.String())
	pc.settle()
	return err
}

func (pc *procCluster) VoteTo(from, to lab.ID, op lab.Op, yes bool) error {
	pc.flush()
	vote := map[bool]string{true: "yes", false: "no"}[yes]
	if op == lab.OpAck {
		vote = map[bool]string{true: "commit", false: "abort"}[yes]
	}
	_, err := pc.replicas[from].command(fmt.Sprintf("%s to %s %s", op, to, vote))
	pc.settle()
	return err
}

func (pc *procCluster) Crash(id lab.ID) {
	pc.flush()
	if _, err := pc.replicas[id].command("crash"); err != nil {
		pc.t.Errorf("%s: crash: %v", id, err)
	}
	pc.settle()
}

func (pc *procCluster) Recover(id lab.ID) error {
	pc.flush()
	_, err := pc.replicas[id].command("recover")
	pc.settle()
	return err
}

func (pc *procCluster) Tick() {
	pc.flush()
	for _, p := range pc.replicas {
		if _, err := p.command("tick"); err != nil {
			pc.t.Errorf("%s: tick: %v", p.name, err)
		}
	}
	pc.settle()
}

// Status reads what replica id prints for status.
func (pc *procCluster) Status(id lab.ID) (lab.Status, error) {
	st, _, err := pc.status(id)
	return st, err
}

func (pc *procCluster) Balances(id lab.ID) map[string]int {
	_, b, err := pc.status(id)
	if err != nil {
		pc.t.Errorf("%s: %v", id, err)
	}
	return b
}

// StableCheckpoints reads what replica id printed as each checkpoint
// became stable.
func (pc *procCluster) StableCheckpoints(id lab.ID) []int {
	pc.flush()
	var seqs []int
	for _, line := range strings.Split(pc.replicas[id].output(), "\n") {
		if m := stableRE.FindStringSubmatch(line); m != nil {
			seqs = append(seqs, atoi(m[1]))
		}
	}
	return seqs
}

var stableRE = regexp.MustCompile(`^checkpoint n(\d+) is stable `)

// FinalCheckpoint reads the final checkpoint file of the highest sequence
// number from the folder every process writes into (script.CheckpointFiles).
func (pc *procCluster) FinalCheckpoint() (string, ckptfile.Final, error) {
	pc.flush()
	names, err := filepath.Glob(filepath.Join(pc.dir, "checkpoints", ckptfile.FinalPrefix+"*"+ckptfile.FinalSuffix))
	if err != nil || len(names) == 0 {
		return "", ckptfile.Final{}, fmt.Errorf("no final checkpoint file in %s", filepath.Join(pc.dir, "checkpoints"))
	}
	var best ckptfile.Final
	var bestName string
	for _, name := range names {
		text, err := os.ReadFile(name)
		if err != nil {
			return "", best, err
		}
		f, err := ckptfile.ParseFinal(string(text))
		if err != nil {
			return name, best, err
		}
		if bestName == "" || f.Seq > best.Seq {
			best, bestName = f, filepath.Base(name)
		}
	}
	return bestName, best, nil
}

// Err is nil: a process that fails ends the test where it is noticed.
func (pc *procCluster) Err() error { return nil }

// Request returns request n as the client printed it in its status.
func (pc *procCluster) Request(n int) lab.Request {
	r, _ := pc.clientRequest(n)
	return r.req
}

func (pc *procCluster) Outcome(n int) (done, committed bool) {
	r, _ := pc.clientRequest(n)
	return r.done, r.committed
}

func (pc *procCluster) status(id lab.ID) (lab.Status, map[string]int, error) {
	pc.flush()
	block := pc.replicas[id].report("status all", func(s string) bool { return strings.HasPrefix(s, id.String()+": view ") })
	return parseStatus(block)
}

type clientRequest struct {
	req             lab.Request
	done, committed bool
}

var requestRE = regexp.MustCompile(`^  request (\d+) (\S+)#(-?\d+) (.*): (committed|rejected|aborted|waiting)`)

func (pc *procCluster) clientRequest(n int) (clientRequest, bool) {
	pc.flush()
	block := pc.client.report("status", func(s string) bool { return strings.HasPrefix(s, "client ") })
	for _, line := range block[1:] {
		m := requestRE.FindStringSubmatch(line)
		if m == nil || m[1] != strconv.Itoa(n) {
			continue
		}
		ts, _ := strconv.ParseInt(m[3], 10, 64)
		return clientRequest{
			req:       lab.Request{Client: m[2], Timestamp: ts, Op: m[4]},
			done:      m[5] != "waiting",
			committed: m[5] == "committed" || m[5] == "rejected",
		}, true
	}
	return clientRequest{}, false
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	var open []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range open {
		_ = ln.Close()
	}
	return out
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func ids(list []lab.ID) string {
	if len(list) == 0 {
		return "none"
	}
	return lab.JoinIDs(list, ",")
}

func parseUint(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%q is not a count", s)
	}
	return n
}
