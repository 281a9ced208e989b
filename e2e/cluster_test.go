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

	"pbftlab/lab"
	"pbftlab/lab/script"
)

// procCluster is a cluster of OS processes, one per replica and one for
// the client, driven through their consoles. It implements script.Cluster,
// so a case plays on it as on the simulator: each step is typed at the
// consoles it names, and waits for the network to settle.
type procCluster struct {
	t        *testing.T
	c        *script.Case
	replicas []*proc
	client   *proc
	sent     int // requests the client has sent
}

var _ script.Cluster = (*procCluster)(nil)

// startCluster starts the processes for case c on free loopback ports,
// with a fresh cluster key, and waits until every one is connected to
// every replica. The ports are free when chosen, but another program may
// take one before the process that is to listen on it starts; the start is
// then tried again on other ports.
func startCluster(t *testing.T, bin string, c *script.Case) *procCluster {
	t.Helper()
	for attempt := 1; ; attempt++ {
		pc, err := tryStartCluster(t, bin, c)
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

func tryStartCluster(t *testing.T, bin string, c *script.Case) (*procCluster, error) {
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

	pc := &procCluster{t: t, c: c}
	for i := range c.N {
		args := slices.Concat([]string{"node", fmt.Sprintf("P%d", i)}, replica)
		if i == 0 {
			args = slices.Concat([]string{"primary"}, replica)
		}
		pc.replicas = append(pc.replicas, startProc(t, fmt.Sprintf("P%d", i), bin, args...))
	}
	pc.client = startProc(t, "client", bin, slices.Concat([]string{"client"}, common)...)
	// First every banner, printed once a process listens (or its end, when
	// it cannot), then every connection.
	starts := map[*proc]*start{}
	for _, p := range pc.all() {
		starts[p] = &start{}
	}
	for _, phase := range []func(*start) bool{(*start).listening, (*start).ready} {
		for _, p := range pc.all() {
			if err := pc.awaitStart(p, starts[p], phase); err != nil {
				for _, q := range pc.all() {
					q.discard()
				}
				if errors.Is(err, errEnded) && strings.Contains(p.output(), "already in use") {
					return nil, fmt.Errorf("%s: %w", p.name, errPortTaken)
				}
				return nil, err
			}
		}
	}
	return pc, nil
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

func (pc *procCluster) all() []*proc { return append(slices.Clone(pc.replicas), pc.client) }

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
		if m["rejected"] > 0 {
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
func (pc *procCluster) settle() {
	pc.t.Helper()
	limit := time.Now().Add(waitLimit)
	prev := counts(nil)
	for {
		cur := pc.netCounts()
		if cur.balanced() && fmt.Sprint(cur) == fmt.Sprint(prev) {
			return
		}
		if time.Now().After(limit) {
			pc.t.Fatalf("the network did not settle within %v: %v", waitLimit, cur)
		}
		prev = cur
	}
}

// The script.Cluster methods.

func (pc *procCluster) N() int { return len(pc.replicas) }

func (pc *procCluster) Send(op string) int {
	if _, err := pc.client.command("send " + op); err != nil {
		pc.t.Fatalf("client: send %s: %v", op, err)
	}
	pc.sent++
	pc.settle()
	return pc.sent
}

func (pc *procCluster) Do(id lab.ID, c lab.Command) error {
	_, err := pc.replicas[id].command(c.String())
	pc.settle()
	return err
}

func (pc *procCluster) VoteTo(from, to lab.ID, op lab.Op, yes bool) error {
	vote := map[bool]string{true: "yes", false: "no"}[yes]
	if op == lab.OpAck {
		vote = map[bool]string{true: "commit", false: "abort"}[yes]
	}
	_, err := pc.replicas[from].command(fmt.Sprintf("%s to %s %s", op, to, vote))
	pc.settle()
	return err
}

func (pc *procCluster) Crash(id lab.ID) {
	if _, err := pc.replicas[id].command("crash"); err != nil {
		pc.t.Errorf("%s: crash: %v", id, err)
	}
	pc.settle()
}

func (pc *procCluster) Recover(id lab.ID) error {
	_, err := pc.replicas[id].command("recover")
	pc.settle()
	return err
}

func (pc *procCluster) Tick() {
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

// StableCheckpoints is not in what status prints; the cases played here
// do not ask for it.
func (pc *procCluster) StableCheckpoints(lab.ID) []int { return nil }

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
	block := pc.replicas[id].report("status", func(s string) bool { return strings.HasPrefix(s, id.String()+": view ") })
	return parseStatus(block)
}

type clientRequest struct {
	req             lab.Request
	done, committed bool
}

var requestRE = regexp.MustCompile(`^  request (\d+) (\S+)#(-?\d+) (.*): (committed|aborted|waiting)`)

func (pc *procCluster) clientRequest(n int) (clientRequest, bool) {
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
			committed: m[5] == "committed",
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
