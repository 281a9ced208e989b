package skeleton

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
	// TODO(view-change): min-s is the highest stable checkpoint in the view changes, max-s the highest sequence number prepared above it; for every n in (min-s, max-s] re-issue, in view v, the request whose prepared certificate has the highest view, or a null request (digest lab.NullDigest) where nothing prepared
	return 0, nil
}

// validViewChange checks what a view change claims: its stable checkpoint
// proven by 2f+1 matching checkpoints, and each prepared request proven by
// its pre-prepare and 2f matching yes prepares from distinct backups, for
// a sequence number inside the sender's watermarks and a view below the
// one asked for.
func validViewChange(vc *lab.ViewChange, n, window int) error {
	// TODO(view-change): check the checkpoint proof and every prepared certificate of a view change; return an error saying what is wrong
	return nil
}

// checkNewView checks NEW-VIEW as a backup must: 2f+1 valid view changes
// for its view from distinct replicas, and the pre-prepares that follow
// from them, no more and no fewer.
func checkNewView(nv *lab.NewView, n, window int) error {
	// TODO(view-change): check that NEW-VIEW rests on 2f+1 valid view changes for its view from distinct replicas, and that recomputing the pre-prepares from them gives exactly the ones it carries
	return nil
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
