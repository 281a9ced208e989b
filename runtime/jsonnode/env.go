package jsonnode

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"pbftlab/lab"
	"pbftlab/wire"
)

// nodeEnv is the lab.Env a replica gets in this mode: its messages become
// envelopes on the node's output.
type nodeEnv node

var _ lab.Env = (*nodeEnv)(nil)

func (e *nodeEnv) Send(to lab.ID, m lab.Message) {
	n := (*node)(e)
	if to < 0 || int(to) >= len(n.ids) || to == n.me {
		n.log.printf("the replica tried to send %s to %s, which is not another node", lab.KindOf(m), to)
		return
	}
	n.send(n.ids[to], peerMessage{Type: "pbft_msg", Kind: lab.KindOf(m).String(), Payload: wire.Encode(m)})
}

func (e *nodeEnv) Broadcast(m lab.Message) {
	n := (*node)(e)
	// Encode once; every copy carries the same bytes.
	body := peerMessage{Type: "pbft_msg", Kind: lab.KindOf(m).String(), Payload: wire.Encode(m)}
	for i, id := range n.ids {
		if lab.ID(i) != n.me {
			n.send(id, body)
		}
	}
}

// Reply holds the reply until the replica returns; flushReplies sends it.
func (e *nodeEnv) Reply(r lab.Reply) { e.replies = append(e.replies, r) }

func (e *nodeEnv) Logf(format string, args ...any) { e.log.printf(format, args...) }

func (e *nodeEnv) Checkpointed(s lab.Snapshot, stable bool) {
	kind := "took a checkpoint"
	if stable {
		kind = "saw a checkpoint become stable"
	}
	e.log.printf("%s at n%d, state %s", kind, s.Seq, s.Digest)
}

type peerMessage struct {
	Type    string `json:"type"`
	Kind    string `json:"kind"`
	Payload []byte `json:"payload"` // base64 in JSON
}

// output writes envelopes, one line each, whole and in turn.
type output struct {
	mu  sync.Mutex
	w   io.Writer
	err error // the first write error; later writes are not attempted
}

func (o *output) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	if _, err := o.w.Write(b); err != nil {
		o.err = err
		return err
	}
	if f, ok := o.w.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			o.err = err
			return err
		}
	}
	return nil
}

func (o *output) error() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// logger writes the node's trace, one line per call. Write errors are
// ignored: the log is for people, and losing it must not stop the node.
type logger struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
}

func (l *logger) printf(format string, args ...any) {
	line := l.prefix + strings.TrimRight(fmt.Sprintf(format, args...), "\n") + "\n"
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, line)
}
