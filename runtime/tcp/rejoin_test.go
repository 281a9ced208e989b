package tcp

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
	"pbftlab/solution"
)

// watcher is an Observer that keeps what a node did, for a test to wait
// on: the messages handed to the replica, its last status, the notes.
type watcher struct {
	mu        sync.Mutex
	delivered []string // "P1 STATE-REPLY"
	requests  []string // the operations of the requests among them
	last      lab.Status
	notes     []string
	event     chan struct{} // a token after each event
}

func newWatcher() *watcher { return &watcher{event: make(chan struct{}, 1)} }

func (w *watcher) record(f func()) {
	w.mu.Lock()
	f()
	w.mu.Unlock()
	select {
	case w.event <- struct{}{}:
	default:
	}
}

func (w *watcher) Delivered(from lab.ID, m lab.Message) {
	w.record(func() {
		w.delivered = append(w.delivered, fmt.Sprintf("%s %s", from, lab.KindOf(m)))
		if r, ok := m.(*lab.Request); ok {
			w.requests = append(w.requests, r.Op)
		}
	})
}
func (w *watcher) Stepped(st lab.Status)           { w.record(func() { w.last = st }) }
func (w *watcher) Noted(line string)               { w.record(func() { w.notes = append(w.notes, line) }) }
func (w *watcher) Acted(_ lab.Command, why string) { w.Noted(why) }
func (w *watcher) Logged(string)                   {}
func (w *watcher) Checkpointed(lab.Snapshot, bool) {}

// count says how many messages of what ("P0 PRE-PREPARE") were handed to
// the replica; mu is held.
func (w *watcher) count(what string) int {
	k := 0
	for _, d := range w.delivered {
		if d == what {
			k++
		}
	}
	return k
}

// noted says whether a note contains part; mu is held.
func (w *watcher) noted(part string) bool {
	return strings.Contains(strings.Join(w.notes, "\n"), part)
}

// await waits until ok holds of what the node did.
func (w *watcher) await(t *testing.T, what string, ok func(w *watcher) bool) {
	t.Helper()
	limit := time.After(deadline)
	for {
		w.mu.Lock()
		done := ok(w)
		w.mu.Unlock()
		if done {
			return
		}
		select {
		case <-w.event:
		case <-limit:
			w.mu.Lock()
			defer w.mu.Unlock()
			t.Fatalf("no %s within %v; delivered %v; last status %+v; notes:\n%s", what, deadline, w.delivered, w.last, strings.Join(w.notes, "\n"))
		}
	}
}

// processes are four replica processes of the reference replica on
// fixed ports, each of which can be killed and started again.
type processes struct {
	t     *testing.T
	peers Peers
	cfg   NodeConfig // the configuration of every process, but its ID and observer
	nodes [4]*Node
	watch [4]*watcher
}

func newProcesses(t *testing.T, cfg NodeConfig) *processes {
	p := &processes{t: t, peers: Peers{Replicas: freeAddrs(t, 4)}, cfg: cfg}
	p.cfg.Peers, p.cfg.New = p.peers, solution.New
	p.cfg.MinBackoff, p.cfg.MaxBackoff = time.Millisecond, 20*time.Millisecond
	t.Cleanup(func() {
		for _, n := range p.nodes {
			if n != nil {
				n.Close()
			}
		}
	})
	return p
}

// start starts replica id's process, killing the one running, if any,
// and has it rejoin, as the command line does.
func (p *processes) start(id lab.ID) {
	p.t.Helper()
	if p.nodes[id] != nil {
		p.nodes[id].Close()
		p.nodes[id] = nil
	}
	p.watch[id] = newWatcher()
	cfg := p.cfg
	cfg.ID, cfg.Observer = id, p.watch[id]
	n, err := StartNode(cfg)
	require.NoError(p.t, err)
	p.nodes[id] = n
	require.NoError(p.t, n.Rejoin())
}

// rejoined waits until replica id's rejoin has ended. It ends inside the
// call that hands over a state reply, which the watcher hears of before
// the call returns: after each event, a look at the node, which waits for
// that call, sees whether it ended.
func (p *processes) rejoined(id lab.ID) {
	p.t.Helper()
	n, w := p.nodes[id], p.watch[id]
	limit := time.After(deadline)
	for {
		rejoining := false
		require.NoError(p.t, n.call(func() error { rejoining = n.rejoin != nil; return nil }))
		if !rejoining {
			return
		}
		select {
		case <-w.event:
		case <-limit:
			p.t.Fatalf("the rejoin of %s did not end within %v", id, deadline)
		}
	}
}

// A process of the reference replica, with typed votes, restarted as P0
// after its previous run pre-prepared n1: it cannot know what that run
// assigned, so it asks for view 1 rather than order anything in view 0,
// and says why. P0 started last into a cluster that never heard from it
// is the same as far as the state goes (view 0, nothing executed) and
// orders in view 0.
func TestRestartedPrimaryAsksForTheNextView(t *testing.T) {
	p := newProcesses(t, NodeConfig{Replica: lab.Config{Manual: true}})
	nodes, watch := &p.nodes, &p.watch
	for id := lab.ID(1); id <= 3; id++ {
		p.start(id)
	}

	// P0 started last, into a cluster that never heard from it.
	p.start(0)
	p.rejoined(0)
	st, err := nodes[0].Status()
	require.NoError(t, err)
	assert.Equal(t, []any{0, lab.ID(0), false}, []any{st.View, st.Primary, st.ViewChanging}, "P0 leads view 0")
	client := StartClient(ClientConfig{Name: "client", Peers: p.peers, MinBackoff: time.Millisecond})
	t.Cleanup(client.Close)
	bob, alice := "account=bob,amount=3,operation=deposit", "account=alice,amount=100,operation=deposit"
	client.Send(bob)
	watch[0].await(t, "bob's request at P0", func(w *watcher) bool { return slices.Contains(w.requests, bob) })
	require.NoError(t, nodes[0].Do(lab.Command{Op: lab.OpPropose}))
	for id := lab.ID(1); id <= 3; id++ {
		watch[id].await(t, "n1 pre-prepared in view 0", func(w *watcher) bool {
			return len(w.last.Log) > 0 && w.last.Log[0].Seq == 1 && w.last.Log[0].View == 0 &&
				w.last.Log[0].Request != nil && w.last.Log[0].Request.Op == bob
		})
	}
	watch[0].mu.Lock()
	assert.False(t, watch[0].noted("restarted"), "a first run says nothing of a restart")
	watch[0].mu.Unlock()

	// Killed and started again, P0 finds view 0, which it leads.
	p.start(0)
	p.rejoined(0)
	st, err = nodes[0].Status()
	require.NoError(t, err)
	assert.Equal(t, []any{1, lab.ID(1), true}, []any{st.View, st.Primary, st.ViewChanging}, "P0 asked for view 1")
	watch[0].mu.Lock()
	assert.True(t, watch[0].noted("this replica restarted as the primary of view 0 and lost its log: asking for view 1 rather than reuse sequence numbers its previous run may have assigned; with --manual the others do not follow by themselves: type view change at them"), "P0 says why")
	watch[0].mu.Unlock()
	client.Send(alice)
	watch[0].await(t, "alice's request at P0", func(w *watcher) bool { return slices.Contains(w.requests, alice) })
	assert.ErrorContains(t, nodes[0].Do(lab.Command{Op: lab.OpPropose}), "view change", "tx orders nothing")
	for id := lab.ID(1); id <= 3; id++ {
		watch[id].await(t, "P0's VIEW-CHANGE", func(w *watcher) bool { return w.count("P0 VIEW-CHANGE") == 1 })
		watch[id].mu.Lock()
		assert.Equal(t, 1, watch[id].count("P0 PRE-PREPARE"), "%s got no second pre-prepare from P0", id)
		assert.Equal(t, bob, watch[id].last.Log[0].Request.Op, "%s still holds bob's request at n1", id)
		watch[id].mu.Unlock()
	}

	// Typed at two others, view change brings the cluster to view 1: with
	// P0's, P1 holds 2f+1 VIEW-CHANGEs, and its NEW-VIEW takes P3 along.
	for id := lab.ID(1); id <= 2; id++ {
		require.NoError(t, nodes[id].Do(lab.Command{Op: lab.OpViewChange}))
	}
	for id := range lab.ID(4) {
		watch[id].await(t, "view 1", func(w *watcher) bool {
			return w.last.View == 1 && w.last.Primary == 1 && !w.last.ViewChanging
		})
	}
}

// With automatic votes, the others follow a restarted primary out of its
// view once a request waits too long at them: the next request commits
// in a later view, at a number of its own, and no two replicas execute
// different requests at one sequence number. (Whether P0 catches up at
// once is the replica's business: one that asked for views alone may be
// left behind until the next view change.)
func TestRestartedPrimaryIsFollowedWithAutomaticVotes(t *testing.T) {
	var mu sync.Mutex
	decided := map[int]string{} // the digest executed at each sequence number
	p := newProcesses(t, NodeConfig{Replica: lab.Config{ViewChangeTimeout: 5}, Tick: 10 * time.Millisecond})
	p.cfg.Executed = func(e lab.Execution) {
		mu.Lock()
		defer mu.Unlock()
		if d, ok := decided[e.Seq]; ok && d != e.Digest && !e.Restored {
			t.Errorf("n%d executed as %s and as %s", e.Seq, d, e.Digest)
		}
		decided[e.Seq] = e.Digest
	}
	for id := range lab.ID(4) {
		p.start(id)
	}
	client := StartClient(ClientConfig{Name: "client", Peers: p.peers, Retry: 50 * time.Millisecond, MinBackoff: time.Millisecond})
	t.Cleanup(client.Close)
	ctx, cancel := contextWithDeadline()
	defer cancel()
	o, err := client.Wait(ctx, client.Send("account=alice,amount=1,operation=deposit"))
	require.NoError(t, err)
	assert.Equal(t, []any{true, 0, 1}, []any{o.Committed, o.View, o.Seq}, "the first request commits at n1 in view 0")

	p.start(0)
	p.rejoined(0)
	p.watch[0].mu.Lock()
	assert.True(t, p.watch[0].noted("this replica restarted as the primary of view 0 and lost its log: asking for view 1 rather than reuse sequence numbers its previous run may have assigned; the others follow once a request waits too long at them"), "P0 says why")
	p.watch[0].mu.Unlock()
	o, err = client.Wait(ctx, client.Send("account=alice,amount=2,operation=deposit"))
	require.NoError(t, err)
	assert.True(t, o.Committed)
	assert.Positive(t, o.View, "committed in a later view")
	assert.Greater(t, o.Seq, 1, "at a number of its own")
	for id := lab.ID(1); id <= 3; id++ {
		p.watch[id].await(t, "the second request executed", func(w *watcher) bool { return w.last.LastExecuted == o.Seq })
	}
}
