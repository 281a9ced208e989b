package console

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"pbftlab/lab"
	"pbftlab/lab/script"
	"pbftlab/lab/tcp"
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
// implements tcp.ClientObserver.
type ClientEvents struct {
	out    *Out
	prefix string
	mu     sync.Mutex
	count  int
}

var _ tcp.ClientObserver = (*ClientEvents)(nil)

// NewClientEvents prints behind prefix.
func NewClientEvents(out *Out, prefix string) *ClientEvents {
	return &ClientEvents{out: out, prefix: prefix}
}

// Replied prints one reply.
func (e *ClientEvents) Replied(from lab.ID, n int, r lab.Reply) {
	e.mu.Lock()
	e.count++
	k := e.count
	e.mu.Unlock()
	e.out.Printf(e.prefix, "reply %d from %s: request %d (n%d, view %d) %s: %s", k, from, n, r.Seq, r.View, word(r.Committed, "committed", "aborted"), r.Result)
}

// Decided prints an outcome the client accepted.
func (e *ClientEvents) Decided(n int, o tcp.Outcome) {
	e.out.Printf(e.prefix, "request %d %s: %s (%d matching replies, %v)", n, word(o.Committed, "committed", "aborted"), o.Result, o.Replies, o.Latency.Round(100*time.Microsecond))
}

// Noted prints what the transport says.
func (e *ClientEvents) Noted(line string) { e.out.Print(e.prefix, "-- "+line) }

// RunClient reads client commands from in until quit (nil) or the end of
// the input (ErrEndOfInput).
func RunClient(c Client, in io.Reader, out *Out, prompt string) error {
	return loop(in, out, prompt, func(line string) bool {
		text, quit, err := ClientCommand(c, line)
		switch {
		case err != nil:
			out.Print("", "error: "+oneLine(err))
		case text != "":
			out.Print("", text)
		}
		return quit
	})
}

// ClientCommand carries out one line at the client's console.
func ClientCommand(c Client, line string) (text string, quit bool, err error) {
	words := strings.Fields(strings.ToLower(line))
	if len(words) == 0 {
		return "", false, nil
	}
	switch words[0] {
	case "help", "?":
		return clientHelp, false, nil
	case "quit", "exit":
		return "", true, nil
	case "status", "list":
		return ClientStatus(c), false, nil
	case "net":
		return NetReport(c), false, nil
	}
	st, err := script.ParseStep("client", line)
	if err != nil {
		return "", false, err
	}
	return clientStep(c, st), false, nil
}

func clientStep(c Client, st script.Step) string {
	var nums []string
	for range st.Times {
		nums = append(nums, fmt.Sprint(c.Send(st.Op)))
	}
	if len(nums) == 1 {
		return fmt.Sprintf("ok: sent request %s: %s", nums[0], st.Op)
	}
	return fmt.Sprintf("ok: sent requests %s: %s", strings.Join(nums, ", "), st.Op)
}

// ClientStatus lists every request the client sent and how it stands.
func ClientStatus(c Client) string {
	reqs := c.Requests()
	var b strings.Builder
	fmt.Fprintf(&b, "client %s: view %d, %d requests", c.Name(), c.View(), len(reqs))
	for _, r := range reqs {
		fmt.Fprintf(&b, "\n  request %d %s#%d %s: ", r.N, r.Request.Client, r.Request.Timestamp, r.Request.Op)
		if r.Outcome != nil {
			fmt.Fprintf(&b, "%s (%s)", word(r.Outcome.Committed, "committed", "aborted"), r.Outcome.Result)
		} else {
			b.WriteString("waiting")
		}
		fmt.Fprintf(&b, "; replies from %s", idList(r.Replies))
	}
	return b.String()
}
