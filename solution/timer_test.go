package solution

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"pbftlab/lab"
)

// viewChangesSent lists the views of the VIEW-CHANGE messages sent so far.
func viewChangesSent(env *recorder) []int {
	var out []int
	for _, m := range env.sent {
		if vc, ok := m.(*lab.ViewChange); ok {
			out = append(out, vc.View)
		}
	}
	return out
}

func TestTimer(t *testing.T) {
	tests := []struct {
		name   string
		manual bool
		id     lab.ID
		ticks  int
		want   []int
	}{
		{"a backup waits the whole timeout", false, 2, lab.DefaultViewChangeTimeout - 1, nil},
		{"then asks for the next view", false, 2, lab.DefaultViewChangeTimeout, []int{1}},
		{"a view change that does not complete doubles the wait", false, 2, 3*lab.DefaultViewChangeTimeout - 1, []int{1}},
		{"and then it asks for the view after", false, 2, 3 * lab.DefaultViewChangeTimeout, []int{1, 2}},
		{"the primary does not suspect itself", false, 0, 10 * lab.DefaultViewChangeTimeout, nil},
		{"with typed votes, view changes are typed too", true, 2, 10 * lab.DefaultViewChangeTimeout, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, env := newTestReplica(tt.id, tt.manual)
			r.Receive(lab.Client, request(1))
			for range tt.ticks {
				r.Tick()
			}
			assert.Equal(t, tt.want, viewChangesSent(env))
		})
	}
}

func TestTimerIdleWithoutRequests(t *testing.T) {
	r, env := newTestReplica(2, false)
	for range 10 * lab.DefaultViewChangeTimeout {
		r.Tick()
	}
	assert.Empty(t, viewChangesSent(env), "nothing to wait for, nothing to suspect")
}
