package console

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
	"pbftlab/runtime/tcp"
)

// stateReplica is a fake replica with a status that its commands change,
// as a test scripts them.
type stateReplica struct {
	fakeReplica
	st lab.Status
	do func(s *lab.Status, c lab.Command) error
}

func (r *stateReplica) Status() (lab.Status, error) { return r.st, nil }
func (r *stateReplica) Do(c lab.Command) error {
	r.calls = append(r.calls, "do "+c.String())
	if r.do == nil {
		return nil
	}
	return r.do(&r.st, c)
}

var deposit = &lab.Request{Client: "client7000", Timestamp: 5, Op: "account=alice,amount=100,operation=deposit"}

// orders makes tx at a primary order req at n1, when there is a req.
func orders(req *lab.Request) func(s *lab.Status, c lab.Command) error {
	return func(s *lab.Status, c lab.Command) error {
		if c.Op != lab.OpPropose {
			return nil
		}
		switch {
		case c.Arg != "":
			s.Log = append(s.Log, lab.Entry{Seq: 1, Request: &lab.Request{Client: "console-P0", Op: c.Arg}, Phase: lab.PhasePrePrepared})
		case req != nil:
			s.Log = append(s.Log, lab.Entry{Seq: 1, Request: req, Phase: lab.PhasePrePrepared})
		default:
			return fmt.Errorf("no client request is waiting to be ordered")
		}
		return nil
	}
}

// The original's two-line tx: the operation line after a bare tx names
// the request being ordered, or opens the data> prompt when none waits.
func TestTxThenItsDataLine(t *testing.T) {
	const op = "account=alice,amount=100,operation=deposit"
	const withdraw = "account=alice,amount=20,operation=withdraw"
	orderedAtN1 := []lab.Entry{{Seq: 1, Request: deposit, Phase: lab.PhasePrePrepared}}
	for _, tc := range []struct {
		name    string
		manual  bool
		waiting *lab.Request
		log     []lab.Entry   // what the primary holds before the first line
		history []lab.Outcome // likewise
		lines   []string
		want    []string // a piece of each line's answer
		calls   []string
	}{
		{name: "the data line names the request ordered", manual: true, waiting: deposit, lines: []string{"tx", op},
			want: []string{"ok: tx: ordering n1: " + op, "ok: data> " + op + ": the request being ordered at n1"}, calls: []string{"do tx"}},
		{name: "fields in another order are the same operation", manual: true, waiting: deposit, lines: []string{"tx", "operation=deposit,account=alice,amount=100"},
			want: []string{"ordering n1", "the request being ordered"}, calls: []string{"do tx"}},
		{name: "a data line that differs says how", manual: true, waiting: deposit, lines: []string{"tx", "account=alice,amount=50,operation=deposit"},
			want: []string{"ordering n1", "error: data> this is not the request being ordered at n1: that one is " + op + " from client client7000 (you typed amount 50, not 100)"}, calls: []string{"do tx"}},
		{name: "with nothing waiting, the data line is the operation", manual: true, lines: []string{"tx", op},
			want: []string{"ok: tx: no client request is waiting; type the operation on the next line (data>)", "ok: tx " + op}, calls: []string{"do tx", "do tx " + op}},
		{name: "a bad data line orders nothing", manual: true, lines: []string{"tx", "account=alice,amount=l00,operation=deposit"},
			want: []string{"data>", `error: data> operation "account=alice,amount=l00,operation=deposit": amount "l00" is not a whole number`}, calls: []string{"do tx"}},
		{name: "an operation line out of place", manual: true, waiting: deposit, lines: []string{op}, want: []string{"error: an operation line answers the data> prompt of a bare tx"}},
		{name: "a query leaves the data> prompt open", manual: true, lines: []string{"tx", "status", op}, want: []string{"data>", "P0: view 0", "ok: tx " + op}, calls: []string{"do tx", "do tx " + op}},
		{name: "a command after a bare tx with nothing waiting", manual: true, lines: []string{"tx", "progress"}, want: []string{"data>", "-- no operation after tx: nothing ordered\nok: progress"}, calls: []string{"do tx", "do progress"}},
		{name: "manual votes: a request ordered earlier is not named again", manual: true, log: orderedAtN1, lines: []string{"tx", withdraw},
			want: []string{"type the operation on the next line (data>)", "ok: tx " + withdraw}, calls: []string{"do tx", "do tx " + withdraw}},

		// Automatic votes: the primary ordered the client's request as it
		// arrived, before the transcript's tx.
		{name: "automatic votes: the request ordered on arrival is checked, not ordered again", log: orderedAtN1, lines: []string{"tx", op},
			want: []string{"ok: tx: " + op + " (client client7000, timestamp 5) was already ordered as n1 when it arrived (automatic votes); the operation line that follows is checked against it, not sent again",
				"ok: data> " + op + ": the request ordered at n1 (client client7000) when it arrived; not sent again"},
			calls: []string{"do tx"}},
		{name: "automatic votes: a data line that differs says how, and orders nothing", log: orderedAtN1, lines: []string{"tx", "account=alice,amount=50,operation=deposit"},
			want:  []string{"already ordered as n1", "error: data> this is not the request ordered at n1: that one is " + op + " from client client7000 (you typed amount 50, not 100)"},
			calls: []string{"do tx"}},
		{name: "automatic votes: a request executed already is the one named", history: []lab.Outcome{{Seq: 1, Request: *deposit, Committed: true, Result: "alice=100"}}, lines: []string{"tx", op},
			want: []string{"already ordered as n1", "ok: data> " + op + ": the request ordered at n1"}, calls: []string{"do tx"}},
		{name: "automatic votes: a second bare tx opens the data> prompt", log: orderedAtN1, lines: []string{"tx", op, "tx", withdraw},
			want: []string{"already ordered as n1", "not sent again", "type the operation on the next line (data>)", "ok: tx " + withdraw}, calls: []string{"do tx", "do tx", "do tx " + withdraw}},
		{name: "automatic votes: with no request at all, the data line is the operation", lines: []string{"tx", op},
			want: []string{"type the operation on the next line (data>)", "ok: tx " + op}, calls: []string{"do tx", "do tx " + op}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &stateReplica{fakeReplica: fakeReplica{id: 0, manual: tc.manual}, st: lab.Status{ID: 0, Primary: 0, Log: tc.log, History: tc.history}, do: orders(tc.waiting)}
			c := NewReplicaConsole(r, nil)
			for i, line := range tc.lines {
				text, _, err := c.Command(line)
				if err != nil {
					text = "error: " + err.Error()
				}
				assert.Contains(t, text, tc.want[i], "answer to %q", line)
				if i == 0 && tc.waiting == nil && tc.log == nil && tc.history == nil && len(tc.lines) > 1 && looksLikeOperation(tc.lines[1]) {
					assert.Equal(t, "data> ", c.Prompt("P0> "))
				}
			}
			assert.Equal(t, "P0> ", c.Prompt("P0> "), "the data> prompt closes after one line")
			assert.Equal(t, tc.calls, r.calls)
		})
	}
}

// The seed's Case 6 typed one replica at a time: the third replica has
// joined the first two before its line comes; its view change is the one
// it made, not one more.
func TestViewChangeAfterJoiningByItself(t *testing.T) {
	var out bytes.Buffer
	ev := NewEvents(NewOut(&out), "", 3, 4)
	r := &stateReplica{fakeReplica: fakeReplica{id: 3}, st: lab.Status{ID: 3, Primary: 0}, do: func(s *lab.Status, c lab.Command) error {
		if c.Op == lab.OpViewChange {
			s.View, s.Primary, s.ViewChanging = s.View+1, lab.ID(s.View+1), true
		}
		return nil
	}}
	c := NewReplicaConsole(r, ev)
	// P1 and P2 asked; P3 joins, then P1's NEW-VIEW arrives.
	ev.Delivered(2, &lab.ViewChange{View: 1, Replica: 2})
	r.st = lab.Status{ID: 3, View: 1, Primary: 1, ViewChanging: true}
	ev.Stepped(r.st)
	ev.Delivered(1, &lab.NewView{View: 1})
	r.st = lab.Status{ID: 3, View: 1, Primary: 1}
	ev.Stepped(r.st)

	text, _, err := c.Command("view change")
	require.NoError(t, err)
	assert.Contains(t, text, "P3 already asked for view 1 by itself")
	assert.Empty(t, r.calls, "no view 2")

	// Typed again, it means it.
	text, _, err = c.Command("view change")
	require.NoError(t, err)
	assert.Equal(t, []string{"do view change"}, r.calls)
	assert.Contains(t, text, "ok: view change: asked for view 2 (to be led by P2)")
	assert.Contains(t, out.String(), "asked for view 1 (to be led by P1); it starts when P1 sends NEW-VIEW (joined the replicas that asked for it)")
	assert.Contains(t, out.String(), "entered view 1, led by P1 (NEW-VIEW from P1)")
}

// After a view change in manual mode, a typed vote goes to the request the
// person sees; the re-issued entries executed already get yes first.
func TestVotesSkipReissuedEntries(t *testing.T) {
	reissued := lab.Entry{View: 1, Seq: 1, Phase: lab.PhasePrePrepared, Request: deposit, PrepareYes: []lab.ID{1}}
	fresh := lab.Entry{View: 1, Seq: 2, Phase: lab.PhasePrePrepared, Request: &lab.Request{Client: "client7000", Timestamp: 6, Op: "account=alice,amount=5,operation=withdraw"}, PrepareYes: []lab.ID{1}}
	r := &stateReplica{fakeReplica: fakeReplica{id: 2}, st: lab.Status{ID: 2, View: 1, Primary: 1, LastExecuted: 1, Log: []lab.Entry{reissued, fresh}}}
	r.do = func(s *lab.Status, c lab.Command) error {
		e, ok := awaitingVote(*s, c.Op)
		require.True(t, ok)
		for i := range s.Log {
			if s.Log[i].Seq == e.Seq {
				if c.Vote {
					s.Log[i].PrepareYes = append(s.Log[i].PrepareYes, 2)
				} else {
					s.Log[i].PrepareNo = append(s.Log[i].PrepareNo, 2)
				}
			}
		}
		return nil
	}
	text, _, err := NewReplicaConsole(r, nil).Command("prepare no")
	require.NoError(t, err)
	assert.Equal(t, []string{"do prepare yes", "do prepare no"}, r.calls)
	assert.Equal(t, "ok: prepare no on n2 client7000#6 account=alice,amount=5,operation=withdraw (after voting yes on the re-issued n1, executed here already)", text)
	assert.Equal(t, []lab.ID{2}, r.st.Log[1].PrepareNo)
}

func TestCheckpointAlwaysWritesASnapshot(t *testing.T) {
	refuse := func(_ *lab.Status, c lab.Command) error {
		return fmt.Errorf("nothing executed since the stable checkpoint at n0")
	}
	r := &stateReplica{fakeReplica: fakeReplica{id: 0}, st: lab.Status{ID: 0}, do: refuse}
	c := NewReplicaConsole(r, nil)
	c.Snapshot = func() (string, error) { return "checkpoints/P0_checkpoints.log (n0)", nil }
	text, _, err := c.Command("checkpoint")
	require.NoError(t, err)
	assert.Equal(t, "ok: checkpoint: snapshot written to checkpoints/P0_checkpoints.log (n0); no protocol checkpoint: nothing executed since the stable checkpoint at n0", text)
}

func TestStatusShowsTheLastDecisions(t *testing.T) {
	st := lab.Status{ID: 1, LastExecuted: 7}
	for i := 1; i <= 7; i++ {
		st.History = append(st.History, lab.Outcome{Seq: i, Request: lab.Request{Client: "c", Timestamp: int64(i), Op: "op"}, Committed: i != 3, Result: map[bool]string{true: "a=1", false: "aborted"}[i != 3]})
	}
	st.History[5].Result = "rejected: insufficient funds: a has 0, withdraw 5"
	short := FormatStatus(st, nil, false)
	assert.Contains(t, short, "history (last 5 of 7; status all shows every one):")
	assert.NotContains(t, short, "n2 v0")
	assert.Contains(t, short, "n3 v0 c#3 op: aborted (the votes went against it: more than f prepare no, or short of 2f+1 yes or commit acks)")
	assert.Contains(t, short, "n6 v0 c#6 op: rejected (insufficient funds: a has 0, withdraw 5)")
	full := FormatStatus(st, nil, true)
	assert.Contains(t, full, "  history:\n    n1 v0")
	r := &stateReplica{fakeReplica: fakeReplica{id: 1}, st: st}
	text, _, err := NewReplicaConsole(r, nil).Command("status all")
	require.NoError(t, err)
	assert.Contains(t, text, "n1 v0 c#1 op: committed (a=1)")
}

func TestOutcomeText(t *testing.T) {
	for _, tc := range []struct {
		committed bool
		result    string
		want      string
	}{
		{true, "alice=100", "committed (alice=100)"},
		{true, "rejected: insufficient funds", "rejected (insufficient funds)"},
		{true, "duplicate: already executed", "rejected (a duplicate, already executed)"},
		{false, "aborted", "aborted (the votes went against it: more than f prepare no, or short of 2f+1 yes or commit acks)"},
		{false, "aborted: the view changed", "aborted (the view changed)"},
	} {
		assert.Equal(t, tc.want, OutcomeText(tc.committed, tc.result))
	}
}

// "send ... times K" is one line when the K requests are decided, not
// five lines each.
func TestTimesIsSummedUp(t *testing.T) {
	var out bytes.Buffer
	ev := NewClientEvents(NewOut(&out), "")
	c := newFakeClient()
	cc := NewClientConsole(c, ev)
	defer cc.Close()
	text, _, err := cc.Command("send account=alice,amount=1,operation=deposit times 3")
	require.NoError(t, err)
	assert.Equal(t, "ok: sent request 1, queued requests 2 to 3: account=alice,amount=1,operation=deposit (each sent when the request before it has its outcome; one line when all are decided)", text)
	for n := 1; n <= 3; n++ {
		for from := range lab.ID(2) {
			ev.Replied(from, n, lab.Reply{Seq: n, Replica: from, Committed: true, Result: fmt.Sprintf("alice=%d", n)})
		}
		ev.Noted(fmt.Sprintf("request %d unanswered after 1s; sending it to every replica", n+1))
		ev.Decided(n, tcp.Outcome{Committed: true, Result: fmt.Sprintf("alice=%d", n), Replies: 2})
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2, out.String())
	assert.Equal(t, "-- request 4 unanswered after 1s; sending it to every replica", lines[0], "resends in a batch are not told one by one")
	assert.Contains(t, lines[1], "requests 1 to 3 (account=alice,amount=1,operation=deposit) decided: 3 committed, 0 rejected, 0 aborted")
	list, _, err := cc.Command("list")
	require.NoError(t, err)
	assert.Contains(t, list, "client client7000: 6 replies received")
}

// The new primary types view change last: its own ask makes the 2f+1, and
// it starts the view in the same step. The line says so, not a bare ok.
func TestViewChangeCompletedByTheNewPrimary(t *testing.T) {
	var out bytes.Buffer
	ev := NewEvents(NewOut(&out), "", 1, 4)
	r := &stateReplica{fakeReplica: fakeReplica{id: 1}, st: lab.Status{ID: 1, Primary: 0}, do: func(s *lab.Status, c lab.Command) error {
		if c.Op == lab.OpViewChange {
			s.View, s.Primary = 1, 1
		}
		return nil
	}}
	text, _, err := NewReplicaConsole(r, ev).Command("view change")
	require.NoError(t, err)
	assert.Equal(t, "ok: view change: asked for view 1, which this replica leads; with its own, 2f+1 replicas had asked, so it sent NEW-VIEW and the view has started", text)
}

// The client has one request outstanding at a time, as PBFT's client
// does: a request typed while the one before it has no outcome is queued,
// and the queue goes out in order, each request once the one before it
// has its outcome. Two requests in flight could be ordered the other way
// round by a new primary, and the bank would take the older one for a
// duplicate.
func TestClientSendsOneRequestAtATime(t *testing.T) {
	const (
		a = "account=a,amount=1,operation=deposit"
		b = "account=b,amount=1,operation=deposit"
		c = "account=c,amount=1,operation=deposit"
	)
	var out bytes.Buffer
	client := newFakeClient()
	cc := NewClientConsole(client, NewClientEvents(NewOut(&out), ""))
	defer cc.Close()
	for _, step := range []struct {
		line   string // typed, or empty
		decide int    // the request given its outcome, or 0
		text   string // the answer to line
		sent   []string
	}{
		{line: "send " + a, text: "ok: sent request 1: " + a, sent: []string{a}},
		{line: "send " + b, text: "ok: queued: request 2: " + b + " (sent when the request before it has its outcome)", sent: []string{a}},
		{line: "send " + c + " times 2", text: "ok: queued: requests 3 to 4: " + c + " (each sent when the request before it has its outcome; one line when all are decided)", sent: []string{a}},
		{line: "status", text: "  request 2 " + b + ": queued (sent when the request before it has its outcome)\n  request 3 " + c + ": queued", sent: []string{a}},
		{line: "net", text: "\nrequests queued: 3 (sent one at a time, each when the one before has its outcome)\nmessages: ", sent: []string{a}},
		{decide: 1, sent: []string{a, b}},
		{decide: 2, sent: []string{a, b, c}},
		{decide: 3, sent: []string{a, b, c, c}},
	} {
		if step.decide > 0 {
			client.decide(step.decide)
			assert.Equal(t, step.sent, client.awaitSent(t, len(step.sent)), "after request %d's outcome", step.decide)
			continue
		}
		text, _, err := cc.Command(step.line)
		require.NoError(t, err, step.line)
		assert.Contains(t, text, step.text, step.line)
		assert.Equal(t, step.sent, client.awaitSent(t, len(step.sent)), step.line)
	}
	client.decide(4)
	cc.wg.Wait() // the queue is empty: its goroutine ends
	text, _, err := cc.Command("send " + a)
	require.NoError(t, err)
	assert.Equal(t, "ok: sent request 5: "+a, text, "with nothing outstanding, a request goes at once")
	assert.Equal(t, "-- sent request 2: "+b+" (request 1 has its outcome)\n", out.String(), "a batch's requests go without a word")
}

// Closing the console stops its queue: what is still queued is dropped.
func TestClientConsoleCloseDropsTheQueue(t *testing.T) {
	client := newFakeClient()
	cc := NewClientConsole(client, nil)
	_, _, err := cc.Command("send account=a,amount=1,operation=deposit times 3")
	require.NoError(t, err)
	cc.Close()
	client.decide(1)
	assert.Len(t, client.awaitSent(t, 1), 1)
}

// The cluster console waits after each line until the network settles; a
// queued request leaves only once the one before it has its outcome, so
// it also waits for that request to go out before it calls the line done.
func TestAwaitNextSend(t *testing.T) {
	client := newFakeClient()
	cc := NewClientConsole(client, nil)
	defer cc.Close()
	_, _, err := cc.Command("send account=a,amount=1,operation=deposit times 2")
	require.NoError(t, err)
	assert.False(t, cc.awaitNextSend(), "request 1 has no outcome: nothing is about to go")
	client.decide(1)
	cc.awaitNextSend() // true if it waited; false if request 2 was out already
	client.mu.Lock()
	assert.Len(t, client.sent, 2, "request 2 is out when awaitNextSend returns")
	client.mu.Unlock()
	assert.False(t, cc.awaitNextSend(), "request 2 has no outcome")
}

// A request nobody answers after a few resends gets one hint: with
// --manual votes, nothing happens until it is typed, a dead primary's
// replacement included.
func TestUnansweredRequestHint(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replies int
		resends int
		hints   int
	}{
		{name: "two resends", resends: 2},
		{name: "three resends", resends: 3, hints: 1},
		{name: "the hint is given once", resends: 6, hints: 1},
		{name: "a replica answered", replies: 1, resends: 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			ev := NewClientEvents(NewOut(&out), "")
			for range tc.replies {
				ev.Replied(1, 1, lab.Reply{Seq: 1, Replica: 1, Committed: true, Result: "a=1"})
			}
			for range tc.resends {
				ev.Noted("request 1 unanswered after 1s (next try in 2s); sending it to every replica")
			}
			assert.Equal(t, tc.resends, strings.Count(out.String(), "-- request 1 unanswered"), "every resend is told")
			assert.Equal(t, tc.hints, strings.Count(out.String(), "-- no replica has answered request 1 after 3 resends. With automatic votes a request needs 3 of the 4 replicas running and linked (net shows the links). "+
				"With --manual votes nothing moves until it is typed: "+
				"tx and the votes at a live primary, or view change at the backups if the primary is dead (their view-change timers are off)"), out.String())
		})
	}
}
