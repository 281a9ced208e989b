package console

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"pbftlab/lab"
	"pbftlab/runtime/tcp"
	"pbftlab/script"
)

// Client is what the client's console drives; *tcp.Client is one.
type Client interface {
	Name() string
	Send(op string) int
	// Outcome is request n's outcome, once f+1 replicas agree on it.
	Outcome(n int) (tcp.Outcome, bool)
	// Wait returns request n's outcome once it has one.
	Wait(ctx context.Context, n int) (tcp.Outcome, error)
	Requests() []tcp.RequestInfo
	View() int
	Network
}

var _ Client = (*tcp.Client)(nil)

// ClientEvents prints the replies the client gets, counting them as the
// lab's client does, and each outcome once f+1 replicas agree on it. It
// implements tcp.ClientObserver. The requests of one "send ... times K"
// with K > 1 are summed up in one line once all of them are decided,
// instead of five lines each.
type ClientEvents struct {
	out    *Out
	prefix string
	mu     sync.Mutex
	count  int
	// replies keeps every reply received, for list.
	replies []string
	batches []*batch
	// answered and resent count, by request, the replies and the resends,
	// for the hint about a request nobody answers; hinted is set once the
	// hint is given.
	answered map[int]int
	resent   map[int]int
	hinted   bool
}

// batch is the requests of one send ... times K.
type batch struct {
	first, last int
	op          string
	start       time.Time
	decided     int
	committed   int
	rejected    int
	aborted     int
}

var _ tcp.ClientObserver = (*ClientEvents)(nil)

// NewClientEvents prints behind prefix.
func NewClientEvents(out *Out, prefix string) *ClientEvents {
	return &ClientEvents{out: out, prefix: prefix}
}

// quiet returns the batch request n belongs to, if any; mu is held.
func (e *ClientEvents) quiet(n int) *batch {
	for _, b := range e.batches {
		if n >= b.first && n <= b.last {
			return b
		}
	}
	return nil
}

// expect announces the batch first..last, sent before any of them can be
// decided (the caller holds the client's sending).
func (e *ClientEvents) expect(first, last int, op string) {
	if e == nil || last <= first {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.batches = append(e.batches, &batch{first: first, last: last, op: op, start: time.Now()})
}

// Replied prints one reply.
func (e *ClientEvents) Replied(from lab.ID, n int, r lab.Reply) {
	e.mu.Lock()
	e.count++
	line := fmt.Sprintf("reply %d from %s: request %d (n%d, view %d) %s", e.count, from, n, r.Seq, r.View, OutcomeText(r.Committed, r.Result))
	e.replies = append(e.replies, line)
	if e.answered == nil {
		e.answered = map[int]int{}
	}
	e.answered[n]++
	quiet := e.quiet(n) != nil
	e.mu.Unlock()
	if !quiet {
		e.out.Print(e.prefix, line)
	}
}

// Decided prints an outcome the client accepted.
func (e *ClientEvents) Decided(n int, o tcp.Outcome) {
	e.mu.Lock()
	b := e.quiet(n)
	var summary string
	if b != nil {
		b.decided++
		switch text := OutcomeText(o.Committed, o.Result); {
		case strings.HasPrefix(text, "committed"):
			b.committed++
		case strings.HasPrefix(text, "rejected"):
			b.rejected++
		default:
			b.aborted++
		}
		if b.decided == b.last-b.first+1 {
			summary = fmt.Sprintf("requests %d to %d (%s) decided: %d committed, %d rejected, %d aborted, in %v; the last: %s",
				b.first, b.last, b.op, b.committed, b.rejected, b.aborted, time.Since(b.start).Round(time.Millisecond), OutcomeText(o.Committed, o.Result))
		}
	}
	e.mu.Unlock()
	if b == nil {
		e.out.Printf(e.prefix, "request %d %s (%d matching replies, %v)", n, OutcomeText(o.Committed, o.Result), o.Replies, o.Latency.Round(100*time.Microsecond))
		return
	}
	if summary != "" {
		e.out.Print(e.prefix, summary)
	}
}

// Noted prints what the transport says.
func (e *ClientEvents) Noted(line string) {
	quiet, hint := e.resend(line)
	if !quiet {
		e.out.Print(e.prefix, "-- "+line)
	}
	if hint != "" {
		e.out.Print(e.prefix, "-- "+hint)
	}
}

// hintAfter is the number of resends of a request no replica has answered
// after which the client says what may be wrong.
const hintAfter = 3

// resend reads a resend note. Resends of a batch's requests are quiet:
// one line per resend round is enough. A request that no replica answers
// after hintAfter resends gets a hint, once per client. The client does
// not know the replicas' vote mode, so the hint covers both: automatic
// votes need a quorum of live replicas; with --manual votes the replicas'
// timers are off, so nothing happens until someone types it, a dead
// primary included.
func (e *ClientEvents) resend(line string) (quiet bool, hint string) {
	var n int
	if _, err := fmt.Sscanf(line, "request %d unanswered", &n); err != nil {
		return false, ""
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.resent == nil {
		e.resent = map[int]int{}
	}
	e.resent[n]++
	if !e.hinted && e.resent[n] >= hintAfter && e.answered[n] == 0 {
		e.hinted = true
		hint = fmt.Sprintf("no replica has answered request %d after %d resends. With automatic votes a request needs 3 of the 4 replicas running and linked (net shows the links). "+
			"With --manual votes nothing moves until it is typed: "+
			"tx and the votes at a live primary, or view change at the backups if the primary is dead (their view-change timers are off)", n, hintAfter)
	}
	b := e.quiet(n)
	return b != nil && n != b.first+b.decided, hint
}

// sentFromQueue tells that request n, queued until the one before it had
// its outcome, went out; a batch's requests go without a word.
func (e *ClientEvents) sentFromQueue(n int, op string) {
	if e == nil {
		return
	}
	e.mu.Lock()
	quiet := e.quiet(n) != nil
	e.mu.Unlock()
	if !quiet {
		e.out.Printf(e.prefix, "-- sent request %d: %s (request %d has its outcome)", n, op, n-1)
	}
}

// Replies lists every reply received, as list prints them.
func (e *ClientEvents) Replies() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.replies...)
}

// ClientConsole is the client's console. It has one request outstanding
// at a time, as PBFT's client does: a request typed while the one before
// it has no outcome waits in the console's queue, and the queue goes out
// in order, each request once the one before it has its outcome. Replicas
// execute a client's requests in timestamp order and take an older
// timestamp for a duplicate (lab.Bank), so two requests in flight at once
// could be ordered the other way round by a new primary, and the older
// one would be refused as executed when it never was.
type ClientConsole struct {
	c  Client
	ev *ClientEvents // may be nil

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	cond *sync.Cond // on mu: a queued request went out, or the queue stopped
	// queue holds the operations typed and not yet sent, oldest first.
	queue []string
	// outstanding is the number of the last request sent, 0 before any.
	outstanding int
	// draining is set while a goroutine sends the queue.
	draining bool
	// sends counts the requests the queue sent.
	sends int
}

// NewClientConsole makes the console of c; ev, when not nil, is the
// observer printing c's replies. Close stops its queue.
func NewClientConsole(c Client, ev *ClientEvents) *ClientConsole {
	ctx, cancel := context.WithCancel(context.Background())
	cc := &ClientConsole{c: c, ev: ev, ctx: ctx, cancel: cancel}
	cc.cond = sync.NewCond(&cc.mu)
	return cc
}

// Close stops sending the queued requests, which are dropped, and waits
// for the queue's goroutine to end.
func (cc *ClientConsole) Close() {
	cc.cancel()
	cc.wg.Wait()
}

// RunClient reads client commands from in until quit (nil) or the end of
// the input (ErrEndOfInput).
func RunClient(c *ClientConsole, in io.Reader, out *Out, prompt string) error {
	return loop(in, out, func() string { return prompt }, func(line string) bool {
		text, quit, err := c.Command(line)
		switch {
		case err != nil:
			out.Print("", "error: "+oneLine(err))
		case text != "":
			out.Print("", text)
		}
		return quit
	})
}

// ClientCommand carries out one line at a console of c that has no
// events to read from; what it queues is dropped when it returns.
func ClientCommand(c Client, line string) (text string, quit bool, err error) {
	cc := NewClientConsole(c, nil)
	defer cc.Close()
	return cc.Command(line)
}

// clientCommands are the commands a mistyped one is compared with.
var clientCommands = []string{"send", "status", "list", "net", "help", "quit"}

// Command carries out one line at the client's console.
func (cc *ClientConsole) Command(line string) (text string, quit bool, err error) {
	words := strings.Fields(strings.ToLower(line))
	if len(words) == 0 {
		return "", false, nil
	}
	switch words[0] {
	case "help", "?", "quit", "exit", "status", "list", "net":
		if len(words) > 1 {
			return "", false, fmt.Errorf("%s takes no argument: type %s alone", words[0], words[0])
		}
	}
	switch words[0] {
	case "help", "?":
		return clientHelp, false, nil
	case "quit", "exit":
		return "", true, nil
	case "status":
		return cc.status(), false, nil
	case "list":
		return cc.list(), false, nil
	case "net":
		if k := cc.queued(); k > 0 {
			// The network may look settled while the client still has
			// requests to send, one at a time.
			return netReport(cc.c, fmt.Sprintf("requests queued: %d (sent one at a time, each when the one before has its outcome)", k)), false, nil
		}
		return NetReport(cc.c), false, nil
	}
	if words[0] != "send" && words[0] != "tx" && !strings.Contains(words[0], "=") {
		return "", false, unknownCommand(line, clientCommands, "send OPERATION [times N] (or the operation alone), status, list, net, help, quit")
	}
	// "account=bob, amount=5, operation=deposit" means what it says.
	for strings.Contains(line, ", ") || strings.Contains(line, " ,") {
		line = strings.ReplaceAll(strings.ReplaceAll(line, ", ", ","), " ,", ",")
	}
	// The case language checks the operation with the lab's rules (a known
	// operation, a positive whole amount) before anything leaves: the
	// replicas would refuse it anyway, after a whole round of the protocol.
	st, err := script.ParseStep("client", line)
	if err != nil {
		return "", false, fmt.Errorf("not sent: %w", err)
	}
	return cc.send(st), false, nil
}

// list is the original's list: how many replies arrived, and each one.
func (cc *ClientConsole) list() string {
	if cc.ev == nil {
		return ClientStatus(cc.c)
	}
	replies := cc.ev.Replies()
	var b strings.Builder
	fmt.Fprintf(&b, "client %s: %d replies received", cc.c.Name(), len(replies))
	const shown = 20
	if len(replies) > shown {
		fmt.Fprintf(&b, " (the last %d shown)", shown)
		replies = replies[len(replies)-shown:]
	}
	for _, r := range replies {
		b.WriteString("\n  " + r)
	}
	return b.String()
}

// send sends the requests of a parsed send line, or queues them behind
// the request outstanding.
func (cc *ClientConsole) send(st script.Step) string {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	// Requests are numbered from 1 in the order this client sends them,
	// and only the console sends: the queue's numbers are known already.
	first := len(cc.c.Requests()) + len(cc.queue) + 1
	last := first + st.Times - 1
	if st.Times > 1 {
		// The batch is announced before its first request leaves, so
		// that no reply to it is printed on its own.
		cc.ev.expect(first, last, st.Op)
	}
	for range st.Times {
		cc.queue = append(cc.queue, st.Op)
	}
	sent := 0
	if !cc.draining && !cc.waiting() {
		sent = cc.c.Send(cc.queue[0])
		cc.queue = cc.queue[1:]
		cc.outstanding = sent
	}
	if len(cc.queue) > 0 && !cc.draining {
		cc.draining = true
		cc.wg.Add(1)
		go cc.drain()
	}
	const after = "sent when the request before it has its outcome"
	switch {
	case sent != 0 && first == last:
		return fmt.Sprintf("ok: sent request %d: %s", first, st.Op)
	case sent != 0 && first+1 == last:
		return fmt.Sprintf("ok: sent request %d, queued request %d: %s (%s; one line when both are decided)", first, last, st.Op, after)
	case sent != 0:
		return fmt.Sprintf("ok: sent request %d, queued requests %d to %d: %s (each %s; one line when all are decided)", first, first+1, last, st.Op, after)
	case first == last:
		return fmt.Sprintf("ok: queued: request %d: %s (%s)", first, st.Op, after)
	}
	return fmt.Sprintf("ok: queued: requests %d to %d: %s (each %s; one line when all are decided)", first, last, st.Op, after)
}

// waiting reports whether the last request sent has no outcome yet; mu is
// held.
func (cc *ClientConsole) waiting() bool {
	if cc.outstanding == 0 {
		return false
	}
	_, done := cc.c.Outcome(cc.outstanding)
	return !done
}

// drain sends the queue, each request once the one before it has its
// outcome, until the queue is empty or the console closes.
func (cc *ClientConsole) drain() {
	defer cc.wg.Done()
	for {
		cc.mu.Lock()
		n := cc.outstanding
		cc.mu.Unlock()
		var err error
		if n > 0 {
			_, err = cc.c.Wait(cc.ctx, n)
		}
		cc.mu.Lock()
		if err != nil || len(cc.queue) == 0 {
			cc.draining = false
			cc.cond.Broadcast()
			cc.mu.Unlock()
			return
		}
		op := cc.queue[0]
		cc.queue = cc.queue[1:]
		n = cc.c.Send(op)
		cc.outstanding = n
		cc.sends++
		cc.cond.Broadcast()
		cc.mu.Unlock()
		cc.ev.sentFromQueue(n, op)
	}
}

// awaitNextSend waits, when the queue is about to send (the request
// outstanding has its outcome and another waits), until it has, and
// reports whether it waited. The cluster console uses it so that a quiet
// network between one request's outcome and the next one's leaving is not
// taken for the end of the line's work.
func (cc *ClientConsole) awaitNextSend() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if !cc.draining || len(cc.queue) == 0 || cc.waiting() {
		return false
	}
	sends := cc.sends
	for cc.draining && cc.sends == sends {
		cc.cond.Wait()
	}
	return true
}

// queueSends is how many requests the queue has sent.
func (cc *ClientConsole) queueSends() int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.sends
}

// queued is how many requests wait behind the one outstanding.
func (cc *ClientConsole) queued() int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return len(cc.queue)
}

// status is ClientStatus, and the requests queued behind the one
// outstanding.
func (cc *ClientConsole) status() string {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	text := ClientStatus(cc.c)
	if len(cc.queue) == 0 {
		return text
	}
	var b strings.Builder
	b.WriteString(text)
	first := len(cc.c.Requests()) + 1
	for i, op := range cc.queue {
		fmt.Fprintf(&b, "\n  request %d %s: queued (sent when the request before it has its outcome)", first+i, op)
	}
	return b.String()
}

// ClientStatus lists every request the client sent and how it stands.
func ClientStatus(c Client) string {
	reqs := c.Requests()
	var b strings.Builder
	fmt.Fprintf(&b, "client %s: view %d, %d requests", c.Name(), c.View(), len(reqs))
	for _, r := range reqs {
		fmt.Fprintf(&b, "\n  request %d %s#%d %s: ", r.N, r.Request.Client, r.Request.Timestamp, r.Request.Op)
		if r.Outcome != nil {
			b.WriteString(OutcomeText(r.Outcome.Committed, r.Outcome.Result))
		} else {
			b.WriteString("waiting")
		}
		fmt.Fprintf(&b, "; replies from %s", idList(r.Replies))
	}
	return b.String()
}
