package jsonproc_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pbftlab/runtime/jsonnode/jsontest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests in this file run the reference replica as real processes, the
// tree's command in its json mode ("pbft json"). They need the reference,
// which is why they are TA material.

const nodeCommand = "pbftlab/solution/cmd/pbft"

// buildNode builds the node command once into dir and returns its path.
func buildNode(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the go command is needed to build the node")
	bin := filepath.Join(dir, "pbft")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, nodeCommand).CombinedOutput()
	require.NoError(t, err, "go build %s:\n%s", nodeCommand, out)
	return bin
}

// The second seed's two sample tests, as the seed file gives them.
var seedSamples = []struct {
	name     string
	input    []string
	expected []string
	// ours are lines the seed's sample does not list but its task text
	// documents (or that follow from one node being alone); they are
	// checked the same way, separately.
	ours []string
}{
	{
		name: "Request starts pre-prepare phase",
		input: []string{
			`{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1","n2","n3","n4"]}}`,
			`{"src":"c1","dest":"n1","body":{"type":"pbft_request","msg_id":2,"operation":"set x=42","client":"c1"}}`,
		},
		expected: []string{
			`{"src": "n1", "dest": "c0", "body": {"type": "init_ok", "in_reply_to": 1, "msg_id": 0}}`,
		},
		ours: []string{
			`{"src": "n1", "dest": "c1", "body": {"type": "pbft_request_ok", "in_reply_to": 2, "sequence_number": 1, "view": 0, "phase": "pre-prepare"}}`,
		},
	},
	{
		name: "Status shows execution after all phases",
		input: []string{
			`{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1","n2","n3","n4"]}}`,
			`{"src":"c1","dest":"n1","body":{"type":"pbft_request","msg_id":2,"operation":"set x=1","client":"c1"}}`,
			`{"src":"c1","dest":"n1","body":{"type":"pbft_status","msg_id":3,"sequence_number":1}}`,
		},
		expected: []string{
			`{"src": "n1", "dest": "c0", "body": {"type": "init_ok", "in_reply_to": 1, "msg_id": 0}}`,
		},
		ours: []string{
			// n1 runs alone here: nobody answers its pre-prepare.
			`{"src": "n1", "dest": "c1", "body": {"type": "pbft_status_ok", "in_reply_to": 3, "phase": "pre-prepare", "prepares_received": 0, "commits_received": 0, "executed": false}}`,
		},
	},
}

func TestProcesses(t *testing.T) {
	bin := buildNode(t, t.TempDir())

	t.Run("seed samples", func(t *testing.T) {
		for _, s := range seedSamples {
			t.Run(s.name, func(t *testing.T) {
				// The seed gives each sample 5000 ms.
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				cmd := exec.CommandContext(ctx, bin, "json")
				cmd.Stdin = strings.NewReader(strings.Join(s.input, "\n") + "\n")
				var stderr jsontest.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				require.NoError(t, err, "the node failed; its log:\n%s", stderr.String())
				lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
				for _, line := range lines {
					var v map[string]any
					assert.NoError(t, json.Unmarshal([]byte(line), &v), "an output line is not one JSON object: %q", line)
				}
				for _, want := range s.expected {
					jsontest.AssertHasLine(t, want, lines)
				}
				for _, want := range s.ours {
					jsontest.AssertHasLine(t, want, lines)
				}
			})
		}
	})

	all := []string{"n1", "n2", "n3", "n4"}

	t.Run("four nodes commit", func(t *testing.T) {
		c := startCluster(t, bin, all)
		c.initAll()
		reqID := c.request("n1", "set x=42")
		// Every backup's yes prepare and every replica's commit reach
		// every replica: 3 prepares (the primary sends none, its
		// pre-prepare stands for its vote) and 4 commits.
		c.awaitStatus(all, 1, status{Phase: "committed", PreparesReceived: 3, CommitsReceived: 4, Executed: true}, 20*time.Second)
		c.checkReplies(all, reqID, "set x=42")
	})

	t.Run("one backup killed", func(t *testing.T) {
		c := startCluster(t, bin, all)
		c.initAll()
		c.kill("n3")
		reqID := c.request("n1", "set x=42")
		live := []string{"n1", "n2", "n4"}
		// With n3 gone, each live replica hears the yes prepares of the
		// two live backups (n2 and n4) and the commits of the three live
		// replicas: 2 prepares and 3 commits, which is exactly the
		// pre-prepare plus 2f prepares and the 2f+1 commits a quorum of 3
		// needs when f = 1.
		c.awaitStatus(live, 1, status{Phase: "committed", PreparesReceived: 2, CommitsReceived: 3, Executed: true}, 20*time.Second)
		c.checkReplies(live, reqID, "set x=42")
	})
}

// status is the part of pbft_status_ok the tests check.
type status struct {
	Phase            string `json:"phase"`
	PreparesReceived int    `json:"prepares_received"`
	CommitsReceived  int    `json:"commits_received"`
	Executed         bool   `json:"executed"`
}

// message is one output line of a node that was not for another node.
type message struct {
	Src  string          `json:"src"`
	Dest string          `json:"dest"`
	Body json.RawMessage `json:"body"`
	head struct {
		Type      string `json:"type"`
		InReplyTo *int   `json:"in_reply_to"`
	}
}

// cluster runs one process per node id and routes their output: an
// envelope for another node goes to that node's standard input, anything
// else (addressed to a client) is kept in inbox for the test.
type cluster struct {
	t     *testing.T
	nodes map[string]*proc

	mu        sync.Mutex
	inbox     []message
	forwarded int      // envelopes passed from one node to another
	bad       []string // output lines that were not envelopes
	wake      chan struct{}

	nextID int
}

type proc struct {
	id     string
	cmd    *exec.Cmd
	stderr jsontest.Buffer
	done   chan struct{} // closed when its output has been read to the end

	mu    sync.Mutex
	stdin io.WriteCloser
	dead  bool
}

func startCluster(t *testing.T, bin string, ids []string) *cluster {
	c := &cluster{t: t, nodes: map[string]*proc{}, wake: make(chan struct{}, 1), nextID: 100}
	// Every node is in c.nodes before the first router, which reads it,
	// starts.
	stdouts := map[string]io.Reader{}
	for _, id := range ids {
		p := &proc{id: id, cmd: exec.Command(bin, "json"), done: make(chan struct{})}
		p.cmd.Stderr = &p.stderr
		stdin, err := p.cmd.StdinPipe()
		require.NoError(t, err)
		stdout, err := p.cmd.StdoutPipe()
		require.NoError(t, err)
		p.stdin, stdouts[id] = stdin, stdout
		c.nodes[id] = p
	}
	for _, id := range ids {
		p := c.nodes[id]
		require.NoError(t, p.cmd.Start(), "starting %s", id)
		go c.route(p, stdouts[id])
		t.Cleanup(func() {
			p.mu.Lock()
			p.dead = true
			_ = p.cmd.Process.Kill()
			p.mu.Unlock()
			<-p.done
			_ = p.cmd.Wait()
		})
	}
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		assert.Empty(t, c.bad, "nodes wrote lines that are not envelopes")
	})
	return c
}

// route reads one node's output until it ends.
func (c *cluster) route(p *proc, stdout io.Reader) {
	defer close(p.done)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var m message
		err := json.Unmarshal(line, &m)
		if err == nil {
			err = json.Unmarshal(m.Body, &m.head)
		}
		if err != nil || m.Src != p.id {
			c.mu.Lock()
			c.bad = append(c.bad, fmt.Sprintf("%s: %s", p.id, line))
			c.mu.Unlock()
			continue
		}
		if dest, ok := c.nodes[m.Dest]; ok {
			// A write to a killed node fails; the message is lost, as it
			// would be on a network.
			_ = dest.write(line)
			c.mu.Lock()
			c.forwarded++
			c.mu.Unlock()
		} else {
			c.mu.Lock()
			c.inbox = append(c.inbox, m)
			c.mu.Unlock()
		}
		c.signal()
	}
}

func (c *cluster) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// await waits until cond, evaluated under c.mu, holds; it reports false if
// the deadline passes first. Only the test goroutine waits.
func (c *cluster) await(deadline time.Time, cond func() bool) bool {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		c.mu.Lock()
		ok := cond()
		c.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-c.wake:
		case <-timer.C:
			return false
		}
	}
}

func (p *proc) write(line []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dead {
		return fmt.Errorf("%s is dead", p.id)
	}
	_, err := p.stdin.Write(append(slices.Clip(line), '\n'))
	return err
}

// call sends body from client c1 to node with a fresh msg_id and returns
// the body of the node's answer.
func (c *cluster) call(node string, body map[string]any, deadline time.Time) (int, json.RawMessage) {
	c.t.Helper()
	c.nextID++
	id := c.nextID
	body["msg_id"] = id
	line, err := json.Marshal(map[string]any{"src": "c1", "dest": node, "body": body})
	require.NoError(c.t, err)
	require.NoError(c.t, c.nodes[node].write(line), "writing to %s", node)
	var answer json.RawMessage
	found := c.await(deadline, func() bool {
		for i, m := range c.inbox {
			if m.Src == node && m.head.InReplyTo != nil && *m.head.InReplyTo == id {
				answer = m.Body
				c.inbox = slices.Delete(c.inbox, i, i+1)
				return true
			}
		}
		return false
	})
	if !found {
		c.t.Fatalf("%s did not answer %s\n%s", node, line, c.logs())
	}
	return id, answer
}

func (c *cluster) initAll() {
	c.t.Helper()
	ids := slices.Sorted(maps.Keys(c.nodes))
	for _, id := range ids {
		msgID, body := c.call(id, map[string]any{"type": "init", "node_id": id, "node_ids": ids}, time.Now().Add(10*time.Second))
		assert.Equal(c.t, jsontest.Value(c.t, fmt.Sprintf(`{"type":"init_ok","in_reply_to":%d,"msg_id":0}`, msgID)), jsontest.Value(c.t, string(body)), "init_ok from %s", id)
	}
}

// request sends a pbft_request for op to the primary node and checks that
// it was ordered at sequence number 1. It returns the request's msg_id.
func (c *cluster) request(node, op string) int {
	c.t.Helper()
	msgID, body := c.call(node, map[string]any{"type": "pbft_request", "operation": op, "client": "c1"}, time.Now().Add(10*time.Second))
	want := fmt.Sprintf(`{"type":"pbft_request_ok","in_reply_to":%d,"sequence_number":1,"view":0,"phase":"pre-prepare"}`, msgID)
	require.Equal(c.t, jsontest.Value(c.t, want), jsontest.Value(c.t, string(body)), "pbft_request_ok from %s", node)
	return msgID
}

// awaitStatus asks every node in ids for the status of seq until all of
// them report want. A node's state changes only when a message reaches it,
// and each node reads its input in order, so a round of answers reflects
// every message passed on before the round began; when a round falls
// short, the next one waits for the router to pass on another message.
func (c *cluster) awaitStatus(ids []string, seq int, want status, limit time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		c.mu.Lock()
		mark := c.forwarded
		c.mu.Unlock()
		last := map[string]status{}
		done := true
		for _, id := range ids {
			_, body := c.call(id, map[string]any{"type": "pbft_status", "sequence_number": seq}, deadline)
			var s status
			require.NoError(c.t, json.Unmarshal(body, &s), "pbft_status_ok from %s: %s", id, body)
			last[id] = s
			done = done && s == want
		}
		if done {
			return
		}
		if !c.await(deadline, func() bool { return c.forwarded > mark }) {
			var b strings.Builder
			for _, id := range ids {
				fmt.Fprintf(&b, "  %s: %+v\n", id, last[id])
			}
			c.t.Fatalf("within %s, not every node reported %+v for seq %d; the last statuses:\n%s%s", limit, want, seq, b.String(), c.logs())
		}
	}
}

// checkReplies checks that each node in ids sent client c1 a pbft_reply
// for the request, committed, naming the operation as the client wrote it,
// and that the results agree. The replies came out before the status that
// showed the request executed, so they are already in the inbox.
func (c *cluster) checkReplies(ids []string, msgID int, op string) {
	c.t.Helper()
	type reply struct {
		Type           string `json:"type"`
		View           int    `json:"view"`
		SequenceNumber int    `json:"sequence_number"`
		Client         string `json:"client"`
		Timestamp      int    `json:"timestamp"`
		Replica        string `json:"replica"`
		Committed      bool   `json:"committed"`
		Result         string `json:"result"`
		Operation      string `json:"operation"`
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	got := map[string]reply{}
	for _, m := range c.inbox {
		if m.head.Type != "pbft_reply" {
			continue
		}
		assert.Equal(c.t, "c1", m.Dest, "pbft_reply goes to the client")
		var r reply
		require.NoError(c.t, json.Unmarshal(m.Body, &r))
		_, dup := got[m.Src]
		assert.False(c.t, dup, "%s replied twice", m.Src)
		got[m.Src] = r
	}
	require.Len(c.t, got, len(ids), "pbft_reply senders: %v", slices.Sorted(maps.Keys(got)))
	first := got[ids[0]]
	for _, id := range ids {
		r, ok := got[id]
		if !assert.True(c.t, ok, "no pbft_reply from %s", id) {
			continue
		}
		assert.Equal(c.t, reply{
			Type: "pbft_reply", View: 0, SequenceNumber: 1, Client: "c1", Timestamp: msgID,
			Replica: id, Committed: true, Result: first.Result, Operation: op,
		}, r, "pbft_reply from %s", id)
	}
	assert.NotEmpty(c.t, first.Result)
}

func (c *cluster) kill(id string) {
	c.t.Helper()
	p := c.nodes[id]
	p.mu.Lock()
	p.dead = true
	require.NoError(c.t, p.cmd.Process.Kill())
	p.mu.Unlock()
	<-p.done
	_ = p.cmd.Wait()
}

// logs returns every node's standard error, for failure messages.
func (c *cluster) logs() string {
	var b strings.Builder
	for _, id := range slices.Sorted(maps.Keys(c.nodes)) {
		fmt.Fprintf(&b, "--- %s's log:\n%s", id, c.nodes[id].stderr.String())
	}
	return b.String()
}
