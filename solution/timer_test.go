package solution

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

// Between asking for a view and entering it, a replica takes no part in
// either view: it neither votes in the old one nor, as the next primary,
// orders requests before its NEW-VIEW is out.
func TestNothingOrderedOrVotedDuringViewChange(t *testing.T) {
	// P1 leads view 1. It asks for view 1, then a request arrives.
	p1, env := newTestReplica(1, false)
	require.NoError(t, p1.Do(lab.Command{Op: lab.OpViewChange}))
	p1.Receive(lab.Client, request(1))
	assert.NotContains(t, env.sentKinds(), lab.KindPrePrepare, "no pre-prepare before NEW-VIEW")

	// P2 accepted a pre-prepare in view 0 and waits to vote on it until
	// the request before it executes; it asks for view 1 meanwhile.
	p2, env2 := newTestReplica(2, false)
	req := request(2)
	p2.Receive(0, &lab.PrePrepare{View: 0, Seq: 2, Digest: lab.Digest(req), Request: req})
	require.NoError(t, p2.Do(lab.Command{Op: lab.OpViewChange}))
	_, err := p2.bank.Execute(1, nil)
	require.NoError(t, err)
	p2.execute()
	assert.NotContains(t, env2.sentKinds(), lab.KindPrepare, "no vote in the old view during a view change")
}
