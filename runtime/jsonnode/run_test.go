package jsonnode_test

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
	"pbftlab/runtime/jsonnode"
	"pbftlab/runtime/jsonnode/jsontest"
	"pbftlab/wire"
)

// These tests run Run in-process against stub, a stand-in replica, so
// that they check the JSON layer alone and do not depend on a tree.

// stub orders every new request at once when it is P0 (a request is new
// when its client has none with the same or a later timestamp in the log)
// and forwards it to P0 otherwise. Any commit decides the entry it names, with every vote in.
// A request whose operation text is "panic" makes it panic.
type stub struct {
	cfg     lab.Config
	env     lab.Env
	log     []lab.Entry
	history []lab.Outcome
}

func newStub(cfg lab.Config, env lab.Env) lab.Replica { return &stub{cfg: cfg, env: env} }

func (s *stub) Receive(from lab.ID, m lab.Message) {
	switch m := m.(type) {
	case *lab.Request:
		if strings.Contains(m.Op, "op:panic,") {
			panic("stub told to panic")
		}
		if s.cfg.ID != 0 {
			s.env.Send(0, m)
			return
		}
		for _, e := range s.log {
			if e.Request.Client == m.Client && e.Request.Timestamp >= m.Timestamp {
				return // known, or older than one known
			}
		}
		seq := len(s.log) + 1
		s.log = append(s.log, lab.Entry{Seq: seq, Digest: lab.Digest(m), Request: m, Phase: lab.PhasePrePrepared, PrepareYes: []lab.ID{0}})
		s.env.Broadcast(&lab.PrePrepare{Seq: seq, Digest: lab.Digest(m), Request: m})
	case *lab.Commit:
		e := &s.log[m.Seq-1]
		all := []lab.ID{0, 1, 2, 3}
		e.Phase, e.PrepareYes, e.CommitYes, e.Executed = lab.PhaseCommitted, all, all, true
		s.history = append(s.history, lab.Outcome{Seq: e.Seq, Request: *e.Request, Committed: true, Result: "done"})
		s.env.Reply(lab.Reply{Seq: e.Seq, Timestamp: e.Request.Timestamp, Client: e.Request.Client, Replica: s.cfg.ID, Committed: true, Result: "done"})
	}
}

func (s *stub) Tick()                {}
func (s *stub) Do(lab.Command) error { return errors.New("not supported") }
func (s *stub) Status() lab.Status {
	return lab.Status{ID: s.cfg.ID, Primary: 0, Log: slices.Clone(s.log), History: slices.Clone(s.history), LastExecuted: len(s.history)}
}

// node is one Run on pipes.
type node struct {
	t      *testing.T
	in     *io.PipeWriter
	lines  chan string
	log    jsontest.Buffer
	exited chan struct{}
	err    error // Run's result, once exited is closed
}

func startNode(t *testing.T) *node {
	n := &node{t: t, lines: make(chan string, 1000), exited: make(chan struct{})}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	n.in = inW
	go func() {
		n.err = jsonnode.Run(newStub, inR, outW, &n.log)
		inR.CloseWithError(errors.New("Run has returned"))
		outW.Close()
		close(n.exited)
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			n.lines <- sc.Text()
		}
		close(n.lines)
	}()
	t.Cleanup(func() {
		inW.Close()
		outR.Close()
		<-n.exited
	})
	return n
}

func (n *node) send(line string) {
	n.t.Helper()
	_, err := n.in.Write([]byte(line + "\n"))
	require.NoError(n.t, err, "Run stopped reading; its log:\n%s", n.log.String())
}

// expect checks that the next output line equals want as a JSON value.
func (n *node) expect(want string) {
	n.t.Helper()
	select {
	case line, ok := <-n.lines:
		require.True(n.t, ok, "output ended; the log:\n%s", n.log.String())
		assert.Equal(n.t, jsontest.Value(n.t, want), jsontest.Value(n.t, line))
	case <-time.After(5 * time.Second):
		n.t.Fatalf("no output within 5s; expected %s\nthe log:\n%s", want, n.log.String())
	}
}

// finish ends the input and checks that Run returns nil and wrote
// nothing more.
func (n *node) finish() {
	n.t.Helper()
	require.NoError(n.t, n.in.Close())
	select {
	case <-n.exited:
	case <-time.After(5 * time.Second):
		n.t.Fatal("Run did not return at the end of its input")
	}
	assert.NoError(n.t, n.err)
	var rest []string
	for line := range n.lines {
		rest = append(rest, line)
	}
	assert.Empty(n.t, rest, "unexpected output")
}

const (
	initN1   = `{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1","n2","n3","n4"]}}`
	initN1OK = `{"src":"n1","dest":"c0","body":{"type":"init_ok","in_reply_to":1,"msg_id":0}}`
)

func TestMalformedLinesAreLoggedAndSkipped(t *testing.T) {
	n := startNode(t)
	malformed := []string{
		`not json`,
		`{"src":"c0","dest":"n1","body":{"type":"init"`,
		`[1,2,3]`,
		`{"src":"c0","dest":"n1"}`,
		`{"src":"c0","dest":"n1","body":"init"}`,
		`{"src":"c0","dest":"n1","body":{"msg_id":1}}`,
		`{"src":"c0","dest":"n1","body":{"type":7}}`,
	}
	for _, line := range malformed {
		n.send(line)
	}
	n.send("   ") // blank lines are skipped silently
	// The first output is the answer to init: nothing was written for the
	// lines above, and the node is still reading.
	n.send(initN1)
	n.expect(initN1OK)
	assert.Equal(t, len(malformed), strings.Count(n.log.String(), "skipped a malformed line"), "log:\n%s", n.log.String())
	for _, line := range malformed[:2] {
		assert.Contains(t, n.log.String(), line, "the log quotes the line it skipped")
	}
	n.finish()
}

func TestUnknownTypeIsNotSupported(t *testing.T) {
	n := startNode(t)
	// Before init as after it.
	n.send(`{"src":"c1","dest":"n1","body":{"type":"echo","msg_id":5,"echo":"hi"}}`)
	n.expect(`{"src":"","dest":"c1","body":{"type":"error","in_reply_to":5,"code":10,"text":"not supported: echo"}}`)
	n.send(initN1)
	n.expect(initN1OK)
	n.send(`{"src":"c1","dest":"n1","body":{"type":"topology","msg_id":6,"topology":{}}}`)
	n.expect(`{"src":"n1","dest":"c1","body":{"type":"error","in_reply_to":6,"code":10,"text":"not supported: topology"}}`)
	// Answers are never answered, even of a type this node does not know:
	// the next output is the answer to the status request after them.
	n.send(`{"src":"c1","dest":"n1","body":{"type":"error","in_reply_to":9,"code":10,"text":"not supported"}}`)
	n.send(`{"src":"c1","dest":"n1","body":{"type":"echo_ok","in_reply_to":9}}`)
	n.send(`{"src":"c1","dest":"n1","body":{"type":"pbft_status","msg_id":7,"sequence_number":1}}`)
	n.expect(`{"src":"n1","dest":"c1","body":{"type":"pbft_status_ok","in_reply_to":7,"phase":"none","prepares_received":0,"commits_received":0,"executed":false}}`)
	n.finish()
}

func TestBadRequestsGetErrors(t *testing.T) {
	n := startNode(t)
	n.send(`{"src":"c1","dest":"n1","body":{"type":"pbft_request","msg_id":2,"operation":"set x=1","client":"c1"}}`)
	n.expect(`{"src":"","dest":"c1","body":{"type":"error","in_reply_to":2,"code":11,"text":"not initialised: send init first"}}`)
	n.send(`{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n9","node_ids":["n1","n2"]}}`)
	n.expect(`{"src":"","dest":"c0","body":{"type":"error","in_reply_to":1,"code":12,"text":"init: node_id \"n9\" is not in node_ids [\"n1\" \"n2\"]"}}`)
	n.send(initN1)
	n.expect(initN1OK)
	n.send(initN1) // the same init again is answered again
	n.expect(initN1OK)
	n.send(`{"src":"c0","dest":"n1","body":{"type":"init","msg_id":3,"node_id":"n2","node_ids":["n1","n2","n3","n4"]}}`)
	n.expect(`{"src":"n1","dest":"c0","body":{"type":"error","in_reply_to":3,"code":22,"text":"already initialised as n1 of [\"n1\" \"n2\" \"n3\" \"n4\"]"}}`)
	n.send(`{"src":"c1","dest":"n1","body":{"type":"pbft_request","msg_id":"two","operation":"set x=1"}}`)
	n.expect(`{"src":"n1","dest":"c1","body":{"type":"error","in_reply_to":"two","code":12,"text":"pbft_request: json: cannot unmarshal string into Go struct field requestBody.msg_id of type int64"}}`)
	n.send(`{"src":"c1","dest":"n1","body":{"type":"pbft_status","msg_id":4}}`)
	n.expect(`{"src":"n1","dest":"c1","body":{"type":"error","in_reply_to":4,"code":12,"text":"pbft_status needs an integer sequence_number"}}`)
	n.finish()
}

// payload returns the base64 body of a pbft_msg carrying m.
func payload(m lab.Message) string { return base64.StdEncoding.EncodeToString(wire.Encode(m)) }

func TestPrimaryOrdersAndReportsTheClientsText(t *testing.T) {
	n := startNode(t)
	n.send(initN1)
	n.expect(initN1OK)
	n.send(`{"src":"c1","dest":"n1","body":{"type":"pbft_request","msg_id":2,"operation":"set x=42","client":"c1"}}`)
	req := &lab.Request{Client: "c1", Timestamp: 2, Op: "account=op:set x=42,amount=1,operation=deposit"}
	pp := payload(&lab.PrePrepare{Seq: 1, Digest: lab.Digest(req), Request: req})
	for _, to := range []string{"n2", "n3", "n4"} {
		n.expect(fmt.Sprintf(`{"src":"n1","dest":%q,"body":{"type":"pbft_msg","kind":"PRE-PREPARE","payload":%q}}`, to, pp))
	}
	n.expect(`{"src":"n1","dest":"c1","body":{"type":"pbft_request_ok","in_reply_to":2,"sequence_number":1,"view":0,"phase":"pre-prepare"}}`)

	// A pbft_msg from a client, or one that does not decode, is dropped.
	commit := payload(&lab.Commit{Seq: 1, Digest: lab.Digest(req), Replica: 1, Yes: true})
	n.send(fmt.Sprintf(`{"src":"c1","dest":"n1","body":{"type":"pbft_msg","payload":%q}}`, commit))
	n.send(`{"src":"n2","dest":"n1","body":{"type":"pbft_msg","payload":"AAAA"}}`)
	n.send(`{"src":"c1","dest":"n1","body":{"type":"pbft_status","msg_id":3,"sequence_number":1}}`)
	n.expect(`{"src":"n1","dest":"c1","body":{"type":"pbft_status_ok","in_reply_to":3,"phase":"pre-prepare","prepares_received":0,"commits_received":0,"executed":false}}`)
	assert.Contains(t, n.log.String(), "dropped pbft_msg from c1")
	assert.Contains(t, n.log.String(), "dropped pbft_msg from n2")

	// The stub decides on any commit from a replica: the reply names the
	// operation as the client wrote it, and the status counts the backups'
	// prepares (the primary's yes is its pre-prepare) and every commit.
	n.send(fmt.Sprintf(`{"src":"n2","dest":"n1","body":{"type":"pbft_msg","kind":"COMMIT","payload":%q}}`, commit))
	n.expect(`{"src":"n1","dest":"c1","body":{"type":"pbft_reply","view":0,"sequence_number":1,"client":"c1","timestamp":2,"replica":"n1","committed":true,"result":"done","operation":"set x=42"}}`)
	n.send(`{"src":"c1","dest":"n1","body":{"type":"pbft_status","msg_id":4,"sequence_number":1}}`)
	n.expect(`{"src":"n1","dest":"c1","body":{"type":"pbft_status_ok","in_reply_to":4,"phase":"committed","prepares_received":3,"commits_received":4,"executed":true}}`)

	// The same request again finds it where it is; an older msg_id from
	// the same client can never run.
	n.send(`{"src":"c1","dest":"n1","body":{"type":"pbft_request","msg_id":2,"operation":"set x=42","client":"c1"}}`)
	n.expect(`{"src":"n1","dest":"c1","body":{"type":"pbft_request_ok","in_reply_to":2,"sequence_number":1,"view":0,"phase":"committed"}}`)
	n.send(`{"src":"c1","dest":"n1","body":{"type":"pbft_request","msg_id":1,"operation":"set x=7","client":"c1"}}`)
	n.expect(`{"src":"n1","dest":"c1","body":{"type":"error","in_reply_to":1,"code":14,"text":"client c1 already had msg_id 2 executed; a request's msg_id must be higher"}}`)
	n.finish()
}

func TestBackupForwardsToThePrimary(t *testing.T) {
	n := startNode(t)
	n.send(`{"src":"c0","dest":"n2","body":{"type":"init","msg_id":1,"node_id":"n2","node_ids":["n1","n2","n3","n4"]}}`)
	n.expect(`{"src":"n2","dest":"c0","body":{"type":"init_ok","in_reply_to":1,"msg_id":0}}`)
	// No client field: the envelope's src is the client.
	n.send(`{"src":"c7","dest":"n2","body":{"type":"pbft_request","msg_id":3,"operation":"account=alice,amount=5,operation=deposit"}}`)
	req := &lab.Request{Client: "c7", Timestamp: 3, Op: "account=alice,amount=5,operation=deposit"}
	n.expect(fmt.Sprintf(`{"src":"n2","dest":"n1","body":{"type":"pbft_msg","kind":"REQUEST","payload":%q}}`, payload(req)))
	// The node passes it on to the other backups too, as a PBFT client
	// would once its request goes unanswered: their timers then run.
	n.expect(fmt.Sprintf(`{"src":"n2","dest":"n3","body":{"type":"pbft_msg","kind":"REQUEST","payload":%q}}`, payload(req)))
	n.expect(fmt.Sprintf(`{"src":"n2","dest":"n4","body":{"type":"pbft_msg","kind":"REQUEST","payload":%q}}`, payload(req)))
	n.expect(`{"src":"n2","dest":"c7","body":{"type":"pbft_request_ok","in_reply_to":3,"sequence_number":0,"view":0,"phase":"forwarded","primary":"n1"}}`)
	// A message for another node is not this node's business.
	n.send(`{"src":"c1","dest":"n3","body":{"type":"pbft_status","msg_id":4,"sequence_number":1}}`)
	n.send(`{"src":"c1","dest":"n2","body":{"type":"pbft_status","msg_id":5,"sequence_number":1}}`)
	n.expect(`{"src":"n2","dest":"c1","body":{"type":"pbft_status_ok","in_reply_to":5,"phase":"none","prepares_received":0,"commits_received":0,"executed":false}}`)
	assert.Contains(t, n.log.String(), "skipped a message for n3")
	n.finish()
}

func TestReplicaPanicDoesNotStopTheNode(t *testing.T) {
	n := startNode(t)
	n.send(initN1)
	n.expect(initN1OK)
	n.send(`{"src":"c1","dest":"n1","body":{"type":"pbft_request","msg_id":2,"operation":"panic","client":"c1"}}`)
	n.expect(`{"src":"n1","dest":"c1","body":{"type":"pbft_request_ok","in_reply_to":2,"sequence_number":0,"view":0,"phase":"pending"}}`)
	assert.Contains(t, n.log.String(), "the replica panicked: stub told to panic")
	n.send(`{"src":"c1","dest":"n1","body":{"type":"pbft_status","msg_id":3,"sequence_number":1}}`)
	n.expect(`{"src":"n1","dest":"c1","body":{"type":"pbft_status_ok","in_reply_to":3,"phase":"none","prepares_received":0,"commits_received":0,"executed":false}}`)
	n.finish()
}

func TestEndOfInputReturnsNil(t *testing.T) {
	var out, log jsontest.Buffer
	in := strings.NewReader(initN1) // the last line has no newline
	require.NoError(t, jsonnode.Run(newStub, in, &out, &log))
	assert.Equal(t, jsontest.Value(t, initN1OK), jsontest.Value(t, out.String()))
	assert.True(t, strings.HasSuffix(out.String(), "}\n"), "each output line ends with a newline")
}

// failingWriter refuses every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestOutputFailureEndsRun(t *testing.T) {
	var log jsontest.Buffer
	err := jsonnode.Run(newStub, strings.NewReader(initN1+"\n"+initN1+"\n"), failingWriter{}, &log)
	require.ErrorContains(t, err, "disk on fire")
}

// ticker is a stub whose clock shows: each tick sends a CHECKPOINT to P1.
type ticker struct{ stub }

func (s *ticker) Tick() { s.env.Send(1, &lab.Checkpoint{Replica: s.cfg.ID}) }

// With a clock, the node ticks its replica by itself (its view-change timer
// runs); without one (Run), nothing happens unless a line arrives.
func TestClockTicksTheReplica(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var log jsontest.Buffer
	done := make(chan error, 1)
	go func() {
		newTicker := func(cfg lab.Config, env lab.Env) lab.Replica { return &ticker{stub{cfg: cfg, env: env}} }
		done <- jsonnode.RunWith(newTicker, inR, outW, &log, jsonnode.Options{Tick: time.Millisecond})
		outW.Close()
	}()
	lines := bufio.NewScanner(outR)
	_, err := inW.Write([]byte(initN1 + "\n"))
	require.NoError(t, err)
	require.True(t, lines.Scan())
	assert.Equal(t, jsontest.Value(t, initN1OK), jsontest.Value(t, lines.Text()))
	require.True(t, lines.Scan(), "a tick's message")
	assert.Contains(t, lines.Text(), `"kind":"CHECKPOINT"`)
	require.NoError(t, inW.Close())
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	require.NoError(t, <-done)
}
