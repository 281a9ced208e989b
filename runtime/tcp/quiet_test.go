package tcp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestQuietNotes(t *testing.T) {
	at := time.Unix(0, 0)
	q := quietNotes{now: func() time.Time { return at }}
	steps := []struct {
		after     time.Duration
		kind      string
		want      string
		wantShown bool
	}{
		{0, "full P1", "full", true},
		{10 * time.Millisecond, "full P1", "", false},
		{10 * time.Millisecond, "full P2", "full", true}, // another kind goes out at once
		{10 * time.Millisecond, "full P1", "", false},
		{time.Second, "full P1", "full (and 2 more like it since the last such line)", true},
		{2 * time.Second, "full P1", "full", true},
	}
	for i, s := range steps {
		at = at.Add(s.after)
		line, shown := q.pass(s.kind, "full")
		assert.Equal(t, s.wantShown, shown, "step %d", i)
		assert.Equal(t, s.want, line, "step %d", i)
	}
}
