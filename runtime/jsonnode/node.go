// Package jsonnode runs one replica as a node of the second seed's JSON
// protocol: newline-delimited envelopes {"src","dest","body"} on standard
// input and output, in the style of Maelstrom.
//
// # Messages a node answers
//
//   - init {msg_id, node_id, node_ids} → init_ok {in_reply_to, msg_id: 0}.
//     The replica's lab.ID is the position of node_id in node_ids, so with
//     node_ids [n1 n2 n3 n4] n1 is P0, the primary of view 0. The replica is
//     built with automatic votes and a bank of its own. The same init again
//     is answered again; a different one gets error code 22.
//   - pbft_request {msg_id, operation, client} → pbft_request_ok
//     {in_reply_to, sequence_number, view, phase}. See "Requests" below.
//   - pbft_status {msg_id, sequence_number} → pbft_status_ok {in_reply_to,
//     phase, prepares_received, commits_received, executed}. See "Status".
//   - any other type → error {in_reply_to, code: 10, text: "not supported:
//     <type>"}. A body that carries in_reply_to is somebody's answer, so it
//     is logged and never answered, which keeps two nodes from trading
//     errors forever.
//
// Bodies of a known type whose fields have the wrong shape get error code 12
// (malformed request); pbft_request and pbft_status before init get code 11
// (temporarily unavailable). A line that is not an envelope at all is
// reported on the log writer and skipped. Nothing a peer sends makes Run
// return: it returns nil at the end of its input, and an error only when
// reading the input or writing the output fails.
//
// # Between replicas
//
// A replica's Send and Broadcast become envelopes from this node to the
// destination's node id, with body {"type": "pbft_msg", "kind": "PREPARE",
// "payload": base64 of wire.Encode}. The kind is there for people reading a
// transcript; the payload alone is decoded. A pbft_msg is believed to come
// from the replica its envelope's src names: whatever routes the lines (the
// Maelstrom harness, a test) is trusted to stamp src honestly, as the
// simulator authenticates senders.
//
// A replica's Reply goes to the client's id as {"type": "pbft_reply", view,
// sequence_number, client, timestamp, replica, committed, result,
// operation}, where operation is the text the client sent (see "Operations").
// It carries no in_reply_to: the request was already answered by
// pbft_request_ok, and each replica sends its own reply, as PBFT clients
// expect (f+1 matching replies make a result).
//
// # Operations
//
// The kit's bank understands only operations of the form
// "account=alice,amount=100,operation=deposit"; the seed's clients send
// things like "set x=42". An operation that lab.ParseOperation accepts is
// passed to the replica unchanged and the bank judges it (an overdraft is
// voted down and aborts, as in the rest of the lab). Any other text becomes a
// deposit of 1 into an account named "op:" followed by the text, trimmed of
// surrounding white space, with "%" and "," written as "%25" and "%2C" (the
// bank splits fields at commas). Such a deposit is always valid, so the
// seed's requests commit, and the translation can be undone from the ordered
// request alone: every replica, not only the one the client spoke to, reports
// the client's own text in pbft_reply. Account names that begin with "op:"
// are therefore reserved for this use.
//
// # Requests
//
// The request handed to the replica is lab.Request{Client, Timestamp, Op}:
// Client is the body's client field (the envelope's src if it is missing),
// Timestamp is the request's msg_id and Op is the operation after the
// mapping above. Maelstrom clients number their messages upward, so msg_id
// behaves like PBFT's client timestamp and, unlike a counter kept by each
// node, means the same thing at every node the client talks to. A msg_id
// that is not an integer is a malformed request.
//
// After the replica has taken the request, pbft_request_ok reports where it
// stands in the replica's log: its sequence number, the view of its entry
// and its phase (just ordered by the primary: "pre-prepare"). When the
// replica has not ordered it yet, sequence_number is 0, which no request
// ever gets, and phase says why: "forwarded" at a backup, which passed the
// request on to the primary (named in an extra field, primary), and
// "pending" at a primary that is holding it back (its window is full, say).
// A backup does not answer with an error because the request is not lost:
// the primary will order it. A request from a client that already had a
// later msg_id executed is refused with error code 14 (abort): the bank
// would treat it as a duplicate and never run it.
//
// # Status
//
// pbft_status reads the replica's Status. For a sequence number in its log:
//
//   - phase is "pre-prepare", "prepared", "committed" or "aborted", or
//     "none" when only votes have arrived for it;
//   - prepares_received counts the backups whose matching yes prepare the
//     replica holds, its own included. lab.Entry.PrepareYes also lists the
//     view's primary, because its pre-prepare stands for its yes; that is
//     not a prepare message, so it is left out. With four replicas and every
//     vote in, that is 3: the 2f prepares of the certificate plus one more;
//   - commits_received counts the distinct replicas whose commit ack it
//     holds, its own and the primary's included: 4 with four replicas. The
//     prepared certificate is the pre-prepare plus 2f prepares, the
//     committed one 2f+1 commits;
//   - executed is true once the bank has run the sequence number.
//
// A sequence number the log no longer holds (garbage collected after a
// stable checkpoint) is answered from the replica's History: "committed" or
// "aborted" and executed. The votes went with the log, so a committed one
// reports the certificate's minimum, 2f prepares and 2f+1 commits, and an
// aborted one reports 0 and 0. A sequence number at or below the last
// executed one with no history is a null request, reported as committed
// with the same minimum. Anything else is phase "none", 0, 0, not executed.
//
// # Concurrency
//
// Run reads, calls the replica and writes from the goroutine that called
// it. It never calls Tick, so the replica's clock stands still and a run
// is deterministic: the same input gives the same output. RunWith can add
// a clock (Options.Tick): a goroutine then calls Tick at that period, and
// every call into the replica, from either goroutine, holds one lock, so
// the replica is still called one call at a time. With a clock, a backup's
// view-change timer runs, and a dead primary is replaced. Output lines are
// written whole, under a mutex, each with one Write, and out is flushed
// after every line when it has a Flush method.
//
// # A client's request at a backup
//
// A Maelstrom client sends its request to one node and waits; it does not
// resend it to every replica when the answer is late, as a PBFT client
// does. A backup node therefore passes a client's request on to every
// other node itself (as a pbft_msg REQUEST, besides the replica's own
// forwarding to the primary), so that every backup knows of it and starts
// its timer: if the primary is dead, 2f+1 of them ask for a view change
// and the new primary orders the request.
package jsonnode

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"pbftlab/lab"
	"pbftlab/wire"
)

// Maelstrom's error codes that this node uses.
const (
	codeNotSupported = 10
	codeUnavailable  = 11
	codeMalformed    = 12
	codeAbort        = 14
	codePrecondition = 22
)

// maxLine bounds one input line. A longer line is skipped, not buffered.
const maxLine = 16 << 20

// Run serves the JSON protocol on in and out for a replica built by
// newReplica, writing its trace and complaints to log (which may be nil).
// It returns nil when in ends. The replica's clock stands still.
func Run(newReplica lab.NewFunc, in io.Reader, out io.Writer, log io.Writer) error {
	return RunWith(newReplica, in, out, log, Options{})
}

// Options are the settings of RunWith.
type Options struct {
	// Tick is the period of the replica's clock; zero stops it.
	Tick time.Duration
}

// RunWith is Run with options.
func RunWith(newReplica lab.NewFunc, in io.Reader, out io.Writer, log io.Writer, opts Options) error {
	if log == nil {
		log = io.Discard
	}
	n := &node{
		newReplica: newReplica,
		out:        &output{w: out},
		log:        &logger{w: log},
	}
	if opts.Tick > 0 {
		stop := make(chan struct{})
		var ticker sync.WaitGroup
		ticker.Add(1)
		go func() {
			defer ticker.Done()
			n.clock(opts.Tick, stop)
		}()
		defer ticker.Wait()
		defer close(stop)
	}
	r := bufio.NewReaderSize(in, 64<<10)
	for {
		line, tooLong, err := readLine(r)
		switch {
		case tooLong:
			n.log.printf("skipped a line longer than %d bytes", maxLine)
		case len(bytes.TrimSpace(line)) > 0:
			n.mu.Lock()
			n.handleLine(line)
			n.mu.Unlock()
		}
		if werr := n.out.error(); werr != nil {
			return fmt.Errorf("jsonnode: writing output: %w", werr)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("jsonnode: reading input: %w", err)
		}
	}
}

// clock ticks the replica every period until stop is closed.
func (n *node) clock(period time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			n.mu.Lock()
			if n.replica != nil {
				n.call(func(r lab.Replica) { r.Tick() })
			}
			n.mu.Unlock()
		}
	}
}

// readLine returns the next line without holding more than maxLine bytes
// of it; tooLong says the line was longer and has been thrown away.
func readLine(r *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		frag, err := r.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(frag) > maxLine {
				tooLong, line = true, nil
			} else {
				line = append(line, frag...)
			}
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return line, tooLong, err
		}
	}
}

// node is the state of one JSON node. Whoever uses it holds mu: the
// goroutine in Run, and the clock's.
type node struct {
	mu         sync.Mutex
	newReplica lab.NewFunc
	out        *output
	log        *logger

	self    string   // this node's id; "" until init
	ids     []string // every node's id; a replica's lab.ID indexes it
	me      lab.ID
	replica lab.Replica
	replies []lab.Reply // held until the replica returns; see flushReplies
}

type envelope struct {
	Src  string          `json:"src"`
	Dest string          `json:"dest"`
	Body json.RawMessage `json:"body"`
}

// header holds the fields every body is looked at for.
type header struct {
	Type      string          `json:"type"`
	MsgID     json.RawMessage `json:"msg_id"`
	InReplyTo json.RawMessage `json:"in_reply_to"`
}

// replyTypes are answers this node sends; when one arrives it is logged
// and not answered.
var replyTypes = []string{"init_ok", "pbft_request_ok", "pbft_status_ok", "pbft_reply", "error"}

func (n *node) handleLine(line []byte) {
	var env envelope
	if err := json.Unmarshal(line, &env); err != nil {
		n.log.printf("skipped a malformed line (%v): %s", err, clip(line))
		return
	}
	var h header
	if len(env.Body) == 0 || json.Unmarshal(env.Body, &h) != nil || h.Type == "" {
		n.log.printf("skipped a malformed line (the body is not an object with a type): %s", clip(line))
		return
	}
	if n.self != "" && env.Dest != "" && env.Dest != n.self {
		n.log.printf("skipped a message for %s (this is %s): %s", env.Dest, n.self, clip(line))
		return
	}
	switch {
	case h.Type == "init":
		n.onInit(env, h)
	case h.Type == "pbft_request":
		n.onRequest(env, h)
	case h.Type == "pbft_status":
		n.onStatus(env, h)
	case h.Type == "pbft_msg":
		n.onPeerMessage(env)
	case slices.Contains(replyTypes, h.Type) || len(h.InReplyTo) > 0:
		n.log.printf("ignored %s from %s: %s", h.Type, env.Src, clip(env.Body))
	default:
		n.fail(env.Src, h.MsgID, codeNotSupported, "not supported: "+h.Type)
	}
}

type initBody struct {
	NodeID  string   `json:"node_id"`
	NodeIDs []string `json:"node_ids"`
}

func (n *node) onInit(env envelope, h header) {
	var b initBody
	if err := json.Unmarshal(env.Body, &b); err != nil {
		n.fail(env.Src, h.MsgID, codeMalformed, "init: "+err.Error())
		return
	}
	me := slices.Index(b.NodeIDs, b.NodeID)
	if me < 0 {
		n.fail(env.Src, h.MsgID, codeMalformed, fmt.Sprintf("init: node_id %q is not in node_ids %q", b.NodeID, b.NodeIDs))
		return
	}
	for i, id := range b.NodeIDs {
		if slices.Index(b.NodeIDs, id) != i {
			n.fail(env.Src, h.MsgID, codeMalformed, fmt.Sprintf("init: node_ids lists %q twice", id))
			return
		}
	}
	if n.replica != nil {
		// A repeated init (a harness retrying) is answered again; one that
		// would make this node somebody else is refused.
		if b.NodeID != n.self || !slices.Equal(b.NodeIDs, n.ids) {
			n.fail(env.Src, h.MsgID, codePrecondition, fmt.Sprintf("already initialised as %s of %q", n.self, n.ids))
			return
		}
	} else {
		n.self, n.ids, n.me = b.NodeID, slices.Clone(b.NodeIDs), lab.ID(me)
		n.log.prefix = n.self + ": "
		cfg := lab.Config{ID: n.me, N: len(n.ids), Bank: lab.NewBank(nil, nil)}.WithDefaults()
		n.call(func(lab.Replica) {
			n.replica = n.newReplica(cfg, (*nodeEnv)(n))
		})
		if n.replica == nil {
			n.self, n.ids, n.log.prefix = "", nil, ""
			n.fail(env.Src, h.MsgID, codeUnavailable, "init: the replica could not be built")
			return
		}
		n.log.printf("replica %s of %d", n.me, len(n.ids))
	}
	n.send(env.Src, initOK{Type: "init_ok", InReplyTo: h.MsgID, MsgID: 0})
}

type initOK struct {
	Type      string          `json:"type"`
	InReplyTo json.RawMessage `json:"in_reply_to,omitempty"`
	MsgID     int             `json:"msg_id"`
}

type requestBody struct {
	MsgID     *int64  `json:"msg_id"`
	Operation *string `json:"operation"`
	Client    string  `json:"client"`
}

type requestOK struct {
	Type           string          `json:"type"`
	InReplyTo      json.RawMessage `json:"in_reply_to,omitempty"`
	SequenceNumber int             `json:"sequence_number"`
	View           int             `json:"view"`
	Phase          string          `json:"phase"`
	Primary        string          `json:"primary,omitempty"`
}

func (n *node) onRequest(env envelope, h header) {
	if n.replica == nil {
		n.fail(env.Src, h.MsgID, codeUnavailable, "not initialised: send init first")
		return
	}
	var b requestBody
	if err := json.Unmarshal(env.Body, &b); err != nil {
		n.fail(env.Src, h.MsgID, codeMalformed, "pbft_request: "+err.Error())
		return
	}
	if b.MsgID == nil || b.Operation == nil {
		n.fail(env.Src, h.MsgID, codeMalformed, "pbft_request needs an integer msg_id and an operation")
		return
	}
	req := lab.Request{Client: b.Client, Timestamp: *b.MsgID, Op: toBank(*b.Operation)}
	if req.Client == "" {
		req.Client = env.Src
	}
	n.call(func(r lab.Replica) { r.Receive(lab.Client, &req) })

	st, ok := n.status()
	if ok && st.Primary != n.me {
		n.relay(&req, st.Primary)
	}
	if !ok {
		n.fail(env.Src, h.MsgID, codeUnavailable, "the replica failed to report its status")
		return
	}
	resp := requestOK{Type: "pbft_request_ok", InReplyTo: h.MsgID, View: st.View}
	if e, found := findRequest(st, req); found {
		resp.SequenceNumber, resp.View, resp.Phase = e.Seq, e.View, e.Phase
	} else if later, stale := staleRequest(st, req); stale {
		n.fail(env.Src, h.MsgID, codeAbort, fmt.Sprintf("client %s already had msg_id %d executed; a request's msg_id must be higher", req.Client, later))
		return
	} else if st.Primary == n.me {
		resp.Phase = "pending"
	} else {
		resp.Phase, resp.Primary = "forwarded", n.name(st.Primary)
	}
	n.send(env.Src, resp)
}

// relay passes a client's request on to the backups other than this
// one, as a PBFT client does when its request goes unanswered (see
// "A client's request at a backup"); the replica forwards it to the
// primary itself.
func (n *node) relay(req *lab.Request, primary lab.ID) {
	body := peerMessage{Type: "pbft_msg", Kind: lab.KindRequest.String(), Payload: wire.Encode(req)}
	for i, id := range n.ids {
		if lab.ID(i) != n.me && lab.ID(i) != primary {
			n.send(id, body)
		}
	}
}

type statusBody struct {
	SequenceNumber *int `json:"sequence_number"`
}

type statusOK struct {
	Type             string          `json:"type"`
	InReplyTo        json.RawMessage `json:"in_reply_to,omitempty"`
	Phase            string          `json:"phase"`
	PreparesReceived int             `json:"prepares_received"`
	CommitsReceived  int             `json:"commits_received"`
	Executed         bool            `json:"executed"`
}

func (n *node) onStatus(env envelope, h header) {
	if n.replica == nil {
		n.fail(env.Src, h.MsgID, codeUnavailable, "not initialised: send init first")
		return
	}
	var b statusBody
	if err := json.Unmarshal(env.Body, &b); err != nil || b.SequenceNumber == nil {
		n.fail(env.Src, h.MsgID, codeMalformed, "pbft_status needs an integer sequence_number")
		return
	}
	st, ok := n.status()
	if !ok {
		n.fail(env.Src, h.MsgID, codeUnavailable, "the replica failed to report its status")
		return
	}
	s := seqStatus(st, len(n.ids), *b.SequenceNumber)
	s.Type, s.InReplyTo = "pbft_status_ok", h.MsgID
	n.send(env.Src, s)
}

type peerBody struct {
	Payload []byte `json:"payload"` // base64 in JSON
}

func (n *node) onPeerMessage(env envelope) {
	if n.replica == nil {
		n.log.printf("dropped pbft_msg from %s: not initialised yet", env.Src)
		return
	}
	from := lab.ID(slices.Index(n.ids, env.Src))
	if from < 0 || from == n.me {
		n.log.printf("dropped pbft_msg from %s: only the other nodes %q send those", env.Src, n.ids)
		return
	}
	var b peerBody
	if err := json.Unmarshal(env.Body, &b); err != nil {
		n.log.printf("dropped pbft_msg from %s: %v", env.Src, err)
		return
	}
	m, err := wire.Decode(b.Payload)
	if err != nil {
		n.log.printf("dropped pbft_msg from %s: %v", env.Src, err)
		return
	}
	n.call(func(r lab.Replica) { r.Receive(from, m) })
}

// call runs f on the replica. A panic in the replica is logged with its
// stack and the node goes on with the next line: one bad message must not
// take the node down. Replies the replica made are sent once it returns.
func (n *node) call(f func(lab.Replica)) {
	defer n.flushReplies()
	defer func() {
		if p := recover(); p != nil {
			n.log.printf("the replica panicked: %v\n%s", p, debug.Stack())
		}
	}()
	f(n.replica)
}

// status returns the replica's Status, or false if it panicked.
func (n *node) status() (st lab.Status, ok bool) {
	n.call(func(r lab.Replica) { st, ok = r.Status(), true })
	return st, ok
}

// flushReplies sends the replies the replica made during the call that
// just returned. They wait until then because the operation a reply reports
// is read from the replica's Status, which is not to be asked for while
// the replica is in the middle of handling a message.
func (n *node) flushReplies() {
	if len(n.replies) == 0 {
		return
	}
	replies := n.replies
	n.replies = nil
	var history []lab.Outcome
	if st, ok := n.status(); ok {
		history = st.History
	}
	for _, r := range replies {
		body := pbftReply{
			Type: "pbft_reply", View: r.View, SequenceNumber: r.Seq, Client: r.Client,
			Timestamp: r.Timestamp, Replica: n.name(r.Replica), Committed: r.Committed, Result: r.Result,
		}
		for i := len(history) - 1; i >= 0; i-- {
			o := history[i]
			if o.Seq == r.Seq && o.Request.Client == r.Client && o.Request.Timestamp == r.Timestamp {
				body.Operation = fromBank(o.Request.Op)
				break
			}
		}
		n.send(r.Client, body)
	}
}

type pbftReply struct {
	Type           string `json:"type"`
	View           int    `json:"view"`
	SequenceNumber int    `json:"sequence_number"`
	Client         string `json:"client"`
	Timestamp      int64  `json:"timestamp"`
	Replica        string `json:"replica"`
	Committed      bool   `json:"committed"`
	Result         string `json:"result"`
	Operation      string `json:"operation,omitempty"`
}

type errorBody struct {
	Type      string          `json:"type"`
	InReplyTo json.RawMessage `json:"in_reply_to,omitempty"`
	Code      int             `json:"code"`
	Text      string          `json:"text"`
}

// fail answers a message with a Maelstrom error body.
func (n *node) fail(dest string, msgID json.RawMessage, code int, text string) {
	n.log.printf("error %d to %s: %s", code, dest, text)
	n.send(dest, errorBody{Type: "error", InReplyTo: msgID, Code: code, Text: text})
}

// send writes one envelope from this node.
func (n *node) send(dest string, body any) {
	if err := n.out.write(envelopeOut{Src: n.self, Dest: dest, Body: body}); err != nil {
		n.log.printf("could not write to %s: %v", dest, err)
	}
}

type envelopeOut struct {
	Src  string `json:"src"`
	Dest string `json:"dest"`
	Body any    `json:"body"`
}

// name returns the node id of a replica.
func (n *node) name(id lab.ID) string {
	if id >= 0 && int(id) < len(n.ids) {
		return n.ids[id]
	}
	return id.String()
}

// clip shortens a line for the log.
func clip(b []byte) string {
	const limit = 200
	b = bytes.TrimSpace(b)
	if len(b) > limit {
		return string(b[:limit]) + "..."
	}
	return string(b)
}
