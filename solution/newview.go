package solution

import (
	"fmt"

	"pbftlab/lab"
)

// newViewPrePrepares computes what the primary of view v re-issues from the
// view changes it acts on (the set O of PBFT §4.4, computed from V). min-s is
// the latest stable checkpoint among them and max-s the highest sequence
// number prepared above it. Every sequence number in (min-s, max-s] gets a
// pre-prepare in view v: for the request whose certificate comes from the
// highest view when one prepared there, for the null request otherwise, so
// that no gap is left. Two certificates from one view for different
// requests (only a Byzantine replica can make that happen) go to the one
// with the smaller digest. Anything that may have committed at some replica
// prepared at 2f+1 of them, f+1 of which are honest and among any 2f+1 view
// changes, so it is in V and keeps its sequence number.
//
// The result does not depend on the order of vcs, so that a backup checking
// NEW-VIEW computes exactly what the primary did.
func newViewPrePrepares(v int, vcs []lab.ViewChange) (minS int, pps []lab.PrePrepare) {
	// BEGIN TODO(view-change): min-s is the highest stable checkpoint in the view changes, max-s the highest sequence number prepared above it; for every n in (min-s, max-s] re-issue, in view v, the request whose prepared certificate has the highest view, or a null request (digest lab.NullDigest) where nothing prepared
	for _, vc := range vcs {
		minS = max(minS, vc.StableSeq)
	}
	// A certificate at or below min-s counts for nothing: maxS starts at
	// min-s, and only (min-s, max-s] is re-issued.
	maxS := minS
	best := map[int]lab.PrePrepare{}
	for _, vc := range vcs {
		for _, p := range vc.Prepared {
			pp := p.PrePrepare
			maxS = max(maxS, pp.Seq)
			b, ok := best[pp.Seq]
			// Two certificates from one view with different digests cannot
			// both be valid among honest replicas; the smaller digest wins
			// only so that the choice never depends on the order.
			if !ok || pp.View > b.View || (pp.View == b.View && pp.Digest < b.Digest) {
				best[pp.Seq] = pp
			}
		}
	}
	for seq := minS + 1; seq <= maxS; seq++ {
		pp := lab.PrePrepare{View: v, Seq: seq, Digest: lab.NullDigest}
		if b := best[seq]; b.Request != nil {
			req := *b.Request
			pp.Digest, pp.Request, pp.Batch = b.Digest, &req, b.Batch
		}
		pps = append(pps, pp)
	}
	return minS, pps
	// END TODO
}

// validViewChange checks what a view change claims: its stable checkpoint
// proven by 2f+1 matching checkpoints, and each prepared request proven by
// its pre-prepare and 2f matching yes prepares from distinct backups, for
// a sequence number inside the sender's watermarks and a view below the
// one asked for.
func validViewChange(vc *lab.ViewChange, n, window int) error {
	// BEGIN TODO(view-change): check the checkpoint proof and every prepared certificate of a view change; return an error saying what is wrong
	if err := checkProof(vc.StableSeq, vc.Checkpoints, n); err != nil {
		return err
	}
	seen := map[int]bool{}
	for _, p := range vc.Prepared {
		pp := p.PrePrepare
		switch {
		case pp.Seq <= vc.StableSeq || pp.Seq > vc.StableSeq+window:
			return fmt.Errorf("prepared n%d is outside the watermarks (%d, %d]", pp.Seq, vc.StableSeq, vc.StableSeq+window)
		case pp.View >= vc.View:
			return fmt.Errorf("prepared n%d in view %d, not below view %d", pp.Seq, pp.View, vc.View)
		case seen[pp.Seq]:
			return fmt.Errorf("two certificates for n%d", pp.Seq)
		case pp.Digest != pp.ContentDigest():
			return fmt.Errorf("prepared n%d: the digest does not match the request", pp.Seq)
		}
		seen[pp.Seq] = true
		primary := lab.Primary(pp.View, n)
		backups := map[lab.ID]bool{}
		for _, q := range p.Prepares {
			if q.Yes && q.View == pp.View && q.Seq == pp.Seq && q.Digest == pp.Digest &&
				q.Replica != primary && q.Replica >= 0 && int(q.Replica) < n {
				backups[q.Replica] = true
			}
		}
		if len(backups) < lab.Quorum(n)-1 {
			return fmt.Errorf("prepared v%d n%d: %d matching prepares from distinct backups, 2f = %d needed", pp.View, pp.Seq, len(backups), lab.Quorum(n)-1)
		}
	}
	return nil
	// END TODO
}

// checkNewView checks NEW-VIEW as a backup must: 2f+1 valid view changes
// for its view from distinct replicas, and the pre-prepares that follow
// from them, no more and no fewer.
func checkNewView(nv *lab.NewView, n, window int) error {
	// BEGIN TODO(view-change): check that NEW-VIEW rests on 2f+1 valid view changes for its view from distinct replicas, and that recomputing the pre-prepares from them gives exactly the ones it carries
	seen := map[lab.ID]bool{}
	for i := range nv.ViewChanges {
		vc := &nv.ViewChanges[i]
		if vc.View != nv.View {
			return fmt.Errorf("it carries a view change from %s for view %d", vc.Replica, vc.View)
		}
		if err := validViewChange(vc, n, window); err != nil {
			return fmt.Errorf("the view change from %s: %w", vc.Replica, err)
		}
		seen[vc.Replica] = true
	}
	if len(seen) < lab.Quorum(n) {
		return fmt.Errorf("it rests on %d view changes, 2f+1 = %d needed", len(seen), lab.Quorum(n))
	}
	_, want := newViewPrePrepares(nv.View, nv.ViewChanges)
	if len(want) != len(nv.PrePrepares) {
		return fmt.Errorf("it re-issues %d pre-prepares where the view changes call for %d", len(nv.PrePrepares), len(want))
	}
	for i, w := range want {
		got := nv.PrePrepares[i]
		if got.View != w.View || got.Seq != w.Seq || got.Digest != w.Digest || got.ContentDigest() != w.Digest {
			return fmt.Errorf("it re-issues %s where the view changes call for %s", ppName(got), ppName(w))
		}
	}
	return nil
	// END TODO
}

func digestName(d string) string {
	if d == lab.NullDigest {
		return "the null request"
	}
	return "request " + d
}

// ppName describes a pre-prepare in an error message: its view, sequence
// number and digest, and what it carries when that is not its digest.
func ppName(pp lab.PrePrepare) string {
	s := fmt.Sprintf("%s in view %d at n%d", digestName(pp.Digest), pp.View, pp.Seq)
	if d := pp.ContentDigest(); d != pp.Digest {
		s += " (carrying " + digestName(d) + ")"
	}
	return s
}
