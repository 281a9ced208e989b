package cli

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

// idle is a replica that does nothing at all, so that a case run with it
// fails its expectations.
type idle struct{ id lab.ID }

func newIdle(cfg lab.Config, _ lab.Env) lab.Replica { return idle{cfg.ID} }
func (idle) Receive(lab.ID, lab.Message)            {}
func (idle) Tick()                                  {}
func (idle) Do(lab.Command) error                   { return nil }
func (i idle) Status() lab.Status                   { return lab.Status{ID: i.id} }

func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(newIdle, args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{args: nil, code: 2, stderr: "usage: pbft COMMAND"},
		{args: []string{"help"}, code: 0, stdout: "node ID PORT"},
		{args: []string{"-h"}, code: 0, stdout: "cluster"},
		{args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		{args: []string{"primary", "-h"}, code: 0, stderr: "usage: pbft primary"},
		{args: []string{"node", "-h"}, code: 0, stderr: "-manual"},
		{args: []string{"client", "-h"}, code: 0, stderr: "-retry"},
		{args: []string{"cluster", "-h"}, code: 0, stderr: "-byzantine"},
		{args: []string{"run", "-h"}, code: 0, stderr: "usage: pbft run CASEFILE"},
		{args: []string{"json", "-h"}, code: 0, stderr: "usage: pbft json"},
		{args: []string{"primary", "extra"}, code: 2, stderr: "takes no arguments"},
		{args: []string{"node"}, code: 2, stderr: "want node ID [PORT]"},
		{args: []string{"node", "Q1", "5001"}, code: 2, stderr: "not a replica name"},
		{args: []string{"node", "P1", "port"}, code: 2, stderr: `"port" is not a port number`},
		{args: []string{"node", "P1", "0"}, code: 2, stderr: "port 0 is not a port the others can find"},
		{args: []string{"primary", "-port", "0"}, code: 2, stderr: "port 0 is not a port the others can find"},
		{args: []string{"node", "P7", "5007"}, code: 2, stderr: "P7 is not a replica of this 4-replica cluster"},
		{args: []string{"node", "P1", "5001", "-byzantine", "P1,P2"}, code: 2, stderr: "tolerate only 1"},
		{args: []string{"node", "P1", "5001", "-balances", "alice"}, code: 2, stderr: "want ACCOUNT=AMOUNT"},
		{args: []string{"node", "P1", "5001", "-nonsense"}, code: 2, stderr: "flag provided but not defined"},
		{args: []string{"node", "P1", "5001", "-manul"}, code: 2, stderr: "flag provided but not defined: -manul: did you mean -manual?"},
		{args: []string{"node", "P1", "5001", "-tick", "5"}, code: 2, stderr: "(a duration, as 100ms, 2s or 0)"},
		{args: []string{"node", "P1", "5001", "-window", "x"}, code: 2, stderr: "(a whole number)"},
		{args: []string{"node", "P1", "5001", "-tick", "-1s"}, code: 2, stderr: "-tick -1s: cannot be negative (0 stops the clock)"},
		{args: []string{"node", "P1", "5001", "-checkpoint-interval", "-5"}, code: 2, stderr: "-checkpoint-interval -5: cannot be negative"},
		{args: []string{"primary", "-window", "5"}, code: 2, stderr: "-window 5 is below the checkpoint interval 100"},
		{args: []string{"cluster", "-checkpoint-interval", "300"}, code: 2, stderr: "-window 200 is below the checkpoint interval 300"},
		{args: []string{"client", "-retry", "-1s"}, code: 2, stderr: "-retry -1s: cannot be negative"},
		{args: []string{"json", "-tick", "-1s"}, code: 2, stderr: "-tick -1s: cannot be negative (0 stops the clock)"},
		{args: []string{"client", "1", "2"}, code: 2, stderr: "want client [PORT]"},
		{args: []string{"run"}, code: 2, stderr: "want run CASEFILE"},
		{args: []string{"run", "no/such.case"}, code: 1, stderr: "no such file"},
		{args: []string{"json", "x"}, code: 2, stderr: "takes no arguments"},
		{args: []string{"node", "P1", "5001", "-peers", "no/such/file"}, code: 1, stderr: "peers file"},
		{args: []string{"node", "P1", "5001", "-key", "no/such/file"}, code: 1, stderr: "cluster key"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := run(t, "", tc.args...)
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", stdout, stderr)
			assert.Contains(t, stdout, tc.stdout)
			assert.Contains(t, stderr, tc.stderr)
		})
	}
}

func TestPortInUseIsReportedClearly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	for _, args := range [][]string{{"node", "P1", port}, {"client", port}} {
		code, _, stderr := run(t, "quit\n", args...)
		assert.Equal(t, 1, code)
		assert.Contains(t, stderr, "already in use")
	}
}

// TestReplicaConsoleOverAPipe starts a replica whose peers are not running,
// drives its console from a reader, and quits.
func TestReplicaConsoleOverAPipe(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := run(t, "status\nbogus\nprepare to P1 yes\nquit\n",
		"node", "P2", "-peers", writePeers(t, dir), "-dir", dir, "-tick", "0")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "P2 (replica) listening on 127.0.0.1:")
	assert.Contains(t, stdout, "P2: view 0, primary P0")
	assert.Contains(t, stdout, `error: unknown command "bogus"`)
	assert.Contains(t, stdout, "error: only a Byzantine replica sends a vote to a single replica")
}

func TestClientConsoleOverAPipe(t *testing.T) {
	code, stdout, stderr := run(t, "send account=alice,amount=5,operation=deposit\nsend nothing\nstatus\n",
		"client", "0", "-peers", writePeers(t, t.TempDir()))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "ok: sent request 1: account=alice,amount=5,operation=deposit")
	assert.Contains(t, stdout, "error: not sent: client: want")
	assert.Contains(t, stdout, "request 1 client")
	assert.Contains(t, stdout, "waiting; replies from none")
}

// TestRunReportsFailedExpectations replays a case with replicas that do
// nothing: the run completes, says which expectations fail, and exits 1.
func TestRunReportsFailedExpectations(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "deposit.case")
	require.NoError(t, os.WriteFile(file, []byte(`title: deposit
points: 1
phases: pre-prepare
balances: alice=0
votes: manual

client: send account=alice,amount=100,operation=deposit
P0: tx
P1, P2: prepare yes

expect P0, P1: balance alice=100
`), 0o644))
	code, stdout, stderr := run(t, "", "run", file)
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stdout, "P1 (replica), P2 (replica): prepare yes")
	assert.Contains(t, stdout, "expected balance alice=100, found balance alice=0")
	assert.Contains(t, stdout, "FAIL: 2 of the case's check and expect lines do not hold")

	require.NoError(t, os.WriteFile(file, []byte("title: broken\n"), 0o644))
	code, _, stderr = run(t, "", "run", file)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "deposit.case:1")
}

func TestJSONMode(t *testing.T) {
	code, stdout, stderr := run(t, `{"src":"c0","dest":"n0","body":{"type":"init","msg_id":1,"node_id":"n0","node_ids":["n0","n1","n2","n3"]}}`+"\n", "json")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, `"init_ok"`)
}

func TestBalancesAndByzantineFlags(t *testing.T) {
	var b balancesFlag
	require.NoError(t, b.Set("alice=100, bob=0"))
	assert.Equal(t, balancesFlag{"alice": 100, "bob": 0}, b)
	assert.Error(t, b.Set("alice=-1"))
	assert.Error(t, b.Set("=5"))

	var ids idsFlag
	require.NoError(t, ids.Set("P2,3"))
	assert.Equal(t, idsFlag{2, 3}, ids)
	require.NoError(t, ids.Set("none"))
	assert.Empty(t, ids)
	assert.Error(t, ids.Set("client"))
}

// writePeers writes a peers file of free loopback ports, none listening.
func writePeers(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	for i := range 4 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		b.WriteString(lab.ID(i).String() + " " + ln.Addr().String() + "\n")
		require.NoError(t, ln.Close())
	}
	file := filepath.Join(dir, "peers")
	require.NoError(t, os.WriteFile(file, []byte(b.String()), 0o644))
	return file
}

// TestStayRunsOnAfterItsInput checks -stay: the end of the input leaves the
// replica running until it is interrupted.
func TestStayRunsOnAfterItsInput(t *testing.T) {
	r, w := io.Pipe()
	done := make(chan int)
	go func() {
		done <- Run(newIdle, []string{"node", "P1", "-stay", "-tick", "0", "-peers", writePeers(t, t.TempDir())}, strings.NewReader(""), w, io.Discard)
		_ = w.Close()
	}()
	sc := bufio.NewScanner(r)
	for sc.Scan() && !strings.Contains(sc.Text(), "running on without a console") {
	}
	select {
	case <-done:
		t.Fatal("the replica left at the end of its input")
	default:
	}
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGINT))
	for sc.Scan() {
		if strings.Contains(sc.Text(), "interrupt: stopping") {
			break
		}
	}
	// Keep reading: the node may still have something to say (a peer it
	// cannot reach) while it closes, and a pipe nobody reads blocks it.
	go func() { _, _ = io.Copy(io.Discard, r) }()
	assert.Equal(t, 0, <-done)
}

// A checkpoint folder that cannot be one is refused at the start, not at
// every write.
func TestBadDirIsRefusedAtTheStart(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "afile")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	peers := writePeers(t, dir)
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{args: []string{"node", "P1", "-dir", file}, code: 2, stderr: "-dir " + file + ": " + file + " is not a directory"},
		{args: []string{"primary", "-dir", filepath.Join(file, "sub", "dir")}, code: 2, stderr: file + " is not a directory"},
		{args: []string{"cluster", "-dir", file}, code: 2, stderr: "is not a directory"},
		{args: []string{"node", "P1", "-tick", "0", "-dir", filepath.Join(dir, "new", "folder")}, code: 0},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := run(t, "quit\n", append(tc.args, "-peers", peers)...)
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", stdout, stderr)
			assert.Contains(t, stderr, tc.stderr)
		})
	}
}

// Two replicas started with different settings refuse each other, and
// each says which setting differs and which flag sets it.
func TestReplicasWithDifferentSettingsSaySo(t *testing.T) {
	dir := t.TempDir()
	peers := writePeers(t, dir)
	type replica struct {
		in    *io.PipeWriter
		lines chan string // every line of its output, read as it comes
		done  chan int
	}
	start := func(id string, flags ...string) replica {
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		r := replica{in: inW, lines: make(chan string, 1000), done: make(chan int, 1)}
		args := append([]string{"node", id, "-peers", peers, "-dir", dir, "-tick", "0"}, flags...)
		go func() {
			r.done <- Run(newIdle, args, inR, outW, io.Discard)
			_ = outW.Close()
		}()
		go func() {
			defer close(r.lines)
			sc := bufio.NewScanner(outR)
			for sc.Scan() {
				select {
				case r.lines <- sc.Text():
				default: // nobody waits for it any more
				}
			}
		}()
		return r
	}
	awaitLine := func(r replica, want string) {
		t.Helper()
		for line := range r.lines {
			if strings.Contains(line, want) {
				return
			}
		}
		t.Fatalf("the replica's output ended without %q", want)
	}
	p1 := start("P1", "-checkpoint-interval", "10")
	p2 := start("P2", "-balances", "alice=100")
	awaitLine(p1, "-- P2 runs with checkpoint interval 100, this replica with 10: start every process with the same --checkpoint-interval")
	awaitLine(p2, "-- P1 runs with checkpoint interval 10, this replica with 100: start every process with the same --checkpoint-interval")
	for _, r := range []replica{p1, p2} {
		_, _ = io.WriteString(r.in, "quit\n")
		assert.Equal(t, 0, <-r.done)
	}
}
