package tcp

import (
	"fmt"
	"sync"
	"time"
)

// quietNotes keeps a burst of notes of one kind from flooding a console:
// a client told to send more than a queue holds, or one restarted into a
// backlog of replies to a run before it, would otherwise print a line per
// message, thousands a second, and bury every line that matters. The
// first note of a kind goes out; after it, at most one a second, saying
// how many like it were left out since the last one shown.
type quietNotes struct {
	mu    sync.Mutex
	shown map[string]time.Time // when a note of each kind last went out
	held  map[string]int       // notes of each kind left out since then
	now   func() time.Time
}

// quietEvery is the least time between two notes of one kind.
const quietEvery = time.Second

// pass returns the line to show for a note of kind, and whether to show
// one at all.
func (q *quietNotes) pass(kind, line string) (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	if q.now != nil {
		now = q.now()
	}
	if q.shown == nil {
		q.shown, q.held = map[string]time.Time{}, map[string]int{}
	}
	if last, ok := q.shown[kind]; ok && now.Sub(last) < quietEvery {
		q.held[kind]++
		return "", false
	}
	q.shown[kind] = now
	if n := q.held[kind]; n > 0 {
		line += fmt.Sprintf(" (and %d more like it since the last such line)", n)
		delete(q.held, kind)
	}
	return line, true
}
