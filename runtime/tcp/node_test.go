package tcp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
	"pbftlab/wire"
)

// fake is a replica that records what it gets: the primary broadcasts a
// pre-prepare for each request, a backup answers a pre-prepare with a
// prepare to everyone.
type fake struct {
	cfg       lab.Config
	env       lab.Env
	got       []string
	recovered int
	ticks     int
	// view is the view the replica is in, or asks for when changing.
	view     int
	changing bool
	// viewChanges counts the view change commands.
	viewChanges int
}

func newFake(cfg lab.Config, env lab.Env) lab.Replica { return &fake{cfg: cfg, env: env} }

func (f *fake) Receive(from lab.ID, m lab.Message) {
	f.got = append(f.got, fmt.Sprintf("%s %s", from, lab.KindOf(m)))
	switch m := m.(type) {
	case *lab.Request:
		if f.cfg.ID == 0 {
			f.env.Broadcast(&lab.PrePrepare{Seq: 1, Digest: lab.Digest(m), Request: m})
		}
	case *lab.PrePrepare:
		f.env.Broadcast(&lab.Prepare{Seq: m.Seq, Digest: m.Digest, Replica: f.cfg.ID, Yes: true})
	}
}

func (f *fake) Tick() { f.ticks++ }

func (f *fake) Do(c lab.Command) error {
	switch {
	case c.Op == lab.OpRecover:
		f.recovered++
	case c.Op == lab.OpViewChange:
		f.viewChanges++
		f.view, f.changing = f.view+1, true
	case c.Op == lab.OpPropose && c.Arg == "panic":
		var votes []int
		_ = votes[len(f.got)] // out of range: the kind of bug student code has
	case c.Op == lab.OpPropose:
		r := &lab.Request{Client: "console", Timestamp: 1, Op: c.Arg}
		f.env.Broadcast(&lab.PrePrepare{Seq: 1, Digest: lab.Digest(r), Request: r})
	default:
		return errors.New("not supported")
	}
	return nil
}

func (f *fake) Status() lab.Status {
	return lab.Status{ID: f.cfg.ID, View: f.view, Primary: lab.Primary(f.view, f.cfg.N), ViewChanging: f.changing}
}

// look reads replica id's fake on its own goroutine.
func look(t *testing.T, c *Cluster, id lab.ID) fake {
	t.Helper()
	var f fake
	n := c.Nodes[id]
	require.NoError(t, n.call(func() error {
		f = *n.replica.(*fake)
		f.got = append([]string(nil), f.got...)
		return nil
	}))
	return f
}

func fakeCluster(t *testing.T, cfg ClusterConfig) *Cluster {
	t.Helper()
	cfg.New = newFake
	c, err := StartCluster(cfg)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func TestCrashedNodeHandlesAndSendsNothing(t *testing.T) {
	c := fakeCluster(t, ClusterConfig{NoClient: true})
	require.NoError(t, c.Nodes[1].Crash())
	assert.Error(t, c.Nodes[1].Crash(), "crashing twice")
	assert.ErrorContains(t, c.Nodes[1].Do(lab.Command{Op: lab.OpPropose, Arg: "x"}), "crashed")
	require.NoError(t, c.Nodes[1].Tick())

	require.NoError(t, c.Do(0, lab.Command{Op: lab.OpPropose, Arg: "x"}))
	require.NoError(t, c.Err())
	assert.Empty(t, look(t, c, 1).got, "a crashed replica is handed nothing")
	assert.Zero(t, look(t, c, 1).ticks, "nor does it tick")
	assert.Equal(t, []string{"P0 PRE-PREPARE", "P3 PREPARE"}, sorted(look(t, c, 2).got), "and it sends nothing (no prepare from P1)")

	require.NoError(t, c.Recover(1))
	assert.Equal(t, 1, look(t, c, 1).recovered, "recover is the replica's first call on its return")
	assert.False(t, c.Nodes[1].Crashed())
	require.NoError(t, c.Do(0, lab.Command{Op: lab.OpPropose, Arg: "y"}))
	assert.Equal(t, []string{"P0 PRE-PREPARE", "P2 PREPARE", "P3 PREPARE"}, sorted(look(t, c, 1).got))
}

func TestVoteTo(t *testing.T) {
	c := fakeCluster(t, ClusterConfig{NoClient: true, Byzantine: []lab.ID{3}})
	for _, tc := range []struct {
		name     string
		from, to lab.ID
		setup    func()
		want     string // error text, or "" for success
	}{
		{name: "from an honest replica", from: 1, to: 2, want: "honest"},
		{name: "before any pre-prepare", from: 3, to: 1, want: "no pre-prepare"},
		{name: "to itself", from: 3, to: 3, want: "not another replica"},
		{name: "to no replica", from: 3, to: 9, want: "not another replica"},
		{name: "after a pre-prepare", from: 3, to: 1, setup: func() {
			require.NoError(t, c.Do(0, lab.Command{Op: lab.OpPropose, Arg: "x"}))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			before := len(look(t, c, 1).got)
			err := c.VoteTo(tc.from, tc.to, lab.OpPrepare, false)
			if tc.want != "" {
				assert.ErrorContains(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []string{"P3 PREPARE", "P3 PREPARE"}, look(t, c, 1).got[before:], "the forged vote goes twice, as in the simulator")
		})
	}
}

func TestPanickingReplicaStopsAloneAndSaysWhy(t *testing.T) {
	var mu sync.Mutex
	var notes []string
	c := fakeCluster(t, ClusterConfig{NoClient: true, Observer: func(id lab.ID) Observer {
		return noteObserver(func(line string) {
			mu.Lock()
			defer mu.Unlock()
			notes = append(notes, line)
		})
	}})
	err := c.Do(2, lab.Command{Op: lab.OpPropose, Arg: "panic"})
	require.ErrorContains(t, err, "P2 failed: panic in Do(tx panic)")
	assert.ErrorContains(t, c.Err(), "P2 failed")
	_, err = c.Status(2)
	assert.Error(t, err, "a failed replica has no status")
	assert.Error(t, c.Nodes[2].Tick())

	require.NoError(t, c.Do(0, lab.Command{Op: lab.OpPropose, Arg: "x"}), "the others go on")
	assert.Contains(t, look(t, c, 1).got, "P0 PRE-PREPARE")
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, fmt.Sprint(notes), "index out of range")
}

func TestClientRequestReachesPrimaryAndOnlyRequestsAreTaken(t *testing.T) {
	c := fakeCluster(t, ClusterConfig{})
	fromClient := func() []string {
		var out []string
		for _, g := range look(t, c, 0).got {
			if strings.HasPrefix(g, "client") {
				out = append(out, g)
			}
		}
		return out
	}
	c.Send("account=alice,amount=1,operation=deposit")
	require.NoError(t, c.Err())
	assert.Equal(t, []string{"client REQUEST"}, fromClient())

	// A client that sends anything but a request is dropped at the door.
	raw := StartTransport(TransportConfig{Self: lab.Client, Name: "mallory", Peers: c.Peers(), Inflight: c.inflight})
	defer raw.Close()
	raw.Send(0, wire.Encode(&lab.Prepare{Replica: 1, Yes: true}))
	require.NoError(t, c.Settle())
	assert.Equal(t, []string{"client REQUEST"}, fromClient())
	assert.Equal(t, uint64(2), c.Nodes[0].Handled()["client"], "both were handled: one delivered, one dropped")
}

func TestPortInUse(t *testing.T) {
	c := fakeCluster(t, ClusterConfig{NoClient: true})
	peers := c.Peers()
	_, err := StartCluster(ClusterConfig{Peers: &peers, New: newFake, NoClient: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already in use")
}

type noteObserver func(string)

func (noteObserver) Delivered(lab.ID, lab.Message)     {}
func (noteObserver) Stepped(lab.Status)                {}
func (noteObserver) Logged(string)                     {}
func (noteObserver) Checkpointed(lab.Snapshot, bool)   {}
func (f noteObserver) Noted(line string)               { f(line) }
func (f noteObserver) Acted(_ lab.Command, why string) { f(why) }

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// stuck is a replica whose Do never returns until released.
type stuck struct {
	fake
	release chan struct{}
}

func TestStuckReplicaIsReported(t *testing.T) {
	release := make(chan struct{})
	notes := make(chan string, 10)
	addrs := freeAddrs(t, 4)
	n, err := StartNode(NodeConfig{
		ID: 1, Peers: Peers{Replicas: addrs}, StuckAfter: 30 * time.Millisecond,
		New: func(cfg lab.Config, env lab.Env) lab.Replica {
			return &stuck{fake: fake{cfg: cfg, env: env}, release: release}
		},
		Observer: noteObserver(func(line string) { notes <- line }),
	})
	require.NoError(t, err)
	defer n.Close()
	done := make(chan error)
	go func() { done <- n.Do(lab.Command{Op: lab.OpProgress}) }()
	for reported := false; !reported; {
		select {
		case line := <-notes:
			if strings.Contains(line, "endless loop") {
				assert.Contains(t, line, "P1 has been in Do(progress)")
				reported = true
			}
		case <-time.After(deadline):
			t.Fatal("the stuck call was never reported")
		}
	}
	assert.Equal(t, "Do(progress)", n.Stuck())

	// A message from another replica arrives meanwhile: its reader waits
	// for the replica, which the stuck call holds.
	p0 := start(t, 0, Peers{Replicas: addrs}, DefaultKeyring(), listen(t, addrs[0]), withSettings(ReplicaSettings(4, lab.Config{}, nil)))
	waitLink(t, p0, 1, true)
	awaitReady(t, p0)
	// Until one comes as a datagram (a message that finds the link's
	// writer busy may go on the connection): the datagram reader then
	// waits too, and it holds the datagram socket.
	give := time.After(deadline)
	for i := 1; n.tr.dg.arrived.Load() == 0; i++ {
		p0.tr.Send(1, wire.Encode(&lab.Prepare{View: 0, Seq: i, Digest: "d", Replica: 0}))
		for k := 0; k < 100 && n.tr.dg.arrived.Load() == 0; k++ {
			select {
			case <-time.After(time.Millisecond):
			case <-give:
				t.Fatal("no message came as a datagram")
			}
		}
	}

	// Closing a node whose call never returns does not wait for it (the
	// call holds the lock), nor for a reader waiting for that call: the
	// process can leave on Ctrl-C.
	closed := make(chan struct{})
	go func() { n.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(deadline):
		t.Fatal("Close waited for the stuck call")
	}
	close(release)
	require.NoError(t, <-done)
}

func (s *stuck) Do(lab.Command) error {
	<-s.release
	return nil
}

// replier answers every request once, the first time it sees it, as a
// replica that ignores a request it has executed already.
type replier struct {
	fake
	seen map[int64]bool
}

func (r *replier) Receive(from lab.ID, m lab.Message) {
	if q, ok := m.(*lab.Request); ok && !r.seen[q.Timestamp] {
		r.seen[q.Timestamp] = true
		r.env.Reply(lab.Reply{Timestamp: q.Timestamp, Client: q.Client, Replica: r.cfg.ID, Committed: true, Result: "done"})
	}
}

// A client that resends a request gets the reply again, even from a
// replica that ignores the request the second time (PBFT §4.1: replicas
// keep the last reply to each client), and the rejoin at a start calls the
// replica's recovery.
func TestNodeSendsTheLastReplyAgain(t *testing.T) {
	newReplier := func(cfg lab.Config, env lab.Env) lab.Replica {
		return &replier{fake: fake{cfg: cfg, env: env}, seen: map[int64]bool{}}
	}
	c, err := StartCluster(ClusterConfig{New: newReplier, NoClient: true})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	client := c.NewClient("alice", nil)
	t.Cleanup(client.Close)
	require.NoError(t, client.WaitConnected(context.Background()))
	req := lab.Request{Client: "alice", Timestamp: 7, Op: "account=a,amount=1,operation=deposit"}
	client.tr.Send(0, wire.Encode(&req))
	require.NoError(t, c.Settle())
	client.tr.Send(0, wire.Encode(&req))
	require.NoError(t, c.Settle())
	assert.Equal(t, uint64(2), client.Handled()["P0"], "two replies to one request sent twice")

	require.NoError(t, c.Nodes[1].Rejoin())
	n := c.Nodes[1]
	require.NoError(t, n.call(func() error {
		assert.Equal(t, 1, n.replica.(*replier).recovered)
		return nil
	}))
}

// A process that starts (Rejoin) holds back the requests it receives until
// f+1 replicas have sent it their state: restarted as P0, it would
// otherwise order them in view 0 while the others are in a later view.
func TestRejoinHoldsRequestsUntilTheStateArrives(t *testing.T) {
	c := fakeCluster(t, ClusterConfig{NoClient: true})
	n := c.Nodes[0]
	require.NoError(t, n.Rejoin())
	deliver := func(from lab.ID, m lab.Message) {
		n.cfg.Inflight.add(1)
		n.mu.Lock()
		defer n.mu.Unlock()
		n.handle(from, m)
	}
	deliver(lab.Client, &lab.Request{Client: "alice", Timestamp: 1, Op: "account=a,amount=1,operation=deposit"})
	deliver(2, &lab.StateReply{Replica: 2})
	assert.Equal(t, []string{"P2 STATE-REPLY"}, look(t, c, 0).got, "the request waits for f+1 state replies")
	deliver(3, &lab.StateReply{Replica: 3})
	got := look(t, c, 0).got
	require.GreaterOrEqual(t, len(got), 3)
	assert.Equal(t, []string{"P2 STATE-REPLY", "P3 STATE-REPLY", "client REQUEST"}, got[:3])
	deliver(lab.Client, &lab.Request{Client: "alice", Timestamp: 2, Op: "account=a,amount=1,operation=deposit"})
	// The pre-prepare P0 broadcast for the first request brings back the
	// others' PREPAREs at any moment, so count the requests alone.
	requests := 0
	for _, m := range look(t, c, 0).got {
		if m == "client REQUEST" {
			requests++
		}
	}
	assert.Equal(t, 2, requests, "and then requests go through at once")
}

// A node that rejoined as the primary of its view asks for the next one
// once it knows that another replica heard from an earlier run of its
// process, whether it learns so before its rejoin ends or after (from a
// replica whose connection came up late); a backup does not, nor does a
// primary of a view entered since the rejoin, nor one whose process ran
// for the first time.
func TestRejoinedPrimaryLeavesTheViewIfItRanBefore(t *testing.T) {
	for _, tc := range []struct {
		name   string
		id     lab.ID
		before bool // told of an earlier run before the rejoin ends
		after  bool // told after it
		enter  int  // a view the replica enters after the rejoin, 0 for none
		want   int  // view changes asked for
	}{
		{name: "a first run", id: 0},
		{name: "told before the rejoin ends", id: 0, before: true, want: 1},
		{name: "told after the rejoin ends", id: 0, after: true, want: 1},
		{name: "told both", id: 0, before: true, after: true, want: 1},
		{name: "a backup", id: 1, before: true, after: true},
		{name: "told in a view entered since", id: 0, enter: 4, after: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var notes []string
			c := fakeCluster(t, ClusterConfig{NoClient: true, Observer: func(lab.ID) Observer {
				return noteObserver(func(line string) {
					mu.Lock()
					defer mu.Unlock()
					notes = append(notes, line)
				})
			}})
			n := c.Nodes[tc.id]
			// As the transport tells the node, once.
			tell := func() {
				if !n.tr.earlier.Swap(true) {
					n.tr.cfg.EarlierRun()
				}
			}
			require.NoError(t, n.Rejoin())
			if tc.before {
				tell()
			}
			for _, from := range []lab.ID{2, 3} {
				n.cfg.Inflight.add(1)
				require.NoError(t, n.call(func() error { n.handle(from, &lab.StateReply{Replica: from}); return nil }))
			}
			require.NoError(t, n.call(func() error {
				require.Nil(t, n.rejoin, "f+1 state replies end the rejoin")
				if tc.enter > 0 {
					f := n.replica.(*fake)
					f.view, f.changing = tc.enter, false
				}
				return nil
			}))
			if tc.after {
				tell()
			}
			assert.Equal(t, tc.want, look(t, c, tc.id).viewChanges)
			mu.Lock()
			defer mu.Unlock()
			said := strings.Contains(strings.Join(notes, "\n"), "this replica restarted as the primary of view 0 and lost its log: asking for view 1")
			assert.Equal(t, tc.want > 0, said, "notes: %q", notes)
		})
	}
}
