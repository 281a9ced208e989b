package solution

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

// A pre-prepare of the new view that overtakes its NEW-VIEW is held, not
// acted on, and counts once the NEW-VIEW is in.
func TestPrePrepareBeforeNewViewIsHeld(t *testing.T) {
	r, env := newTestReplica(2, false)
	require.NoError(t, r.Do(lab.Command{Op: lab.OpViewChange}))
	req := request(1)
	r.Receive(1, &lab.PrePrepare{View: 1, Seq: 1, Digest: lab.Digest(req), Request: req})
	r.Receive(3, &lab.Prepare{View: 1, Seq: 1, Digest: lab.Digest(req), Replica: 3, Yes: true})
	assert.NotContains(t, env.sentKinds(), lab.KindPrepare, "no vote before NEW-VIEW")

	// An old-view pre-prepare is not held.
	old := request(2)
	r.Receive(0, &lab.PrePrepare{View: 0, Seq: 2, Digest: lab.Digest(old), Request: old})

	vcs := []lab.ViewChange{vc(1, 1, 0), vc(1, 2, 0), vc(1, 3, 0)}
	r.Receive(1, &lab.NewView{View: 1, ViewChanges: vcs})
	st := r.Status()
	require.False(t, st.ViewChanging)
	require.Len(t, st.Log, 1)
	assert.Equal(t, lab.PhasePrepared, st.Log[0].Phase, "prepared: three yes")
	assert.ElementsMatch(t, []lab.ID{1, 2, 3}, st.Log[0].PrepareYes, "the primary, this replica's vote and the vote that came early")
	assert.Contains(t, env.sentKinds(), lab.KindPrepare)
}
