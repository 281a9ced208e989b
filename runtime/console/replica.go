package console

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"pbftlab/lab"
	"pbftlab/runtime/tcp"
	"pbftlab/script"
)

// Replica is what a replica's console drives; *tcp.Node is one.
type Replica interface {
	ID() lab.ID
	N() int
	Peers() tcp.Peers
	Byzantine() []lab.ID
	// Manual reports whether the replica waits for typed votes; without
	// them, a primary orders each client request as it arrives.
	Manual() bool
	Do(c lab.Command) error
	VoteTo(to lab.ID, op lab.Op, yes bool) error
	Crash() error
	Recover() error
	Tick() error
	Crashed() bool
	Status() (lab.Status, error)
	Balances() map[string]int
	Network
}

// Network is what the net command reports on.
type Network interface {
	Links() []tcp.LinkInfo
	Sent() map[string]uint64
	Handled() map[string]uint64
	Rejected() uint64
}

var _ Replica = (*tcp.Node)(nil)

// ReplicaConsole is the console of one replica: it carries out the lines
// typed at it and remembers what a line leaves open for the next one (the
// data> prompt after a bare tx).
type ReplicaConsole struct {
	r  Replica
	ev *Events // the replica's events, or nil
	// Snapshot, when set, writes a snapshot of the replica's state to its
	// checkpoint log and says where: the checkpoint command always does,
	// as the original lab does, whether or not a new checkpoint is due.
	Snapshot func() (string, error)
	data     *dataWait
	// named is the request the last tx named, ordered by it or found
	// ordered already, so that a second bare tx does not name it again.
	named *lab.Request
}

// NewReplicaConsole makes the console of r; ev, when not nil, is the
// observer printing r's events, which tells the console what the replica
// did by itself.
func NewReplicaConsole(r Replica, ev *Events) *ReplicaConsole {
	return &ReplicaConsole{r: r, ev: ev}
}

// Prompt is what to print before the next line at a terminal: "data> "
// while a bare tx waits for its operation, else normal.
func (c *ReplicaConsole) Prompt(normal string) string {
	if normal != "" && c.data != nil && c.data.propose {
		return "data> "
	}
	return normal
}

// RunReplica reads commands for c from in until quit (it returns nil) or
// the end of the input (ErrEndOfInput). prompt, when not empty, is printed
// before each line is read (for a person at a terminal; a script does not
// need it).
func RunReplica(c *ReplicaConsole, in io.Reader, out *Out, prompt string) error {
	return loop(in, out, func() string { return c.Prompt(prompt) }, func(line string) bool {
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

// ErrEndOfInput is what a console returns when its input ends without a
// quit.
var ErrEndOfInput = errors.New("end of input")

// loop reads lines and hands each non-blank one to do until it says quit
// (nil) or the input ends (ErrEndOfInput). A quit gets one line back, so
// a person sees that the console heard it; the end of the input is told
// by whoever decides what happens next (see cli). A line longer than
// MaxLine is skipped with one error: whatever is piped in, a line costs
// that line only, never the process.
func loop(in io.Reader, out *Out, prompt func() string, do func(line string) (quit bool)) error {
	lr := newLineReader(in, MaxLine)
	for {
		out.prompt(prompt())
		text, n, err := lr.next()
		switch {
		case err != nil:
			if errors.Is(err, io.EOF) {
				return ErrEndOfInput
			}
			return err
		case n > MaxLine:
			out.Printf("", "error: line too long: %d bytes, at most %d; ignored", n, MaxLine)
			continue
		}
		line := strings.TrimSpace(text)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if do(line) {
			out.Print("", "ok: quit: leaving")
			return nil
		}
	}
}

// MaxLine is the longest console line carried out, in bytes: far more
// than any command or operation, little enough that a stray stream of
// bytes with no newline costs bounded memory.
const MaxLine = 1 << 20

// lineReader reads lines of any length. It keeps at most max bytes of
// each: a longer line is read to its end and reported by its length
// alone.
type lineReader struct {
	r   *bufio.Reader
	max int
}

func newLineReader(in io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(in, 64<<10), max: max}
}

// next returns the next line without its line ending, and its length in
// bytes; when the length is over max, the text is left out. The last
// line of the input needs no newline; after it, next returns io.EOF.
func (lr *lineReader) next() (string, int, error) {
	var buf, last []byte
	read := 0
	for {
		chunk, err := lr.r.ReadSlice('\n')
		read += len(chunk)
		if read <= lr.max+len("\r\n") {
			buf = append(buf, chunk...)
		}
		last = chunk
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && (!errors.Is(err, io.EOF) || read == 0) {
			return "", 0, err
		}
		break
	}
	ending := 0
	if bytes.HasSuffix(last, []byte("\r\n")) {
		ending = 2
	} else if bytes.HasSuffix(last, []byte("\n")) {
		ending = 1
	}
	if n := read - ending; n > lr.max {
		return "", n, nil
	}
	return string(buf[:len(buf)-ending]), read - ending, nil
}

// ReplicaCommand carries out one console line at replica r, with a console
// of its own that remembers nothing from earlier lines.
func ReplicaCommand(r Replica, line string) (text string, quit bool, err error) {
	return NewReplicaConsole(r, nil).Command(line)
}

// Command carries out one console line and returns what to print, whether
// the line was quit, or the error to show.
func (c *ReplicaConsole) Command(line string) (text string, quit bool, err error) {
	words := strings.Fields(strings.ToLower(line))
	if len(words) == 0 {
		return "", false, nil
	}
	if wait := c.data; wait != nil && !query(words[0]) {
		// A query (status, net, ...) leaves the data> prompt open: a
		// person may look around before typing the operation, and a
		// script reads the message counts between any two lines.
		c.data = nil
		if looksLikeOperation(line) {
			return c.dataLine(wait, strings.TrimSpace(line))
		}
		if wait.propose {
			defer func() {
				text = joinLines("-- no operation after tx: nothing ordered", text)
			}()
		}
	}
	r := c.r
	if len(words) > 1 && noArgument[words[0]] {
		hint := ""
		if words[0] == "data" {
			hint = " (at the primary, tx opens a data> prompt for an operation)"
		}
		return "", false, fmt.Errorf("%s takes no argument: type %s alone%s", words[0], words[0], hint)
	}
	switch words[0] {
	case "help", "?":
		return replicaHelp, false, nil
	case "quit", "exit":
		return "", true, nil
	case "net":
		return NetReport(r), false, nil
	case "data":
		return DataReport(r), false, nil
	case "status":
		switch {
		case len(words) == 1:
			return StatusReport(r, false), false, nil
		case len(words) == 2 && (words[1] == "all" || words[1] == "-a" || words[1] == "--all"):
			return StatusReport(r, true), false, nil
		}
		return "", false, fmt.Errorf("want status, or status all for the whole history")
	case "tick":
		k, err := tickCount(words)
		if err != nil {
			return "", false, err
		}
		for range k {
			if err := r.Tick(); err != nil {
				return "", false, err
			}
		}
		return fmt.Sprintf("ok: %d tick(s)", k), false, nil
	case "view":
		if len(words) != 2 || words[1] != "change" {
			return "", false, fmt.Errorf("want \"view change\"")
		}
	case "send":
		return "", false, fmt.Errorf("send is the client's command; at the primary, tx [OPERATION] orders a request (send KIND ... to PX is %s)", caseFileOnly)
	case "lie", "withhold", "stop":
		return "", false, fmt.Errorf("%s is %s", words[0], caseFileOnly)
	case "tx":
		if slices.Contains(words, "to") {
			return "", false, fmt.Errorf("tx ... to PX is %s", caseFileOnly)
		}
	}
	if looksLikeOperation(line) {
		return "", false, fmt.Errorf("an operation line answers the data> prompt of a bare tx at the primary; to order this one, type tx %s", strings.TrimSpace(line))
	}
	if !slices.Contains(replicaWords, words[0]) {
		return "", false, unknownCommand(line, replicaCommands, c.commandList())
	}
	st, err := script.ParseCommand(line)
	if err != nil {
		return "", false, err
	}
	return c.step(st)
}

// noArgument holds the commands of a replica's console that take no
// argument: one given is refused rather than ignored, so "checkpoint 5"
// and "quit now" are told alike.
var noArgument = map[string]bool{
	"help": true, "?": true, "quit": true, "exit": true, "net": true, "data": true,
	"list": true, "progress": true, "crash": true, "recover": true, "checkpoint": true, "viewchange": true,
}

// caseFileOnly ends the error for the Byzantine commands of the case
// language that a console does not take: the grader's simulator plays
// them, the TCP runtime has no way to.
const caseFileOnly = "a command of the case files, played by the grader's simulator, not at a console; a Byzantine replica's console votes to one replica: prepare to PX yes|no, ack to PX commit|abort"

// replicaWords are the first words of the commands ParseCommand reads for
// a replica's console.
var replicaWords = []string{"tx", "prepare", "ack", "progress", "crash", "recover", "view", "viewchange", "checkpoint", "list", "status"}

// replicaCommands are the commands a mistyped one is compared with.
var replicaCommands = []string{"status", "status all", "data", "list", "tx", "prepare yes", "prepare no", "ack commit", "ack abort",
	"progress", "crash", "recover", "view change", "checkpoint", "tick", "net", "help", "quit"}

// commandList names the commands this replica's console takes, the
// single-replica votes only at a Byzantine replica, which alone may send
// them.
func (c *ReplicaConsole) commandList() string {
	list := "tx, prepare yes|no, ack commit|abort, progress, crash, recover, view change, checkpoint, status [all], data, list, net, tick [N], help, quit"
	if slices.Contains(c.r.Byzantine(), c.r.ID()) {
		list += ", prepare to PX yes|no, ack to PX commit|abort"
	}
	return list
}

// unknownCommand is the error for a line that starts with no command: the
// line, cut short (a stray stream of bytes costs one short line per line),
// the command it is nearest to, and the commands there are.
func unknownCommand(line string, known []string, list string) error {
	// A guess is made for a few words, not for a stray stream of bytes.
	typed, guess := strings.Join(strings.Fields(strings.ToLower(line)), " "), ""
	if len(typed) <= maxQuoted {
		guess = script.Nearest(typed, known)
	}
	if first := strings.Fields(typed)[0]; guess == "" && len(first) <= maxQuoted {
		guess = script.Nearest(first, known)
	}
	shown := strings.TrimSpace(line)
	if len(shown) > maxQuoted {
		shown = shown[:maxQuoted] + "..."
	}
	if guess != "" {
		return fmt.Errorf("unknown command %q: did you mean %s? (commands: %s)", shown, guess, list)
	}
	return fmt.Errorf("unknown command %q (commands: %s)", shown, list)
}

// maxQuoted bounds how much of an unknown line its error repeats.
const maxQuoted = 32

// query reports whether a command only reads: it changes nothing at the
// replica.
func query(word string) bool {
	switch word {
	case "help", "?", "net", "status", "list", "data":
		return true
	}
	return false
}

// step carries out a parsed command.
func (c *ReplicaConsole) step(st script.Step) (string, bool, error) {
	r := c.r
	var err error
	if (st.Action == script.Do || st.Action == script.VoteTo) && r.Crashed() {
		// The seed's Case 5 has the crashed replica ack: the line is taken,
		// and does what a crashed replica does, nothing.
		return fmt.Sprintf("ok: %s: not carried out: %s is crashed, and handles and sends nothing until recover", strings.Join(strings.Fields(st.Text), " "), r.ID()), false, nil
	}
	switch st.Action {
	case script.Do:
		switch st.Cmd.Op {
		case lab.OpPropose:
			return c.tx(st)
		case lab.OpViewChange:
			return c.viewChange(st)
		case lab.OpCheckpoint:
			return c.checkpoint(st)
		case lab.OpPrepare, lab.OpAck:
			return c.vote(st)
		}
		err = c.ev.Typed(func() error { return r.Do(st.Cmd) })
	case script.VoteTo:
		if err := r.VoteTo(st.To, st.Cmd.Op, st.Cmd.Vote); err != nil {
			return "", false, err
		}
		// The runtime sends it twice, as the cases do, to check that the
		// receiver counts it once; its console shows both arrivals.
		return fmt.Sprintf("%s (sent twice, as the cases send a Byzantine vote: %s must count it once)", okLine(st), st.To), false, nil
	case script.Crash:
		err = r.Crash()
	case script.Recover:
		err = c.ev.Typed(r.Recover)
	case script.Show:
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(st.Text)), "list") {
			return Members(r), false, nil
		}
		return StatusReport(r, false), false, nil
	default:
		return "", false, fmt.Errorf("%q is not a replica command", st.Text)
	}
	if err != nil {
		return "", false, err
	}
	return okLine(st), false, nil
}

func okLine(st script.Step) string { return "ok: " + strings.Join(strings.Fields(st.Text), " ") }

// StatusReport is what status prints (FormatStatus), and whether the
// replica is crashed; all asks for the whole history.
func StatusReport(r Replica, all bool) string {
	st, err := r.Status()
	if err != nil {
		return fmt.Sprintf("%s: no status: %v", r.ID(), err)
	}
	text := FormatStatus(st, r.Balances(), all)
	if r.Crashed() {
		text += "\n  crashed: handling nothing until recover"
	}
	return text
}

// Members is what list prints: every replica, where it listens, its role
// and whether this replica is connected to it.
func Members(r Replica) string {
	st, err := r.Status()
	primary := lab.Primary(0, r.N())
	if err == nil {
		primary = st.Primary
	}
	up := map[lab.ID]bool{}
	for _, l := range r.Links() {
		if l.Outbound {
			up[l.Peer] = l.Up
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "members of the cluster (N = %d, f = %d, quorum %d):", r.N(), lab.Faulty(r.N()), lab.Quorum(r.N()))
	for i := range r.N() {
		id := lab.ID(i)
		role := "replica"
		if id == primary {
			role = "primary"
		}
		if slices.Contains(r.Byzantine(), id) {
			role += ", Byzantine"
		}
		link := "this replica"
		if id != r.ID() {
			link = word(up[id], "connected", "not connected")
		}
		fmt.Fprintf(&b, "\n  %s (%s) at %s: %s", id, role, r.Peers().Addr(id), link)
	}
	if len(r.Byzantine()) == 0 {
		b.WriteString("\n  no replica is marked Byzantine")
	}
	return b.String()
}

// NetReport is what net prints: each connection, then the message counts.
// Its last line is the one scripts read: messages sent to and handled from
// each peer.
func NetReport(n Network) string { return netReport(n) }

// netReport is NetReport with more lines before the counts, which end it
// (a reader waits for them).
func netReport(n Network, more ...string) string {
	var b strings.Builder
	b.WriteString("links:")
	for _, l := range n.Links() {
		b.WriteString("\n  ")
		switch {
		case l.Outbound && l.Up:
			fmt.Fprintf(&b, "to %s at %s: up", l.Peer, l.Addr)
		case l.Outbound:
			fmt.Fprintf(&b, "to %s at %s: down", l.Peer, l.Addr)
			if l.Err != "" {
				fmt.Fprintf(&b, " (%s)", l.Err)
			}
		default:
			fmt.Fprintf(&b, "from %s at %s: up", whoLink(l), l.Addr)
		}
		if l.Up && l.Datagrams != "" {
			fmt.Fprintf(&b, ", %s", l.Datagrams)
		}
		if l.Queued > 0 {
			fmt.Fprintf(&b, ", %d queued", l.Queued)
		}
	}
	for _, line := range more {
		b.WriteString("\n" + line)
	}
	fmt.Fprintf(&b, "\nmessages: sent %s; handled %s; rejected %d", countList(n.Sent()), countList(n.Handled()), n.Rejected())
	return b.String()
}

func whoLink(l tcp.LinkInfo) string {
	if l.Peer == lab.Client {
		return "client " + l.Name
	}
	return l.Peer.String()
}

// countList renders counters by peer name in a fixed order: P0, P1, ...,
// then client.
func countList(m map[string]uint64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return peerOrder(a) - peerOrder(b) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

func peerOrder(name string) int {
	id, err := lab.ParseID(name)
	if err != nil || id == lab.Client {
		return 1 << 30
	}
	return int(id)
}

func tickCount(words []string) (int, error) {
	switch len(words) {
	case 1:
		return 1, nil
	case 2:
		k, err := strconv.Atoi(words[1])
		if err != nil || k < 1 || k > 100000 {
			return 0, fmt.Errorf("tick: %q is not a number of ticks (1 to 100000)", words[1])
		}
		return k, nil
	}
	return 0, fmt.Errorf("want \"tick\" or \"tick N\"")
}

// oneLine keeps an error on one console line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
