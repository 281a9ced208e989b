package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonNet is what a Maelstrom harness does for the JSON mode: it routes
// each line a node writes to the node it names, and hands the lines for
// anyone else (the test, as the client) to the test.
type jsonNet struct {
	t     *testing.T
	ids   []string
	nodes map[string]*proc
	out   chan map[string]any // envelopes for the client, decoded

	mu   sync.Mutex
	dead map[string]bool
	wg   sync.WaitGroup
}

func startJSONNet(t *testing.T, bin string, tick string) *jsonNet {
	n := &jsonNet{t: t, ids: []string{"n1", "n2", "n3", "n4"}, nodes: map[string]*proc{}, out: make(chan map[string]any, 1000), dead: map[string]bool{}}
	for _, id := range n.ids {
		n.nodes[id] = startProc(t, id, bin, "json", "-tick", tick)
	}
	for _, id := range n.ids {
		n.wg.Add(1)
		go n.route(n.nodes[id])
	}
	t.Cleanup(func() {
		for _, id := range n.ids {
			if !n.isDead(id) {
				_ = n.nodes[id].stdin.Close()
			}
		}
		n.wg.Wait()
	})
	return n
}

func (n *jsonNet) isDead(id string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dead[id]
}

// route passes on what p writes until it ends.
func (n *jsonNet) route(p *proc) {
	defer n.wg.Done()
	for line := range p.lines {
		var env struct {
			Dest string `json:"dest"`
		}
		if json.Unmarshal([]byte(line), &env) != nil {
			continue
		}
		if dest, ok := n.nodes[env.Dest]; ok {
			n.mu.Lock()
			if !n.dead[env.Dest] {
				_, _ = io.WriteString(dest.stdin, line+"\n")
			}
			n.mu.Unlock()
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			n.out <- m
		}
	}
}

// send writes an envelope from the client to node dest.
func (n *jsonNet) send(dest, body string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, err := io.WriteString(n.nodes[dest].stdin, fmt.Sprintf(`{"src":"c1","dest":%q,"body":%s}`+"\n", dest, body))
	require.NoError(n.t, err)
}

// kill ends node id with SIGKILL; nothing reaches it any more.
func (n *jsonNet) kill(id string) {
	n.mu.Lock()
	n.dead[id] = true
	n.mu.Unlock()
	n.nodes[id].kill()
}

// await returns the next envelope for the client whose body match
// accepts, within waitLimit.
func (n *jsonNet) await(what string, match func(body map[string]any) bool) map[string]any {
	n.t.Helper()
	limit := time.After(waitLimit)
	for {
		select {
		case env := <-n.out:
			body, _ := env["body"].(map[string]any)
			if match(body) {
				return env
			}
		case <-limit:
			var logs strings.Builder
			for _, id := range n.ids {
				fmt.Fprintf(&logs, "%s:\n%s\n", id, n.nodes[id].output())
			}
			n.t.Fatalf("no %s within %v\n%s", what, waitLimit, logs.String())
		}
	}
}

// The JSON mode with n1 (the primary of view 0) killed: a request sent to
// n2 executes, because the nodes keep time and replace the dead primary.
func TestJSONDeadPrimaryIsReplaced(t *testing.T) {
	n := startJSONNet(t, build(t), "10ms")
	for i, id := range n.ids {
		n.send(id, fmt.Sprintf(`{"type":"init","msg_id":%d,"node_id":%q,"node_ids":["n1","n2","n3","n4"]}`, i+1, id))
		n.await("init_ok from "+id, func(b map[string]any) bool { return b["type"] == "init_ok" })
	}
	n.kill("n1")
	n.send("n2", `{"type":"pbft_request","msg_id":1,"operation":"account=alice,amount=5,operation=deposit","client":"c1"}`)
	ok := n.await("pbft_request_ok", func(b map[string]any) bool { return b["type"] == "pbft_request_ok" })
	assert.Equal(t, "forwarded", ok["body"].(map[string]any)["phase"])

	replied := map[string]bool{}
	for len(replied) < 2 {
		env := n.await("pbft_reply from f+1 nodes", func(b map[string]any) bool { return b["type"] == "pbft_reply" })
		body := env["body"].(map[string]any)
		assert.Equal(t, true, body["committed"])
		assert.Equal(t, "alice=5", body["result"])
		assert.NotEqual(t, float64(0), body["view"], "executed in a later view than n1's")
		replied[env["src"].(string)] = true
	}
	n.send("n2", `{"type":"pbft_status","msg_id":2,"sequence_number":1}`)
	status := n.await("pbft_status_ok", func(b map[string]any) bool { return b["type"] == "pbft_status_ok" })
	assert.Equal(t, true, status["body"].(map[string]any)["executed"])
}
