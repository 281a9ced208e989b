package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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
		{line: "prepare to P1 no", calls: []string{"vote prepare to P1 false"}, text: "ok: prepare to P1 no (sent twice, as the cases send a Byzantine vote: P1 must count it once)"},
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
		{line: "checkpoint 5", err: "checkpoint takes no argument: type checkpoint alone"},
		{line: "quit now", err: "quit takes no argument"},
		{line: "help me", err: "help takes no argument"},
		{line: "list 3", err: "list takes no argument"},
		{line: "progress now", err: "progress takes no argument"},
		{line: "crash P1", err: "crash takes no argument"},
		{line: "data x", err: "data takes no argument: type data alone (at the primary, tx opens a data> prompt"},
		{line: "status al", err: "want status, or status all"},
		{line: "stauts", err: `unknown command "stauts": did you mean status? (commands: tx, prepare yes|no, ack commit|abort, progress, crash, recover, view change, checkpoint, status [all], data, list, net, tick [N], help, quit)`},
		{line: "progres", err: "did you mean progress?"},
		{line: "veiw change", err: "did you mean view change?"},
		{line: "view chnage", err: `want "view change"`},
		{line: "lie in checkpoints", err: "lie is a command of the case files, played by the grader's simulator, not at a console"},
		{line: "withhold PREPARE from P1", err: "withhold is a command of the case files"},
		{line: "stop lying", err: "stop is a command of the case files"},
		{line: "send PREPARE v0 n1 yes to P1", err: "send KIND ... to PX is a command of the case files"},
		{line: "tx account=bob,amount=5,operation=deposit to P1", err: "tx ... to PX is a command of the case files"},
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

// The unknown-command error lists the commands the console takes, the
// single-replica votes only where they work, and stays one short line
// whatever was typed.
func TestUnknownCommandListsWhatWorks(t *testing.T) {
	for _, tc := range []struct {
		id         lab.ID
		line       string
		has, hasNo []string
	}{
		{id: 1, line: "bogus", has: []string{"status [all]", "net", "help", "quit"}, hasNo: []string{"prepare to PX", "lie", "withhold", "send KIND"}},
		{id: 3, line: "bogus", has: []string{"prepare to PX yes|no, ack to PX commit|abort"}, hasNo: []string{"lie", "withhold"}},
		{id: 1, line: "\x00\x01\xfe" + strings.Repeat("garbage\x07", 5000), has: []string{`unknown command "\x00\x01\xfe`, `..."`}},
	} {
		_, _, err := ReplicaCommand(&fakeReplica{id: tc.id}, tc.line)
		require.Error(t, err)
		for _, want := range tc.has {
			assert.Contains(t, err.Error(), want)
		}
		for _, unwanted := range tc.hasNo {
			assert.NotContains(t, err.Error(), unwanted)
		}
		assert.Less(t, len(err.Error()), 300, err.Error())
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

// A line of any length costs that line only: one short error, and the
// console goes on, at a replica and at the client alike.
func TestLongLinesCostThatLineOnly(t *testing.T) {
	tooLong := func(n int) string {
		return fmt.Sprintf("error: line too long: %d bytes, at most %d; ignored", n, MaxLine)
	}
	for _, tc := range []struct {
		name string
		line string
		want string // the answer to line
	}{
		{"one byte too long", strings.Repeat("y", MaxLine+1), tooLong(MaxLine + 1)},
		{"many times too long", strings.Repeat("z", 3*MaxLine+7), tooLong(3*MaxLine + 7)},
		{"too long, with a carriage return", strings.Repeat("z", MaxLine+5) + "\r", tooLong(MaxLine + 5)},
		{"the longest line carried out", strings.Repeat("q", MaxLine), `error: unknown command "` + strings.Repeat("q", maxQuoted) + `..."`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &fakeReplica{id: 1}
			var out bytes.Buffer
			err := RunReplica(NewReplicaConsole(r, nil), strings.NewReader("crash\n"+tc.line+"\nrecover\n"), NewOut(&out), "")
			require.ErrorIs(t, err, ErrEndOfInput)
			assert.Equal(t, []string{"crash", "recover"}, r.calls, "the lines around it are carried out")
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			require.Len(t, lines, 3, out.String())
			assert.True(t, strings.HasPrefix(lines[1], tc.want), lines[1])
			assert.Less(t, len(lines[1]), 400, "the error does not repeat the line")

			out.Reset()
			c := newFakeClient()
			err = RunClient(NewClientConsole(c, nil), strings.NewReader(tc.line+"\nsend account=a,amount=1,operation=deposit\n"), NewOut(&out), "")
			require.ErrorIs(t, err, ErrEndOfInput)
			assert.Len(t, c.sent, 1, "the client carries on")
			assert.True(t, strings.HasPrefix(out.String(), tc.want), out.String()[:min(out.Len(), 200)])
		})
	}
}

func TestLineReader(t *testing.T) {
	type line struct {
		text string
		n    int
	}
	for _, tc := range []struct {
		in   string
		max  int
		want []line
	}{
		{in: "", max: 10},
		{in: "a\nbc\n", max: 10, want: []line{{"a", 1}, {"bc", 2}}},
		{in: "a\r\nbc", max: 10, want: []line{{"a", 1}, {"bc", 2}}},
		{in: "\n\nx", max: 10, want: []line{{"", 0}, {"", 0}, {"x", 1}}},
		{in: "0123456789\n01234567890\nok\n", max: 10, want: []line{{"0123456789", 10}, {"", 11}, {"ok", 2}}},
		{in: "0123456789012\r\n", max: 10, want: []line{{"", 13}}},
		{in: strings.Repeat("x", 200000) + "\nok", max: 1000, want: []line{{"", 200000}, {"ok", 2}}},
	} {
		lr := newLineReader(strings.NewReader(tc.in), tc.max)
		var got []line
		for {
			text, n, err := lr.next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			got = append(got, line{text, n})
		}
		assert.Equal(t, tc.want, got, "%.40q", tc.in)
	}
}

// fakeClient records the requests sent; a test gives them outcomes with
// decide.
type fakeClient struct {
	mu       sync.Mutex
	sent     []string
	outcomes map[int]tcp.Outcome
	changed  chan struct{} // closed, and made anew, when sent or outcomes change
}

func newFakeClient() *fakeClient { return &fakeClient{changed: make(chan struct{})} }

func (f *fakeClient) Name() string { return "client7000" }
func (f *fakeClient) Send(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, op)
	f.change()
	return len(f.sent)
}

// change wakes whoever waits on the client; mu is held.
func (f *fakeClient) change() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// decide gives request n its outcome.
func (f *fakeClient) decide(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.outcomes == nil {
		f.outcomes = map[int]tcp.Outcome{}
	}
	f.outcomes[n] = tcp.Outcome{Committed: true, Result: "ok"}
	f.change()
}

func (f *fakeClient) Outcome(n int) (tcp.Outcome, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.outcomes[n]
	return o, ok
}

func (f *fakeClient) Wait(ctx context.Context, n int) (tcp.Outcome, error) {
	for {
		f.mu.Lock()
		o, ok := f.outcomes[n]
		changed := f.changed
		f.mu.Unlock()
		if ok {
			return o, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return tcp.Outcome{}, ctx.Err()
		}
	}
}

// awaitSent waits until k requests have been sent, and returns them.
func (f *fakeClient) awaitSent(t *testing.T, k int) []string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		f.mu.Lock()
		sent, changed := slices.Clone(f.sent), f.changed
		f.mu.Unlock()
		if len(sent) >= k {
			return sent
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%d requests sent, not %d", len(sent), k)
		}
	}
}

func (f *fakeClient) Requests() []tcp.RequestInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []tcp.RequestInfo
	for i, op := range f.sent {
		info := tcp.RequestInfo{N: i + 1, Request: lab.Request{Client: "client7000", Timestamp: int64(i + 1), Op: op}}
		if o, ok := f.outcomes[i+1]; ok {
			info.Outcome = &o
		}
		out = append(out, info)
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
		{line: "send " + op + " times 3", sent: []string{op}, text: "ok: sent request 1, queued requests 2 to 3: " + op + " (each sent when the request before it has its outcome; one line when all are decided)"},
		{line: "send " + op + " times 2", sent: []string{op}, text: "ok: sent request 1, queued request 2: " + op},
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
		{line: "foo", err: `unknown command "foo" (commands: send OPERATION [times N] (or the operation alone), status, list, net, help, quit)`},
		{line: "sned " + op, err: `unknown command "sned account=alice,amount=100,op...": did you mean send?`},
		{line: "stauts", err: "did you mean status?"},
		{line: "quit now", err: "quit takes no argument: type quit alone"},
		{line: "status all", err: "status takes no argument"},
		{line: "help me", err: "help takes no argument"},
		{line: "send account=alice, amount=100 ,operation=deposit", sent: []string{op}},
		{line: "send " + op + " times 6000", err: "at most 5000 requests"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			c := newFakeClient()
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
	c := &fakeCluster{client: newFakeClient()}
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

// settlingCluster is a fake cluster whose network, as it settles, gives
// every request sent its outcome.
type settlingCluster struct{ *fakeCluster }

func (c settlingCluster) Settle() error {
	c.client.mu.Lock()
	sent := len(c.client.sent)
	c.client.mu.Unlock()
	for n := 1; n <= sent; n++ {
		c.client.decide(n)
	}
	return nil
}

// The cluster console takes a line as done once the network settles; the
// requests of a send line go out one at a time, each when the one before
// it has its outcome, so it also waits for those.
func TestRunClusterWaitsForTheQueuedRequests(t *testing.T) {
	c := settlingCluster{newFakeCluster()}
	cc := NewClusterConsole(c, nil, nil, nil)
	defer cc.Close()
	var out bytes.Buffer
	err := RunCluster(cc, strings.NewReader("client: send account=a,amount=1,operation=deposit times 3\nclient: status\n"), NewOut(&out), "")
	require.ErrorIs(t, err, ErrEndOfInput)
	assert.Contains(t, out.String(), "client: client client7000: view 0, 3 requests\n"+
		"client:   request 1 client7000#1 account=a,amount=1,operation=deposit: committed (ok); replies from none\n"+
		"client:   request 2 client7000#2 account=a,amount=1,operation=deposit: committed (ok); replies from none\n"+
		"client:   request 3 client7000#3 account=a,amount=1,operation=deposit: committed (ok); replies from none\n")
}

// fakeNetwork is a Network with fixed links and no traffic.
type fakeNetwork []tcp.LinkInfo

func (f fakeNetwork) Links() []tcp.LinkInfo    { return f }
func (fakeNetwork) Sent() map[string]uint64    { return nil }
func (fakeNetwork) Handled() map[string]uint64 { return nil }
func (fakeNetwork) Rejected() uint64           { return 0 }

// net says which links send datagrams besides their connection, and which
// gave them up; a link that is down says nothing of them.
func TestNetReportSaysWhichLinksSendDatagrams(t *testing.T) {
	report := NetReport(fakeNetwork{
		{Peer: 1, Addr: "127.0.0.1:5001", Outbound: true, Up: true, Datagrams: "datagrams"},
		{Peer: 2, Addr: "127.0.0.1:5002", Outbound: true, Up: true, Datagrams: "datagrams given up", Queued: 3},
		{Peer: 3, Addr: "127.0.0.1:5003", Outbound: true, Datagrams: "datagrams"},
		{Peer: lab.Client, Name: "alice", Addr: "127.0.0.1:40000", Up: true, Datagrams: "datagrams"},
	})
	assert.Equal(t, []string{
		"links:",
		"  to P1 at 127.0.0.1:5001: up, datagrams",
		"  to P2 at 127.0.0.1:5002: up, datagrams given up, 3 queued",
		"  to P3 at 127.0.0.1:5003: down",
		"  from client alice at 127.0.0.1:40000: up, datagrams",
	}, strings.Split(report, "\n")[:5])
}
