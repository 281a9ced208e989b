package solution

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

// slot is what the new view re-issues at one sequence number: a request's
// timestamp, or 0 for the null request.
type slot struct {
	seq int
	ts  int64
}

func slotsOf(pps []lab.PrePrepare, v int) []slot {
	var out []slot
	for _, pp := range pps {
		s := slot{seq: pp.Seq}
		if pp.Request != nil {
			s.ts = pp.Request.Timestamp
		}
		if pp.View != v || pp.Digest != lab.Digest(pp.Request) {
			s.seq = -1 // marks a malformed pre-prepare
		}
		out = append(out, s)
	}
	return out
}

func TestNewViewPrePrepares(t *testing.T) {
	b0 := backupsOf(0)
	b1 := backupsOf(1)
	tests := []struct {
		name string
		vcs  []lab.ViewChange
		minS int
		want []slot
	}{
		{
			name: "nothing prepared: nothing to re-issue",
			vcs:  []lab.ViewChange{vc(2, 0, 0), vc(2, 1, 0), vc(2, 2, 0)},
		},
		{
			name: "a request prepared at one replica keeps its sequence number",
			vcs:  []lab.ViewChange{vc(2, 0, 0), vc(2, 1, 0, prepared(0, 1, 7, b0...)), vc(2, 2, 0)},
			want: []slot{{1, 7}},
		},
		{
			name: "gaps below max-s are filled with null requests",
			vcs:  []lab.ViewChange{vc(2, 0, 0, prepared(0, 2, 7, b0...)), vc(2, 1, 0, prepared(0, 5, 9, b0...)), vc(2, 2, 0)},
			want: []slot{{1, 0}, {2, 7}, {3, 0}, {4, 0}, {5, 9}},
		},
		{
			name: "the certificate from the highest view wins",
			vcs:  []lab.ViewChange{vc(2, 0, 0, prepared(0, 1, 7, b0...)), vc(2, 1, 0, prepared(1, 1, 8, b1...)), vc(2, 3, 0, prepared(0, 1, 7, b0...))},
			want: []slot{{1, 8}},
		},
		{
			name: "min-s is the latest stable checkpoint; what prepared at or below it is dropped",
			vcs:  []lab.ViewChange{vc(2, 0, 4), vc(2, 1, 0, prepared(0, 3, 7, b0...), prepared(0, 6, 8, b0...)), vc(2, 2, 0)},
			minS: 4,
			want: []slot{{5, 0}, {6, 8}},
		},
		{
			name: "a stable checkpoint above everything prepared leaves nothing",
			vcs:  []lab.ViewChange{vc(2, 0, 10), vc(2, 1, 0, prepared(0, 3, 7, b0...)), vc(2, 2, 0)},
			minS: 10,
		},
		{
			name: "a null request that prepared is re-issued as the null request",
			vcs: []lab.ViewChange{vc(2, 0, 0), vc(2, 1, 0, lab.Prepared{
				PrePrepare: lab.PrePrepare{View: 1, Seq: 2, Digest: lab.NullDigest},
				Prepares: []lab.Prepare{
					{View: 1, Seq: 2, Digest: lab.NullDigest, Replica: 0, Yes: true},
					{View: 1, Seq: 2, Digest: lab.NullDigest, Replica: 2, Yes: true},
				},
			}), vc(2, 2, 0)},
			want: []slot{{1, 0}, {2, 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			minS, pps := newViewPrePrepares(2, tt.vcs)
			assert.Equal(t, tt.minS, minS, "min-s")
			assert.Equal(t, tt.want, slotsOf(pps, 2))

			// A backup recomputing from the view changes in another order
			// must get the same answer.
			reversed := slices.Clone(tt.vcs)
			slices.Reverse(reversed)
			minS2, pps2 := newViewPrePrepares(2, reversed)
			assert.Equal(t, minS, minS2)
			assert.Equal(t, pps, pps2)
		})
	}
}

func TestValidViewChange(t *testing.T) {
	b0 := backupsOf(0)
	withPrepares := func(p lab.Prepared, ps ...lab.Prepare) lab.Prepared {
		p.Prepares = ps
		return p
	}
	p1 := prepared(0, 1, 7)
	d := p1.PrePrepare.Digest
	tests := []struct {
		name  string
		vc    lab.ViewChange
		valid bool
	}{
		{"empty, from the start", vc(1, 2, 0), true},
		{"a prepared request with 2f prepares", vc(1, 2, 0, prepared(0, 1, 7, b0...)), true},
		{"a stable checkpoint with 2f+1 matching checkpoints", vc(1, 2, 5, prepared(0, 6, 7, b0...)), true},
		{"only f prepares", vc(1, 2, 0, prepared(0, 1, 7, b0[0])), false},
		{"the primary's prepare does not count", vc(1, 2, 0, prepared(0, 1, 7, 0, 1)), false},
		{"one backup twice is one prepare", vc(1, 2, 0, prepared(0, 1, 7, 1, 1)), false},
		{"prepares for another digest", vc(1, 2, 0, withPrepares(p1,
			lab.Prepare{View: 0, Seq: 1, Digest: "other", Replica: 1, Yes: true},
			lab.Prepare{View: 0, Seq: 1, Digest: "other", Replica: 2, Yes: true})), false},
		{"no votes are not prepares", vc(1, 2, 0, withPrepares(p1,
			lab.Prepare{View: 0, Seq: 1, Digest: d, Replica: 1},
			lab.Prepare{View: 0, Seq: 1, Digest: d, Replica: 2})), false},
		{"a digest that does not match the request", vc(1, 2, 0, func() lab.Prepared {
			p := prepared(0, 1, 7, b0...)
			p.PrePrepare.Request = request(8)
			return p
		}()), false},
		{"prepared in the view asked for", vc(1, 2, 0, prepared(1, 1, 7, backupsOf(1)...)), false},
		{"prepared at or below its stable checkpoint", vc(1, 2, 5, prepared(0, 5, 7, b0...)), false},
		{"prepared above the high watermark", vc(1, 2, 0, prepared(0, lab.DefaultWindow+1, 7, b0...)), false},
		{"two certificates for one sequence number", vc(1, 2, 0, prepared(0, 1, 7, b0...), prepared(0, 1, 8, b0...)), false},
		{"a stable checkpoint with f+1 matching checkpoints", func() lab.ViewChange {
			m := vc(1, 2, 5)
			m.Checkpoints = proofOf(5, "s", 0, 1)
			return m
		}(), false},
		{"a stable checkpoint whose proof disagrees on the digest", func() lab.ViewChange {
			m := vc(1, 2, 5)
			m.Checkpoints = append(proofOf(5, "s", 0, 1), proofOf(5, "t", 2)...)
			return m
		}(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validViewChange(&tt.vc, 4, lab.DefaultWindow)
			if tt.valid {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

func TestCheckNewView(t *testing.T) {
	b0 := backupsOf(0)
	vcs := []lab.ViewChange{vc(1, 0, 0), vc(1, 2, 0, prepared(0, 2, 7, b0...)), vc(1, 3, 0)}
	_, pps := newViewPrePrepares(1, vcs)
	good := lab.NewView{View: 1, ViewChanges: vcs, PrePrepares: pps}
	require.NoError(t, checkNewView(&good, 4, lab.DefaultWindow))
	require.Len(t, good.PrePrepares, 2, "a null request at n1 and the prepared request at n2")

	tests := []struct {
		name   string
		change func(nv *lab.NewView)
	}{
		{"it drops the prepared request", func(nv *lab.NewView) { nv.PrePrepares = nv.PrePrepares[:1] }},
		{"it replaces the prepared request by a null one", func(nv *lab.NewView) {
			nv.PrePrepares[1] = lab.PrePrepare{View: 1, Seq: 2, Digest: lab.NullDigest}
		}},
		{"it puts another request in the gap", func(nv *lab.NewView) {
			req := request(9)
			nv.PrePrepares[0] = lab.PrePrepare{View: 1, Seq: 1, Digest: lab.Digest(req), Request: req}
		}},
		{"it re-issues in the old view", func(nv *lab.NewView) { nv.PrePrepares[1].View = 0 }},
		{"it adds a pre-prepare", func(nv *lab.NewView) {
			nv.PrePrepares = append(nv.PrePrepares, lab.PrePrepare{View: 1, Seq: 3, Digest: lab.NullDigest})
		}},
		{"it rests on f+1 view changes", func(nv *lab.NewView) { nv.ViewChanges = nv.ViewChanges[1:] }},
		{"it counts one replica twice", func(nv *lab.NewView) { nv.ViewChanges[0] = nv.ViewChanges[2] }},
		{"it carries a view change for another view", func(nv *lab.NewView) { nv.ViewChanges[0].View = 2 }},
		{"it carries an invalid view change", func(nv *lab.NewView) { nv.ViewChanges[1].Prepared[0].Prepares = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nv := lab.NewView{View: 1, ViewChanges: slices.Clone(good.ViewChanges), PrePrepares: slices.Clone(good.PrePrepares)}
			nv.ViewChanges[1].Prepared = slices.Clone(nv.ViewChanges[1].Prepared)
			tt.change(&nv)
			assert.Error(t, checkNewView(&nv, 4, lab.DefaultWindow))
		})
	}
}

// After a view change, a prepare and a commit replayed from the old view
// must not count (PBFT §4.3: votes are accepted for the current view only).
func TestOldViewVotesDoNotCountAfterViewChange(t *testing.T) {
	r, env := newTestReplica(2, true)
	b0 := backupsOf(0)
	cert := prepared(0, 1, 7, b0...)
	vcs := []lab.ViewChange{vc(1, 0, 0), vc(1, 1, 0, cert), vc(1, 3, 0)}
	_, pps := newViewPrePrepares(1, vcs)

	require.NoError(t, r.Do(lab.Command{Op: lab.OpViewChange}))
	assert.True(t, r.Status().ViewChanging)
	r.Receive(1, &lab.NewView{View: 1, ViewChanges: vcs, PrePrepares: pps})
	st := r.Status()
	require.False(t, st.ViewChanging, "the NEW-VIEW was rejected")
	require.Equal(t, 1, st.View)
	require.Len(t, st.Log, 1)
	assert.Equal(t, lab.PhasePrePrepared, st.Log[0].Phase)
	assert.Equal(t, cert.PrePrepare.Digest, st.Log[0].Digest, "the prepared request keeps n1")

	d := cert.PrePrepare.Digest
	r.Receive(3, &lab.Prepare{View: 0, Seq: 1, Digest: d, Replica: 3, Yes: true})
	r.Receive(0, &lab.Prepare{View: 0, Seq: 1, Digest: d, Replica: 0, Yes: true})
	r.Receive(3, &lab.Commit{View: 0, Seq: 1, Digest: d, Replica: 3, Yes: true})
	st = r.Status()
	assert.Equal(t, []lab.ID{1}, st.Log[0].PrepareYes, "only the new primary's pre-prepare counts")
	assert.Empty(t, st.Log[0].CommitYes)

	// The same replicas voting in the new view do count.
	r.Receive(3, &lab.Prepare{View: 1, Seq: 1, Digest: d, Replica: 3, Yes: true})
	assert.Equal(t, []lab.ID{1, 3}, r.Status().Log[0].PrepareYes)
	assert.Contains(t, env.sentKinds(), lab.KindViewChange)
}

// A NEW-VIEW that leaves out a prepared request is refused: the backup
// stays in its view change.
func TestBackupRejectsNewViewDroppingPreparedRequest(t *testing.T) {
	r, _ := newTestReplica(2, true)
	vcs := []lab.ViewChange{vc(1, 0, 0), vc(1, 1, 0, prepared(0, 1, 7, backupsOf(0)...)), vc(1, 3, 0)}
	require.NoError(t, r.Do(lab.Command{Op: lab.OpViewChange}))
	r.Receive(1, &lab.NewView{View: 1, ViewChanges: vcs})
	st := r.Status()
	assert.True(t, st.ViewChanging)
	assert.Empty(t, st.Log)

	// From anyone but the new primary it is refused too, even when right.
	_, pps := newViewPrePrepares(1, vcs)
	r.Receive(3, &lab.NewView{View: 1, ViewChanges: vcs, PrePrepares: pps})
	assert.True(t, r.Status().ViewChanging)
}
