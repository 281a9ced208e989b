package script

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"pbftlab/lab"
)

// Forged VIEW-CHANGE and NEW-VIEW messages with chosen contents. A view
// change claims a stable checkpoint with its proof and prepared
// certificates, each well formed unless the line says how it is not; a
// NEW-VIEW rests on view changes its sender holds and re-issues the
// pre-prepares the line lists:
//
//	P3 (Byzantine): send VIEW-CHANGE v1 prepared n1 request 2 prepares P1, P2 no to P1
//	P3 (Byzantine): send VIEW-CHANGE v1 stable n2 proof P0, P1, P2 n4 prepared n3 request 2 to P1
//	P1 (Byzantine): send NEW-VIEW v1 view changes from P0, P2, P3 with n1 request 1, n2 null to P2, P3
//
// Each is parsed by a function of its own below (parseSendViewChange,
// parseSendNewView) and built when the line is played, from what the
// cluster holds (viewChange, newView).

// ViewChangeClaims is what a forged VIEW-CHANGE carries beyond its view
// and its stable checkpoint (Forgery.Stable).
type ViewChangeClaims struct {
	// Proof is the CHECKPOINT messages offered as the proof of the stable
	// checkpoint ("proof P0, P1, P2"); none when empty.
	Proof []CheckpointClaim
	// Prepared are its prepared certificates, in order.
	Prepared []CertificateClaim
}

// CheckpointClaim is one checkpoint of a forged proof: from Replica, for
// the stable checkpoint's sequence number unless Seq names another ("P2
// n4"), with the digest of the checkpoint the sender took there unless
// Wrong ("P2 wrong digest").
type CheckpointClaim struct {
	Replica lab.ID
	Seq     int
	Wrong   bool
}

// CertificateClaim is one prepared certificate: the pre-prepare of Request
// at Seq in View (-1: the view before the one the view change asks for),
// with that request's digest unless Digest or Wrong says otherwise, and its
// prepares.
type CertificateClaim struct {
	Seq     int
	View    int
	Request RequestRef
	Digest  *RequestRef
	Wrong   bool
	// Prepares are the votes it holds ("prepares P1, P2 no"); nil: yes
	// votes from the first 2f backups of its view, all matching.
	Prepares []VoteClaim
}

// VoteClaim is one prepare of a certificate: from Replica (any number, one
// that names no replica too: P4 of four, P-1), a yes vote unless No, for
// the certificate's view, sequence number and digest unless View (at or
// above 0), Seq (above 0) or Wrong say otherwise ("P2 no", "P2 v1", "P2
// n2", "P2 wrong digest").
type VoteClaim struct {
	Replica lab.ID
	No      bool
	View    int
	Seq     int
	Wrong   bool
}

// NewViewClaims is what a forged NEW-VIEW carries.
type NewViewClaims struct {
	// ViewChanges name the view changes it rests on, in order, among those
	// its sender holds ("view changes from P3, P0, P1"); nil: every one it
	// holds for the NEW-VIEW's view, in replica order.
	ViewChanges []HeldViewChange
	// PrePrepares are the pre-prepares it re-issues, in order ("with n1
	// request 1, n2 null").
	PrePrepares []Reissue
}

// HeldViewChange names the last VIEW-CHANGE from Replica for View (-1: the
// NEW-VIEW's own view) that the sender received or sent ("P2", "P2 v2").
type HeldViewChange struct {
	Replica lab.ID
	View    int
}

// Reissue is one pre-prepare of a forged NEW-VIEW: Request at Seq, in the
// NEW-VIEW's view unless View (at or above 0) names another ("in v0"), with
// its own digest unless Digest or Wrong says otherwise.
type Reissue struct {
	Seq     int
	View    int
	Request RequestRef
	Digest  *RequestRef
	Wrong   bool
}

// parseSendViewChange reads what follows "send VIEW-CHANGE": "[vV] [stable
// nS [proof CHECKPOINT, ...]] [prepared CERTIFICATE]... to PX [as PY]
// [times N]", a CERTIFICATE being "nN [vW] request N|null|OPERATION [digest
// of request N | wrong digest] [prepares VOTE, ...]".
func (s *Step) parseSendViewChange(p *words) error {
	c := &ViewChangeClaims{}
	f := &Forgery{Kind: lab.KindViewChange, View: -1, As: notNamed, Times: 1, ViewChange: c}
	if v, ok := p.number("v"); ok {
		f.View = v
	}
	if p.is("stable") {
		n, ok := p.number("n")
		if !ok {
			return fmt.Errorf("send VIEW-CHANGE: want \"stable nN\"")
		}
		f.Stable = n
		if p.is("proof") {
			for _, item := range p.list("prepared") {
				cp, err := parseCheckpointClaim(item)
				if err != nil {
					return fmt.Errorf("send VIEW-CHANGE: proof: %v", err)
				}
				c.Proof = append(c.Proof, cp)
			}
			if len(c.Proof) == 0 {
				return fmt.Errorf("send VIEW-CHANGE: proof: want \"proof P0, P1, P2\"")
			}
		}
	}
	for p.is("prepared") {
		cert, err := p.certificate()
		if err != nil {
			return fmt.Errorf("send VIEW-CHANGE: prepared: %v", err)
		}
		c.Prepared = append(c.Prepared, cert)
	}
	if err := f.parseTail(p, lab.KindViewChange); err != nil {
		return fmt.Errorf("send VIEW-CHANGE: %v", err)
	}
	s.Action, s.Forgery = Forge, f
	return nil
}

// certificate reads a prepared certificate, after "prepared".
func (p *words) certificate() (CertificateClaim, error) {
	c := CertificateClaim{View: -1}
	n, ok := p.number("n")
	if !ok {
		return c, fmt.Errorf("want the sequence number, as \"prepared n1 request 1\"")
	}
	c.Seq = n
	if v, ok := p.number("v"); ok {
		c.View = v
	}
	r, err := p.request()
	if err != nil {
		return c, err
	}
	c.Request = r
	for p.more() {
		switch {
		case p.is("wrong"):
			if !p.is("digest") {
				return c, fmt.Errorf("want \"wrong digest\"")
			}
			c.Wrong = true
		case p.is("digest"):
			if !p.is("of") {
				return c, fmt.Errorf("want \"digest of request N\"")
			}
			d, err := p.request()
			if err != nil {
				return c, err
			}
			c.Digest = &d
		case p.is("prepares"):
			c.Prepares = []VoteClaim{}
			for _, item := range p.list("prepared") {
				v, err := parseVoteClaim(item)
				if err != nil {
					return c, fmt.Errorf("prepares: %v", err)
				}
				c.Prepares = append(c.Prepares, v)
			}
			if len(c.Prepares) == 0 {
				return c, fmt.Errorf("want \"prepares P1, P2\"")
			}
		default:
			return c, nil
		}
	}
	return c, nil
}

// parseSendNewView reads what follows "send NEW-VIEW": "[vV] [view changes
// from PX [vW], ...] [with nS request N|null|OPERATION [in vW] [digest of
// request N | wrong digest], ...] to PX [times N]".
func (s *Step) parseSendNewView(p *words) error {
	c := &NewViewClaims{}
	f := &Forgery{Kind: lab.KindNewView, View: -1, As: notNamed, Times: 1, NewView: c}
	if v, ok := p.number("v"); ok {
		f.View = v
	}
	if p.is("view") {
		if !p.is("changes") || !p.is("from") {
			return fmt.Errorf("send NEW-VIEW: want \"view changes from P0, P1, P2\"")
		}
		for _, item := range p.list("with") {
			h, err := parseHeldViewChange(item)
			if err != nil {
				return fmt.Errorf("send NEW-VIEW: view changes: %v", err)
			}
			c.ViewChanges = append(c.ViewChanges, h)
		}
		if len(c.ViewChanges) == 0 {
			return fmt.Errorf("send NEW-VIEW: want \"view changes from P0, P1, P2\"")
		}
	}
	if p.is("with") {
		for _, item := range p.list() {
			r, err := parseReissue(item)
			if err != nil {
				return fmt.Errorf("send NEW-VIEW: with: %v", err)
			}
			c.PrePrepares = append(c.PrePrepares, r)
		}
		if len(c.PrePrepares) == 0 {
			return fmt.Errorf("send NEW-VIEW: want \"with n1 request 1, n2 null\"")
		}
	}
	if err := f.parseTail(p, lab.KindNewView); err != nil {
		return fmt.Errorf("send NEW-VIEW: %v", err)
	}
	s.Action, s.Forgery = Forge, f
	return nil
}

// list reads comma-separated items, each a few words, up to a word in stop
// or one that starts a line's tail ("to", "as", "times"): "P1, P2 no, P4"
// gives [P1] [P2 no] [P4]. An operation keeps its own commas.
func (p *words) list(stop ...string) [][]string {
	var out [][]string
	var item []string
	end := func() {
		if len(item) > 0 {
			out = append(out, item)
			item = nil
		}
	}
	for p.more() {
		w := p.peek()
		if w == "to" || w == "as" || w == "times" || slices.Contains(stop, w) {
			break
		}
		tok := p.next()
		if strings.Contains(tok, "=") {
			// An operation: only a comma at its end separates items.
			op, last := strings.CutSuffix(tok, ",")
			item = append(item, op)
			if last {
				end()
			}
			continue
		}
		parts := strings.Split(tok, ",")
		for i, part := range parts {
			if part != "" {
				item = append(item, part)
			}
			if i < len(parts)-1 {
				end()
			}
		}
	}
	end()
	return out
}

// anyID reads a replica name for a forged vote or checkpoint, which need
// not name a replica of the cluster: "P4" of four, or "P-1".
func anyID(s string) (lab.ID, error) {
	if rest, ok := strings.CutPrefix(strings.ToLower(s), "p-"); ok {
		if n, err := strconv.Atoi(rest); err == nil && n > 0 {
			return lab.ID(-n), nil
		}
	}
	id, err := lab.ParseID(s)
	if err != nil || id == lab.Client {
		return 0, replicaError(s)
	}
	return id, nil
}

// parseVoteClaim reads "PX [yes|no] [vW] [nS] [wrong digest]".
func parseVoteClaim(item []string) (VoteClaim, error) {
	v := VoteClaim{View: -1}
	id, err := anyID(item[0])
	if err != nil {
		return v, err
	}
	v.Replica = id
	q := &words{w: item[1:]}
	for q.more() {
		switch {
		case q.is("yes"):
		case q.is("no"):
			v.No = true
		case q.is("wrong"):
			if !q.is("digest") {
				return v, fmt.Errorf("want \"wrong digest\"")
			}
			v.Wrong = true
		default:
			if n, ok := q.number("v"); ok {
				v.View = n
				continue
			}
			if n, ok := q.number("n"); ok && n > 0 {
				v.Seq = n
				continue
			}
			return v, fmt.Errorf("%s: unexpected %q (want \"no\", \"vV\", \"nN\" or \"wrong digest\")", item[0], q.w[q.i])
		}
	}
	return v, nil
}

// parseCheckpointClaim reads "PX [nS] [wrong digest]".
func parseCheckpointClaim(item []string) (CheckpointClaim, error) {
	var c CheckpointClaim
	id, err := anyID(item[0])
	if err != nil {
		return c, err
	}
	c.Replica = id
	q := &words{w: item[1:]}
	for q.more() {
		switch {
		case q.is("wrong"):
			if !q.is("digest") {
				return c, fmt.Errorf("want \"wrong digest\"")
			}
			c.Wrong = true
		default:
			n, ok := q.number("n")
			if !ok || n == 0 {
				return c, fmt.Errorf("%s: unexpected %q (want \"nN\" or \"wrong digest\")", item[0], q.w[q.i])
			}
			c.Seq = n
		}
	}
	return c, nil
}

// parseHeldViewChange reads "PX [vW]".
func parseHeldViewChange(item []string) (HeldViewChange, error) {
	h := HeldViewChange{View: -1}
	id, err := lab.ParseID(item[0])
	if err != nil || id == lab.Client {
		return h, replicaError(item[0])
	}
	h.Replica = id
	q := &words{w: item[1:]}
	if q.more() {
		v, ok := q.number("v")
		if !ok || q.more() {
			return h, fmt.Errorf("%s: want \"%s\" or \"%s vV\"", strings.Join(item, " "), item[0], item[0])
		}
		h.View = v
	}
	return h, nil
}

// parseReissue reads "nS request N|null|OPERATION [in vW] [digest of
// request N | wrong digest]".
func parseReissue(item []string) (Reissue, error) {
	r := Reissue{View: -1}
	q := &words{w: item}
	n, ok := q.number("n")
	if !ok || n == 0 {
		return r, fmt.Errorf("%q: want \"nS request N\", \"nS null\" or \"nS OPERATION\"", strings.Join(item, " "))
	}
	r.Seq = n
	req, err := q.request()
	if err != nil {
		return r, fmt.Errorf("n%d: %v", n, err)
	}
	r.Request = req
	for q.more() {
		switch {
		case q.is("in"):
			v, ok := q.number("v")
			if !ok {
				return r, fmt.Errorf("n%d: want \"in vV\"", n)
			}
			r.View = v
		case q.is("wrong"):
			if !q.is("digest") {
				return r, fmt.Errorf("n%d: want \"wrong digest\"", n)
			}
			r.Wrong = true
		case q.is("digest"):
			if !q.is("of") {
				return r, fmt.Errorf("n%d: want \"digest of request N\"", n)
			}
			d, err := q.request()
			if err != nil {
				return r, fmt.Errorf("n%d: %v", n, err)
			}
			r.Digest = &d
		default:
			return r, fmt.Errorf("n%d: unexpected %q (want \"in vV\", \"digest of request N\" or \"wrong digest\")", n, q.w[q.i])
		}
	}
	return r, nil
}

// registers counts the operations a forging line makes the client ask
// for, which become its next requests when the line is played.
func (f *Forgery) registers() int {
	n := 0
	count := func(r RequestRef, d *RequestRef) {
		if r.Op != "" {
			n++
		}
		if d != nil && d.Op != "" {
			n++
		}
	}
	count(f.Request, f.Digest)
	if f.ViewChange != nil {
		for _, c := range f.ViewChange.Prepared {
			count(c.Request, c.Digest)
		}
	}
	if f.NewView != nil {
		for _, r := range f.NewView.PrePrepares {
			count(r.Request, r.Digest)
		}
	}
	return n
}

// viewChange builds a forged VIEW-CHANGE for view from the line's claims.
// The proof's digest is that of the checkpoint the sender took at the
// stable sequence number; a certificate's default prepares come from the
// first 2f backups of its view.
func (ps *player) viewChange(adv Adversary, from, sender lab.ID, view int, f Forgery) (*lab.ViewChange, error) {
	vc := &lab.ViewChange{View: view, StableSeq: f.Stable, Replica: sender}
	claims := f.ViewChange
	if claims == nil {
		return vc, nil
	}
	if len(claims.Proof) > 0 {
		d, ok := adv.CheckpointDigest(from, f.Stable)
		if !ok {
			return nil, fmt.Errorf("%s took no checkpoint at n%d to offer as proof", from, f.Stable)
		}
		for _, c := range claims.Proof {
			cp := lab.Checkpoint{Seq: f.Stable, Digest: d, Replica: c.Replica}
			if c.Seq > 0 {
				cp.Seq = c.Seq
			}
			if c.Wrong {
				cp.Digest = forgedDigest + d
			}
			vc.Checkpoints = append(vc.Checkpoints, cp)
		}
	}
	for _, c := range claims.Prepared {
		v := c.View
		if v < 0 {
			v = max(view-1, 0)
		}
		pp := lab.PrePrepare{View: v, Seq: c.Seq}
		if !c.Request.Null {
			r, err := ps.request(adv, c.Request)
			if err != nil {
				return nil, err
			}
			pp.Request = &r
		}
		pp.Digest = lab.Digest(pp.Request)
		if err := ps.override(adv, c.Digest, c.Wrong, &pp.Digest); err != nil {
			return nil, err
		}
		votes := c.Prepares
		if votes == nil {
			n := ps.cl.N()
			for id := range lab.ID(n) {
				if id != lab.Primary(v, n) && len(votes) < lab.Quorum(n)-1 {
					votes = append(votes, VoteClaim{Replica: id, View: -1})
				}
			}
		}
		cert := lab.Prepared{PrePrepare: pp}
		for _, q := range votes {
			p := lab.Prepare{View: v, Seq: c.Seq, Digest: pp.Digest, Replica: q.Replica, Yes: !q.No}
			if q.View >= 0 {
				p.View = q.View
			}
			if q.Seq > 0 {
				p.Seq = q.Seq
			}
			if q.Wrong {
				p.Digest = forgedDigest + p.Digest
			}
			cert.Prepares = append(cert.Prepares, p)
		}
		vc.Prepared = append(vc.Prepared, cert)
	}
	return vc, nil
}

// newView builds a forged NEW-VIEW for view from the view changes the
// sender holds and the pre-prepares the line lists.
func (ps *player) newView(adv Adversary, from lab.ID, view int, f Forgery) (*lab.NewView, error) {
	nv := &lab.NewView{View: view}
	claims := f.NewView
	held := claims.ViewChanges
	if held == nil {
		for id := range lab.ID(ps.cl.N()) {
			if _, ok := adv.ViewChangeFrom(from, view, id); ok {
				held = append(held, HeldViewChange{Replica: id, View: -1})
			}
		}
	}
	for _, h := range held {
		v := h.View
		if v < 0 {
			v = view
		}
		vc, ok := adv.ViewChangeFrom(from, v, h.Replica)
		if !ok {
			return nil, fmt.Errorf("%s holds no VIEW-CHANGE for view %d from %s", from, v, h.Replica)
		}
		nv.ViewChanges = append(nv.ViewChanges, vc)
	}
	for _, r := range claims.PrePrepares {
		pp := lab.PrePrepare{View: view, Seq: r.Seq}
		if r.View >= 0 {
			pp.View = r.View
		}
		if !r.Request.Null {
			req, err := ps.request(adv, r.Request)
			if err != nil {
				return nil, err
			}
			pp.Request = &req
		}
		pp.Digest = lab.Digest(pp.Request)
		if err := ps.override(adv, r.Digest, r.Wrong, &pp.Digest); err != nil {
			return nil, err
		}
		nv.PrePrepares = append(nv.PrePrepares, pp)
	}
	return nv, nil
}
