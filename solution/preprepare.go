package solution

import (
	"errors"
	"fmt"
	"slices"

	"pbftlab/lab"
)

// onRequest takes a client request. The primary orders it, at once when
// votes are automatic and on "tx" when they are typed; a backup passes it
// on to the primary, which is where the client should have sent it.
func (r *Replica) onRequest(from lab.ID, req lab.Request) {
	if r.bank.Executed(req.Client, req.Timestamp) || r.known(req) {
		return
	}
	if !r.isPrimary() {
		r.pending = append(r.pending, req)
		if from == lab.Client {
			r.env.Send(r.primary(), &req)
		}
		return
	}
	r.pending = append(r.pending, req)
	if !r.cfg.Manual {
		r.proposePending()
	}
}

// known reports whether req is already waiting or in the log.
func (r *Replica) known(req lab.Request) bool {
	k := keyOf(&req)
	return r.ordered[k] || slices.ContainsFunc(r.pending, func(p lab.Request) bool { return keyOf(&p) == k })
}

// reqKey identifies a request: a client numbers its requests.
type reqKey struct {
	client    string
	timestamp int64
}

func keyOf(r *lab.Request) reqKey { return reqKey{r.Client, r.Timestamp} }

// proposeCommand is "tx" at the console: order the oldest pending request,
// or the operation typed after tx.
func (r *Replica) proposeCommand(op string) error {
	if !r.isPrimary() {
		return fmt.Errorf("%s is not the primary of view %d (%s is)", r.id, r.view, r.primary())
	}
	if op != "" {
		r.consoleTS++
		r.pending = append(r.pending, lab.Request{Client: "console-" + r.id.String(), Timestamp: r.consoleTS, Op: op})
	}
	if len(r.pending) == 0 {
		return errors.New("no client request is waiting to be ordered")
	}
	if !r.propose() {
		if !r.inWindow(r.seq + 1) {
			return fmt.Errorf("sequence number %d is above the high watermark %d", r.seq+1, r.high())
		}
		return errors.New("the request was not ordered: propose returned false")
	}
	return nil
}

// proposePending orders every waiting request the window has room for.
func (r *Replica) proposePending() {
	// BEGIN REFERENCE ONLY: a batching primary orders requests in batches (fast.go)
	if r.batching() {
		r.proposeBatches()
		return
	}
	// END REFERENCE ONLY
	for len(r.pending) > 0 && r.propose() {
	}
}

// propose assigns the next sequence number to the oldest pending request
// and sends the pre-prepare to every backup. It reports false when the
// sequence number would fall outside the watermarks.
func (r *Replica) propose() bool {
	// BEGIN TODO(pre-prepare): as primary, give the oldest pending request the next sequence number (only inside the watermarks), record the pre-prepare in your log and broadcast it
	if !r.inWindow(r.seq + 1) {
		return false
	}
	req := r.pending[0]
	r.pending = r.pending[1:]
	r.seq++
	pp := &lab.PrePrepare{View: r.view, Seq: r.seq, Digest: lab.Digest(&req), Request: &req}
	e := r.entry(pp.Seq)
	e.pp, e.phase = pp, lab.PhasePrePrepared
	r.ordered[keyOf(&req)] = true
	r.env.Broadcast(pp)
	if r.tracing {
		r.env.Logf("pre-prepare v%d n%d %s", pp.View, pp.Seq, req.Op)
	}
	return true
	// END TODO
}

// onPrePrepare accepts the primary's proposal, if it is one an honest
// primary could have sent: from the primary of the current view, inside the
// watermarks, with a digest that matches its request, and not in conflict
// with a pre-prepare already accepted for the same view and sequence number.
func (r *Replica) onPrePrepare(from lab.ID, pp *lab.PrePrepare) {
	// BEGIN TODO(pre-prepare): accept a pre-prepare only from the current view's primary, for the current view, inside the watermarks, with a digest matching its request, and never a second digest for one (view, seq)
	if from != r.primary() || pp.View != r.view || !r.inWindow(pp.Seq) || pp.Digest != pp.ContentDigest() {
		return
	}
	e := r.entry(pp.Seq)
	if e.pp != nil {
		if e.pp.Digest != pp.Digest {
			r.env.Logf("rejected a second pre-prepare for v%d n%d with another digest", pp.View, pp.Seq)
		}
		return
	}
	e.pp, e.phase = pp, lab.PhasePrePrepared
	if pp.Request != nil {
		r.ordered[keyOf(pp.Request)] = true
	}
	r.dropPending(pp.Request)
	if r.tracing {
		r.env.Logf("accepted pre-prepare v%d n%d", pp.View, pp.Seq)
	}
	// END TODO
	// BEGIN REFERENCE ONLY: the rest of a batch, and a batching backup's vote (fast.go)
	r.accepted(pp)
	// END REFERENCE ONLY
	r.autoVote()
}

// dropPending forgets a waiting request once it has been ordered.
func (r *Replica) dropPending(req *lab.Request) {
	if req == nil {
		return
	}
	k := keyOf(req)
	r.pending = slices.DeleteFunc(r.pending, func(p lab.Request) bool { return keyOf(&p) == k })
}
