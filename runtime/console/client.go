package console

import (
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
	if e.quietNote(line) {
		return
	}
	e.out.Print(e.prefix, "-- "+line)
}

// quietNote keeps the resends of a batch's requests from flooding the
// console: one line per resend round is enough.
func (e *ClientEvents) quietNote(line string) bool {
	var n int
	if _, err := fmt.Sscanf(line, "request %d unanswered", &n); err != nil {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.quiet(n)
	return b != nil && n != b.first+b.decided
}

// Replies lists every reply received, as list prints them.
func (e *ClientEvents) Replies() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.replies...)
}

// ClientConsole is the client's console.
type ClientConsole struct {
	c  Client
	ev *ClientEvents // may be nil
}

// NewClientConsole makes the console of c; ev, when not nil, is the
// observer printing c's replies.
func NewClientConsole(c Client, ev *ClientEvents) *ClientConsole {
	return &ClientConsole{c: c, ev: ev}
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
// events to read from.
func ClientCommand(c Client, line string) (text string, quit bool, err error) {
	return NewClientConsole(c, nil).Command(line)
}

// Command carries out one line at the client's console.
func (cc *ClientConsole) Command(line string) (text string, quit bool, err error) {
	words := strings.Fields(strings.ToLower(line))
	if len(words) == 0 {
		return "", false, nil
	}
	switch words[0] {
	case "help", "?":
		return clientHelp, false, nil
	case "quit", "exit":
		return "", true, nil
	case "status":
		return ClientStatus(cc.c), false, nil
	case "list":
		return cc.list(), false, nil
	case "net":
		return NetReport(cc.c), false, nil
	}
	if words[0] != "send" && words[0] != "tx" && !strings.Contains(words[0], "=") {
		return "", false, fmt.Errorf("unknown command %q: the client takes send OPERATION [times N] (or the operation alone), status, list, net, help and quit", words[0])
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
	text, err = cc.send(st)
	return text, false, err
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

// send sends the requests of a parsed send line.
func (cc *ClientConsole) send(st script.Step) (string, error) {
	if st.Times > 1 {
		// The batch is announced before its first request leaves, so
		// that no reply to it is printed on its own. Requests are
		// numbered from 1 in the order this client sends them.
		next := len(cc.c.Requests()) + 1
		cc.ev.expect(next, next+st.Times-1, st.Op)
	}
	first := cc.c.Send(st.Op)
	last := first
	for range st.Times - 1 {
		last = cc.c.Send(st.Op)
	}
	if first == last {
		return fmt.Sprintf("ok: sent request %d: %s", first, st.Op), nil
	}
	return fmt.Sprintf("ok: sent requests %d to %d: %s (one line when all are decided)", first, last, st.Op), nil
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
