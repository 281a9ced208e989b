package console

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
	"pbftlab/runtime/tcp"
)

// fakeReplica records what a console asks of it.
type fakeReplica struct {
	id      lab.ID
	calls   []string
	fail    error // returned by Do
	crashed bool
	manual  bool
}

func (f *fakeReplica) ID() lab.ID          { return f.id }
func (f *fakeReplica) N() int              { return 4 }
func (f *fakeReplica) Peers() tcp.Peers    { return tcp.DefaultPeers(4) }
func (f *fakeReplica) Byzantine() []lab.ID { return []lab.ID{3} }
func (f *fakeReplica) Manual() bool        { return f.manual }
func (f *fakeReplica) Do(c lab.Command) error {
	f.calls = append(f.calls, "do "+c.String())
	return f.fail
}
func (f *fakeReplica) VoteTo(to lab.ID, op lab.Op, yes bool) error {
	f.calls = append(f.calls, fmt.Sprintf("vote %s to %s %v", op, to, yes))
	return nil
}
func (f *fakeReplica) Crash() error { f.calls = append(f.calls, "crash"); f.crashed = true; return nil }
func (f *fakeReplica) Recover() error {
	f.calls = append(f.calls, "recover")
	f.crashed = false
	return nil
}
func (f *fakeReplica) Tick() error   { f.calls = append(f.calls, "tick"); return nil }
func (f *fakeReplica) Crashed() bool { return f.crashed }
func (f *fakeReplica) Status() (lab.Status, error) {
	return lab.Status{ID: f.id, View: 1, Primary: 1, LastExecuted: 2}, nil
}
func (f *fakeReplica) Balances() map[string]int { return map[string]int{"alice": 100} }
func (f *fakeReplica) Links() []tcp.LinkInfo {
	return []tcp.LinkInfo{{Peer: 0, Addr: "127.0.0.1:5000", Outbound: true, Up: true}, {Peer: 2, Addr: "127.0.0.1:5002", Outbound: true, Err: "connection refused"}}
}
func (f *fakeReplica) Sent() map[string]uint64 {
	return map[string]uint64{"P0": 3, "client": 1, "P2": 2}
}
func (f *fakeReplica) Handled() map[string]uint64 { return map[string]uint64{"P0": 4} }
func (f *fakeReplica) Rejected() uint64           { return 0 }

func TestReplicaCommand(t *testing.T) {
	for _, tc := range []struct {
		line  string
		calls []string
		text  string // a piece of what is printed
		err   string // a piece of the error
		quit  bool
	}{
		{line: "prepare yes", calls: []string{"do prepare yes"}, text: "ok: prepare yes"},
		{line: "Prepare   NO", calls: []string{"do prepare no"}, text: "ok: Prepare NO"},
		{line: "ack commit", calls: []string{"do ack commit"}},
		{line: "ack abort", calls: []string{"do ack abort"}},
		{line: "prepare to P1 no", calls: []string{"vote prepare to P1 false"}},
		{line: "ack to P2 commit", calls: []string{"vote ack to P2 true"}},
		{line: "tx", calls: []string{"do tx"}},
		{line: "tx account=bob,amount=5,operation=deposit", calls: []string{"do tx account=bob,amount=5,operation=deposit"}},
		{line: "progress", calls: []string{"do progress"}},
		{line: "view change", calls: []string{"do view change"}},
		{line: "checkpoint", calls: []string{"do checkpoint"}},
		{line: "crash", calls: []string{"crash"}},
		{line: "recover", calls: []string{"recover"}},
		{line: "tick", calls: []string{"tick"}, text: "1 tick"},
		{line: "tick 3", calls: []string{"tick", "tick", "tick"}},
		{line: "status", text: "P1: view 1, primary P1, executed up to n2"},
		{line: "list", text: "P1 (primary) at 127.0.0.1:5001: this replica\n  P2 (replica) at 127.0.0.1:5002: not connected\n  P3 (replica, Byzantine)"},
		{line: "net", text: "messages: sent P0=3 P2=2 client=1; handled P0=4; rejected 0"},
		{line: "help", text: "view change"},
		{line: "quit", quit: true},
		{line: "exit", quit: true},
		{line: "bogus", err: `unknown command "bogus"`},
		{line: "prepare maybe", err: `want "prepare yes"`},
		{line: "prepare to client yes", err: "want"},
		{line: "ack to P1", err: "want"},
		{line: "tx account=bob", err: "no amount"},
		{line: "tick many", err: "not a number of ticks"},
		{line: "tick 0", err: "not a number of ticks"},
		{line: "net now", err: "no argument"},
		{line: "send account=alice,amount=1,operation=deposit", err: "client's command"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			r := &fakeReplica{id: 1}
			text, quit, err := ReplicaCommand(r, tc.line)
			assert.Equal(t, tc.quit, quit)
			assert.Equal(t, tc.calls, r.calls)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.Empty(t, r.calls, "a bad line does nothing")
				return
			}
			require.NoError(t, err)
			assert.Contains(t, text, tc.text)
		})
	}
}

func TestReplicaRefusalIsShown(t *testing.T) {
	r := &fakeReplica{id: 2, fail: errors.New("no pre-prepared request is waiting")}
	_, _, err := ReplicaCommand(r, "prepare yes")
	assert.EqualError(t, err, "no pre-prepared request is waiting")
}

func TestStatusShowsACrash(t *testing.T) {
	r := &fakeReplica{id: 2, crashed: true}
	assert.Contains(t, StatusReport(r, false), "crashed")
}

// TestHelpNamesEveryLabCommand checks help against the original lab's
// command list.
func TestHelpNamesEveryLabCommand(t *testing.T) {
	for _, cmd := range []string{"status", "list", "tx", "prepare yes", "prepare no", "prepare to PX", "ack commit", "ack abort", "ack to PX", "progress", "crash", "recover", "view change", "checkpoint", "quit", "help"} {
		assert.Contains(t, replicaHelp, cmd)
	}
	for _, cmd := range []string{"send", "status", "quit", "help"} {
		assert.Contains(t, clientHelp, cmd)
	}
	for _, cmd := range []string{"client: send", "P1, P2: prepare yes", "tick:", "quit"} {
		assert.Contains(t, clusterHelp, cmd)
	}
}

// TestRunReplica drives a console as a script would: errors take one line
// and the console goes on; quit ends it; what follows is not read.
func TestRunReplica(t *testing.T) {
	r := &fakeReplica{id: 1}
	in := strings.NewReader("# a comment\n\nprepare yes\nfly away\n  progress  \nquit\nack commit\n")
	var out bytes.Buffer
	require.NoError(t, RunReplica(NewReplicaConsole(r, nil), in, NewOut(&out), ""))
	assert.Equal(t, []string{"do prepare yes", "do progress"}, r.calls)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 4, out.String())
	assert.Equal(t, "ok: quit: leaving", lines[3], "quit is acknowledged")
	assert.Equal(t, "ok: prepare yes", lines[0])
	assert.True(t, strings.HasPrefix(lines[1], `error: unknown command "fly away"`), lines[1])
	assert.Equal(t, "ok: progress", lines[2])
}

func TestRunReplicaEndsWithItsInput(t *testing.T) {
	r := &fakeReplica{id: 1}
	var out bytes.Buffer
	require.ErrorIs(t, RunReplica(NewReplicaConsole(r, nil), strings.NewReader("crash"), NewOut(&out), "P1> "), ErrEndOfInput)
	assert.Equal(t, []string{"crash"}, r.calls)
	assert.Equal(t, "P1> ok: crash\nP1> ", out.String(), "a prompt before each line")
}

type fakeClient struct{ sent []string }

func (f *fakeClient) Name() string { return "client7000" }
func (f *fakeClient) Send(op string) int {
	f.sent = append(f.sent, op)
	return len(f.sent)
}
func (f *fakeClient) Requests() []tcp.RequestInfo {
	var out []tcp.RequestInfo
	for i, op := range f.sent {
		out = append(out, tcp.RequestInfo{N: i + 1, Request: lab.Request{Client: "client7000", Timestamp: int64(i + 1), Op: op}})
	}
	return out
}
func (f *fakeClient) View() int                  { return 0 }
func (f *fakeClient) Links() []tcp.LinkInfo      { return nil }
func (f *fakeClient) Sent() map[string]uint64    { return nil }
func (f *fakeClient) Handled() map[string]uint64 { return nil }
func (f *fakeClient) Rejected() uint64           { return 0 }

func TestClientCommand(t *testing.T) {
	const op = "account=alice,amount=100,operation=deposit"
	for _, tc := range []struct {
		line string
		sent []string
		text string
		err  string
		quit bool
	}{
		{line: "send " + op, sent: []string{op}, text: "ok: sent request 1"},
		{line: "tx " + op, sent: []string{op}},
		{line: op, sent: []string{op}},
		{line: "send " + op + " times 3", sent: []string{op, op, op}, text: "ok: sent requests 1 to 3"},
		{line: "send account=alice,amount=-5,operation=deposit", err: "not sent: client: want"},
		{line: "send account=alice,amount=0,operation=deposit", err: "amount 0 is not a positive whole number"},
		{line: "send account=alice,amount=5,operation=steal", err: `unknown operation "steal"`},
		{line: "list", text: "client client7000"},
		{line: "send account=alice,amount=lots,operation=deposit", err: "not a whole number"},
		{line: "send " + op + " times -1", err: "times"},
		{line: "send", err: "client: want"},
		{line: "status", text: "client client7000: view 0, 0 requests"},
		{line: "net", text: "messages: sent none; handled none"},
		{line: "help", text: "send account="},
		{line: "quit", quit: true},
		{line: "foo", err: `unknown command "foo": the client takes send`},
		{line: "send account=alice, amount=100 ,operation=deposit", sent: []string{op}},
		{line: "send " + op + " times 6000", err: "at most 5000 requests"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			c := &fakeClient{}
			text, quit, err := ClientCommand(c, tc.line)
			assert.Equal(t, tc.quit, quit)
			assert.Equal(t, tc.sent, c.sent)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Contains(t, text, tc.text)
		})
	}
}

type fakeCluster struct {
	replicas []*fakeReplica
	client   *fakeClient
}

func newFakeCluster() *fakeCluster {
	c := &fakeCluster{client: &fakeClient{}}
	for i := range 4 {
		c.replicas = append(c.replicas, &fakeReplica{id: lab.ID(i)})
	}
	return c
}

func (c *fakeCluster) N() int                    { return 4 }
func (c *fakeCluster) Replica(id lab.ID) Replica { return c.replicas[id] }
func (c *fakeCluster) Client() Client            { return c.client }
func (c *fakeCluster) Settle() error             { return nil }

func TestClusterCommand(t *testing.T) {
	for _, tc := range []struct {
		line  string
		calls map[lab.ID][]string
		sent  int
		text  string
		quit  bool
	}{
		{line: "P1, P2: prepare yes", calls: map[lab.ID][]string{1: {"do prepare yes"}, 2: {"do prepare yes"}}, text: "P2: ok: prepare yes"},
		{line: "P0 (primary): tx", calls: map[lab.ID][]string{0: {"do tx"}}},
		{line: "P3 (replica, Byzantine): prepare to P1 no", calls: map[lab.ID][]string{3: {"vote prepare to P1 false"}}},
		{line: "p1: crash", calls: map[lab.ID][]string{1: {"crash"}}},
		{line: "client: send account=alice,amount=100,operation=deposit", sent: 1, text: "client: ok: sent request 1"},
		{line: "client: status", text: "client: client client7000"},
		{line: "tick: 2", calls: map[lab.ID][]string{0: {"tick", "tick"}, 1: {"tick", "tick"}, 2: {"tick", "tick"}, 3: {"tick", "tick"}}, text: "ok: 2 tick(s)"},
		{line: "P1: net", text: "P1: links:"},
		{line: "P2: status", text: "P2: view 1"},
		{line: "status", text: "P3: view 1"},
		{line: "P9: status", text: "error: P9 is not a replica"},
		{line: "P1: bogus", text: `error: unknown command "bogus"`},
		{line: "P1: quit", text: "error: quit leaves the whole cluster console"},
		{line: "Q1: progress", text: "error:"},
		{line: "client: withdraw", text: "client: error:"},
		{line: "hello", text: `error: want "TARGETS: COMMAND"`},
		{line: "help", text: "TARGETS: COMMAND"},
		{line: "quit", quit: true},
	} {
		t.Run(tc.line, func(t *testing.T) {
			c := newFakeCluster()
			var out bytes.Buffer
			quit := ClusterCommand(c, tc.line, NewOut(&out))
			assert.Equal(t, tc.quit, quit)
			for i, r := range c.replicas {
				assert.Equal(t, tc.calls[lab.ID(i)], r.calls, "at P%d", i)
			}
			assert.Len(t, c.client.sent, tc.sent)
			assert.Contains(t, out.String(), tc.text)
		})
	}
}
