package script

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"pbftlab/lab"
	"pbftlab/sim"
)

// The case language's adversary and network verbs. A Byzantine replica can
// say what its code did not ("send", "tx ... to"), lie in what its code
// sends ("lie in checkpoints", "withhold"), and the network can hold
// messages back and let them go ("network: hold", "network: release"):
//
//	P0 (primary, Byzantine): tx account=alice,amount=40,operation=deposit to P1, P2
//	P3 (Byzantine): send PREPARE v0 n1 yes to P1 as P2
//	P3 (Byzantine): send CHECKPOINT n2 wrong digest to P0, P1
//	P3 (Byzantine): lie in checkpoints
//	network: hold STATE-REPLY from P0, P1
//	network: release STATE-REPLY in reverse order
//
// Each verb is parsed by a function of its own below and carried out by
// the Adversary methods of the cluster, which the simulator implements.

// Adversary is implemented by clusters that let a case play a Byzantine
// replica beyond its votes and hold up the network: the simulator.
type Adversary interface {
	// Inject sends m to replica to as Byzantine replica from, whatever
	// from's code would do, and lets the network settle.
	Inject(from, to lab.ID, m lab.Message) error
	// Lie passes everything Byzantine replica id sends through lie from
	// now on (nil: stop lying).
	Lie(id lab.ID, lie func(to lab.ID, m lab.Message) lab.Message) error
	// Hold keeps back the messages selected from now on; Release lets
	// those selected go, in order or reversed, settles, and counts them.
	Hold(f sim.Filter)
	Release(f sim.Filter, reverse bool) int
	// SetReorder lets messages on a link overtake each other, or not.
	SetReorder(on bool)
	// PrePrepareAt is the pre-prepare for seq replica id has seen in the
	// highest view, or in view exactly when view >= 0.
	PrePrepareAt(id lab.ID, seq, view int) (lab.PrePrepare, bool)
	// Register takes op as the client's next request without sending it.
	Register(op string) int
	// Queue sends op as the client's next request without settling.
	Queue(op string) int
	// Sent counts what replica id's code sent, of kind (0: any kind).
	Sent(id lab.ID, kind lab.Kind) int
	// CheckpointDigest is the digest of the checkpoint replica id
	// reported taking at seq, if it did.
	CheckpointDigest(id lab.ID, seq int) (string, bool)
	// ViewChangeFrom is the last VIEW-CHANGE for view naming replica from
	// that replica id received or sent (its code's or a forged one).
	ViewChangeFrom(id lab.ID, view int, from lab.ID) (lab.ViewChange, bool)
}

// Forgery is a message a Byzantine replica sends by a "send" or "tx ... to"
// line, as written; the cluster's state fills in what the line leaves out
// when the line is played.
type Forgery struct {
	Kind lab.Kind
	View int // -1: the sender's view (a VIEW-CHANGE: the one after it)
	Seq  int // 0: for "tx ... to", the sender's next sequence number
	Yes  bool
	// Request is what a PRE-PREPARE proposes.
	Request RequestRef
	// Digest overrides the digest the message would carry.
	Digest *RequestRef
	Wrong  bool   // "wrong digest"
	Stable int    // VIEW-CHANGE: the stable checkpoint it claims
	As     lab.ID // the sender the message names; -2 when not given
	Times  int
	To     []lab.ID
	// ViewChange and NewView are what a forged VIEW-CHANGE or NEW-VIEW
	// carries beyond its view (see forgeview.go).
	ViewChange *ViewChangeClaims
	NewView    *NewViewClaims
}

// RequestRef names a request in a forged message: the client's request N,
// the null request, or an operation the client is made to ask for.
type RequestRef struct {
	N    int
	Null bool
	Op   string
}

func (r RequestRef) String() string {
	switch {
	case r.Null:
		return "null"
	case r.N > 0:
		return fmt.Sprintf("request %d", r.N)
	}
	return r.Op
}

const notNamed lab.ID = -2

var kindWords = map[string]lab.Kind{
	"pre-prepare": lab.KindPrePrepare, "preprepare": lab.KindPrePrepare,
	"prepare": lab.KindPrepare, "commit": lab.KindCommit,
	"checkpoint": lab.KindCheckpoint, "view-change": lab.KindViewChange,
	"new-view": lab.KindNewView, "reply": lab.KindReply,
	"state-request": lab.KindStateRequest, "state-reply": lab.KindStateReply,
	"request": lab.KindRequest,
}

func parseKind(w string) (lab.Kind, bool) {
	k, ok := kindWords[strings.ToLower(strings.TrimSuffix(w, ","))]
	return k, ok
}

// words is a cursor over a line's words.
type words struct {
	w []string
	i int
}

func (p *words) more() bool   { return p.i < len(p.w) }
func (p *words) peek() string { return strings.ToLower(p.w[p.i]) }
func (p *words) next() string { p.i++; return p.w[p.i-1] }
func (p *words) is(s string) bool {
	if p.more() && p.peek() == s {
		p.i++
		return true
	}
	return false
}

// number reads "n4" or "v1" (prefix p) or a bare number.
func (p *words) number(prefix string) (int, bool) {
	if !p.more() {
		return 0, false
	}
	w := p.peek()
	if prefix != "" {
		if !strings.HasPrefix(w, prefix) {
			return 0, false
		}
		w = w[len(prefix):]
	}
	n, err := strconv.Atoi(w)
	if err != nil || n < 0 {
		return 0, false
	}
	p.i++
	return n, true
}

// ids reads a list of replicas, "P1, P2" or "P1,P2", up to a word that
// is not one.
func (p *words) ids() ([]lab.ID, error) {
	var out []lab.ID
	for p.more() {
		item := strings.Trim(p.peek(), ",")
		if item == "" {
			p.i++
			continue
		}
		var ids []lab.ID
		for part := range strings.SplitSeq(item, ",") {
			id, err := lab.ParseID(part)
			if err != nil || id == lab.Client {
				if len(out) == 0 && len(ids) == 0 {
					return nil, replicaError(part)
				}
				return out, nil
			}
			ids = append(ids, id)
		}
		out = append(out, ids...)
		p.i++
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no replica named")
	}
	return out, nil
}

// parseSendForged reads "send KIND ... to PX[, PY] [as PZ] [times N]".
func (s *Step) parseSendForged(command string) error {
	p := &words{w: strings.Fields(command)[1:]}
	usage := fmt.Errorf("want \"send KIND ... to PX\", KIND one of PRE-PREPARE vV nN request N|null|OPERATION, PREPARE vV nN yes|no, COMMIT vV nN commit|abort, CHECKPOINT nN, VIEW-CHANGE vV [stable nN [proof ...]] [prepared ...], NEW-VIEW vV [view changes from ...] [with ...]; then optionally \"digest of request N\" or \"wrong digest\", \"to PX, PY\", \"as PZ\", \"times N\"")
	if !p.more() {
		return usage
	}
	kind, ok := parseKind(p.next())
	if !ok {
		return fmt.Errorf("send %q: unknown message kind; %v", p.w[0], usage)
	}
	switch kind {
	case lab.KindViewChange:
		return s.parseSendViewChange(p)
	case lab.KindNewView:
		return s.parseSendNewView(p)
	}
	f := &Forgery{Kind: kind, View: -1, As: notNamed, Times: 1}
	if v, ok := p.number("v"); ok {
		f.View = v
	}
	switch kind {
	case lab.KindPrePrepare, lab.KindPrepare, lab.KindCommit, lab.KindCheckpoint:
		n, ok := p.number("n")
		if !ok || n == 0 {
			return fmt.Errorf("send %s: want the sequence number, as n1", kind)
		}
		f.Seq = n
	case lab.KindRequest:
		r, err := p.request()
		if err != nil || r.N == 0 {
			return fmt.Errorf("send REQUEST: want \"send REQUEST request N to PX\": a client's request, replayed")
		}
		f.Request = r
	default:
		return fmt.Errorf("send %s: a case cannot forge this kind (it forges REQUEST, PRE-PREPARE, PREPARE, COMMIT, CHECKPOINT, VIEW-CHANGE and NEW-VIEW; a lying STATE-REPLY is a \"lie in\" line)", kind)
	}
	switch kind {
	case lab.KindPrePrepare:
		r, err := p.request()
		if err != nil {
			return fmt.Errorf("send PRE-PREPARE: %v", err)
		}
		f.Request = r
	case lab.KindPrepare, lab.KindCommit:
		yes, no := "yes", "no"
		if kind == lab.KindCommit {
			yes, no = "commit", "abort"
		}
		switch {
		case p.is(yes):
			f.Yes = true
		case p.is(no):
		default:
			return fmt.Errorf("send %s: want %s or %s after the sequence number", kind, yes, no)
		}
	}
	if err := f.parseTail(p, kind); err != nil {
		return fmt.Errorf("send %s: %v", kind, err)
	}
	s.Action, s.Forgery = Forge, f
	return nil
}

// request reads "request N", "null" or an operation.
func (p *words) request() (RequestRef, error) {
	switch {
	case !p.more():
		return RequestRef{}, fmt.Errorf("want \"request N\", \"null\" or an operation")
	case p.is("null"):
		return RequestRef{Null: true}, nil
	case p.is("request"):
		n, ok := p.number("")
		if !ok || n == 0 {
			return RequestRef{}, fmt.Errorf("want \"request N\", N counting the client's requests from 1")
		}
		return RequestRef{N: n}, nil
	}
	op := p.next()
	if err := CheckOperation(op); err != nil {
		return RequestRef{}, err
	}
	return RequestRef{Op: op}, nil
}

// parseTail reads what may end a forging line: the digest, the
// receivers, the sender named and the repetitions.
func (f *Forgery) parseTail(p *words, kind lab.Kind) error {
	for p.more() {
		switch {
		case p.is("wrong"):
			if !p.is("digest") {
				return fmt.Errorf("want \"wrong digest\"")
			}
			f.Wrong = true
		case p.is("digest"):
			if !p.is("of") {
				return fmt.Errorf("want \"digest of request N\"")
			}
			r, err := p.request()
			if err != nil {
				return err
			}
			f.Digest = &r
		case p.is("to"):
			ids, err := p.ids()
			if err != nil {
				return err
			}
			f.To = ids
		case p.is("as"):
			ids, err := p.ids()
			if err != nil || len(ids) != 1 {
				return fmt.Errorf("want \"as PX\", one replica")
			}
			if kind == lab.KindPrePrepare || kind == lab.KindRequest || kind == lab.KindNewView {
				return fmt.Errorf("a %s names no replica as its sender", kind)
			}
			f.As = ids[0]
		case p.is("times"):
			n, ok := p.number("")
			if !ok || n == 0 {
				return fmt.Errorf("want \"times N\"")
			}
			f.Times = n
		default:
			return fmt.Errorf("unexpected %q", p.w[p.i])
		}
	}
	if len(f.To) == 0 {
		return fmt.Errorf("say whom it goes to: \"to P1, P2\"")
	}
	if (f.Wrong || f.Digest != nil) && (kind == lab.KindViewChange || kind == lab.KindNewView) {
		return fmt.Errorf("a %s carries no digest of its own: give each certificate or pre-prepare its digest", kind)
	}
	return nil
}

// parseProposeTo reads a Byzantine primary's "tx OPERATION|request N to
// PX[, PY] [at nN]": a pre-prepare for the sender's view sent to some
// replicas only.
func (s *Step) parseProposeTo(command string) error {
	p := &words{w: strings.Fields(command)[1:]}
	r, err := p.request()
	if err != nil {
		return fmt.Errorf("tx ... to: %v", err)
	}
	f := &Forgery{Kind: lab.KindPrePrepare, View: -1, As: notNamed, Times: 1, Request: r}
	if !p.is("to") {
		return fmt.Errorf("tx ... to: want \"tx OPERATION to P1, P2 [at nN]\"")
	}
	if f.To, err = p.ids(); err != nil {
		return fmt.Errorf("tx ... to: %v", err)
	}
	if p.is("at") {
		n, ok := p.number("n")
		if !ok || n == 0 {
			return fmt.Errorf("tx ... to: want \"at nN\"")
		}
		f.Seq = n
	}
	if p.more() {
		return fmt.Errorf("tx ... to: unexpected %q (want \"tx OPERATION to P1, P2 [at nN]\")", p.w[p.i])
	}
	s.Action, s.Forgery = Forge, f
	return nil
}

// Lie is one way a Byzantine replica's code is made to lie.
type Lie struct {
	Kind lab.Kind // the kind it lies in (or withholds)
	Seq  int      // "null at nN" in a NEW-VIEW; the seq withheld
	// ViewChanges, when set, is how many view changes a lying NEW-VIEW
	// keeps ("with N view changes"); Short says the lie is that one.
	ViewChanges int
	Short       bool
	// View, when set, is one more than the view a lying STATE-REPLY
	// claims ("state replies view V"); its committed entries stay true.
	View int
	// Snapshot: a lying STATE-REPLY's checkpoint keeps its sequence
	// number and digest but carries other balances ("state replies
	// snapshot"), which that digest does not describe.
	Snapshot bool
	// Aborted: a lying STATE-REPLY's aborted entries carry another request,
	// still aborted, with the null digest ("state replies aborted").
	Aborted bool
	// Checkpoint, when set, is the sequence number at which a lying
	// STATE-REPLY claims a made-up state as its stable checkpoint, with
	// that state's own digest ("state replies checkpoint nN").
	Checkpoint int
	To         []lab.ID // withhold: from whom
	Stop       bool     // "stop lying"
	Silent     bool     // withhold: send nothing
}

// parseLie reads "lie in checkpoints", "lie in state replies [view V |
// snapshot | aborted | checkpoint nN]", "lie in new-view null at nN", "lie
// in new-view with N view changes", "withhold KIND [nN] from PX, PY" and
// "stop lying".
func (s *Step) parseLie(command string) error {
	p := &words{w: strings.Fields(strings.ToLower(command))}
	l := &Lie{}
	switch {
	case p.is("stop"):
		if !p.is("lying") || p.more() {
			return fmt.Errorf("want \"stop lying\"")
		}
		l.Stop = true
	case p.is("withhold"):
		if !p.more() {
			return fmt.Errorf("want \"withhold KIND [nN] from PX, PY\"")
		}
		k, ok := parseKind(p.next())
		if !ok {
			return fmt.Errorf("withhold: unknown message kind %q", p.w[1])
		}
		l.Kind, l.Silent = k, true
		if n, ok := p.number("n"); ok {
			l.Seq = n
		}
		if p.is("from") {
			ids, err := p.ids()
			if err != nil {
				return fmt.Errorf("withhold: %v", err)
			}
			l.To = ids
		}
		if p.more() {
			return fmt.Errorf("withhold: unexpected %q (want \"withhold KIND [nN] from PX, PY\")", p.w[p.i])
		}
	case p.is("lie"):
		p.is("in")
		rest := strings.Join(p.w[p.i:], " ")
		switch {
		case rest == "checkpoints":
			l.Kind = lab.KindCheckpoint
		case rest == "state replies":
			l.Kind = lab.KindStateReply
		case rest == "state replies snapshot":
			l.Kind, l.Snapshot = lab.KindStateReply, true
		case rest == "state replies aborted":
			l.Kind, l.Aborted = lab.KindStateReply, true
		case strings.HasPrefix(rest, "state replies checkpoint n"):
			n, err := strconv.Atoi(strings.TrimPrefix(rest, "state replies checkpoint n"))
			if err != nil || n < 1 {
				return fmt.Errorf("want \"lie in state replies checkpoint nN\"")
			}
			l.Kind, l.Checkpoint = lab.KindStateReply, n
		case strings.HasPrefix(rest, "state replies view "):
			v, err := strconv.Atoi(strings.TrimPrefix(rest, "state replies view "))
			if err != nil || v < 0 {
				return fmt.Errorf("want \"lie in state replies view V\"")
			}
			l.Kind, l.View = lab.KindStateReply, v+1
		case strings.HasPrefix(rest, "new-view with ") && (strings.HasSuffix(rest, " view changes") || strings.HasSuffix(rest, " view change")):
			k := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(rest, "new-view with "), " view changes"), " view change")
			if k == "one" {
				k = "1"
			}
			n, err := strconv.Atoi(k)
			if err != nil || n < 0 {
				return fmt.Errorf("want \"lie in new-view with N view changes\"")
			}
			l.Kind, l.ViewChanges, l.Short = lab.KindNewView, n, true
		case strings.HasPrefix(rest, "new-view null at n"):
			n, err := strconv.Atoi(strings.TrimPrefix(rest, "new-view null at n"))
			if err != nil || n < 1 {
				return fmt.Errorf("want \"lie in new-view null at nN\"")
			}
			l.Kind, l.Seq = lab.KindNewView, n
		default:
			return fmt.Errorf("unknown lie %q (want \"lie in checkpoints\", \"lie in state replies [view V|snapshot|aborted|checkpoint nN]\", \"lie in new-view null at nN\" or \"lie in new-view with N view changes\")", rest)
		}
	}
	s.Action, s.Lie = LieStep, l
	return nil
}

// liedOp is what a replica lying in its state replies claims it executed.
const liedOp = "account=alice,amount=999,operation=deposit"

// liedAccount is the account a lying snapshot adds 999 to, besides every
// account it holds.
const liedAccount = "mallory"

// forgedDigest marks a digest a lying replica made up.
const forgedDigest = "forged-"

// rewrite is the lie as a function on what the replica sends.
func (l Lie) rewrite(to lab.ID, m lab.Message) lab.Message {
	if lab.KindOf(m) != l.Kind {
		return m
	}
	if l.Silent {
		if (l.Seq == 0 || sim.SeqOf(m) == l.Seq) && (len(l.To) == 0 || slices.Contains(l.To, to)) {
			return nil
		}
		return m
	}
	switch m := m.(type) {
	case *lab.Checkpoint:
		m.Digest = forgedDigest + m.Digest
	case *lab.StateReply:
		if l.View > 0 {
			m.View = l.View - 1
			return m
		}
		if l.Snapshot {
			balances := map[string]int{}
			for k, v := range m.Checkpoint.Balances {
				balances[k] = v + 999
			}
			balances[liedAccount] += 999
			m.Checkpoint.Balances = balances
			return m
		}
		if l.Checkpoint > 0 {
			m.Checkpoint = madeUpState(l.Checkpoint, m.Checkpoint.Balances)
			m.Committed = slices.DeleteFunc(m.Committed, func(pp lab.PrePrepare) bool { return pp.Seq <= l.Checkpoint })
			return m
		}
		for i := range m.Committed {
			switch pp := &m.Committed[i]; {
			case pp.Request == nil:
			case !l.Aborted:
				pp.Request.Op = liedOp
				pp.Digest = lab.Digest(pp.Request)
			case pp.Digest == lab.NullDigest:
				// Aborted, it executed as nothing: the null digest says
				// nothing of the request, which is the lie.
				pp.Request.Op = liedOp
			}
		}
	case *lab.NewView:
		if l.Short {
			m.ViewChanges = m.ViewChanges[:min(l.ViewChanges, len(m.ViewChanges))]
			return m
		}
		for i := range m.PrePrepares {
			if pp := &m.PrePrepares[i]; pp.Seq == l.Seq {
				pp.Request, pp.Digest = nil, lab.NullDigest
			}
		}
	}
	return m
}

// madeUpState is the checkpoint a replica lying about its state claims at
// seq: every balance it holds plus 999, and 999 for mallory, with no
// client's request executed, under the digest of that state, so that the
// snapshot alone shows nothing wrong: only f+1 replies vouching for it do.
func madeUpState(seq int, balances map[string]int) lab.Snapshot {
	made := map[string]int{liedAccount: 999}
	for k, v := range balances {
		made[k] += v + 999
	}
	b := lab.NewBank(made, nil)
	snap := b.Snapshot()
	snap.Seq = seq
	return snap
}

// parseNetwork reads a "network:" line: "hold [KINDS] [nN] [from IDS] [to
// IDS]", "release ... [in reverse order]", "reorder", "keep order".
func (s *Step) parseNetwork(command string) error {
	p := &words{w: strings.Fields(command)}
	usage := fmt.Errorf("network: want \"hold [KIND, ...] [nN] [from PX, ...] [to PY, ...]\", \"release [the same] [in reverse order]\", \"reorder\" or \"keep order\"")
	switch {
	case !p.more():
		return usage
	case p.is("reorder"):
		s.Action, s.On = Reorder, true
	case p.is("keep"):
		if !p.is("order") {
			return usage
		}
		s.Action = Reorder
	case p.is("hold"):
		s.Action = Hold
	case p.is("release"):
		s.Action = Release
	default:
		return usage
	}
	f := &sim.Filter{}
	for p.more() {
		if k, ok := parseKind(p.peek()); ok && s.Action != Reorder {
			f.Kinds = append(f.Kinds, k)
			p.i++
			continue
		}
		switch {
		case s.Action == Reorder:
			return usage
		case p.is("from"):
			ids, err := p.ids()
			if err != nil {
				return fmt.Errorf("network: from: %v", err)
			}
			f.From = ids
		case p.is("to"):
			ids, err := p.ids()
			if err != nil {
				return fmt.Errorf("network: to: %v", err)
			}
			f.To = ids
		case s.Action == Release && p.is("in"):
			if !p.is("reverse") || !p.is("order") {
				return usage
			}
			s.Reverse = true
		default:
			n, ok := p.number("n")
			if !ok || n == 0 {
				return fmt.Errorf("network: unexpected %q; %v", p.w[p.i], usage)
			}
			f.Seq = n
		}
	}
	s.Filter = f
	return nil
}

// parseTickUntil reads "until TARGETS: EXPECTATION, at most N".
func parseTickUntil(c *Case, text string) (*Expect, int, error) {
	usage := fmt.Errorf("tick: want \"tick: N\" or \"tick: until P1, P2: EXPECTATION, at most N\"")
	rest := strings.TrimSpace(text[len("until"):])
	i := strings.LastIndex(strings.ToLower(rest), ", at most ")
	if i < 0 {
		return nil, 0, usage
	}
	limit, err := positive(strings.TrimSpace(rest[i+len(", at most "):]))
	if err != nil {
		return nil, 0, fmt.Errorf("tick: at most: %v", err)
	}
	targets, what, ok := strings.Cut(rest[:i], ":")
	if !ok {
		return nil, 0, usage
	}
	e, err := parseExpect(c, strings.TrimSpace(targets), strings.TrimSpace(what))
	if err != nil {
		return nil, 0, err
	}
	return &e, limit, nil
}

// play carries out the adversary and network verbs; ok is false for any
// other step.
func (ps *player) adversary(st Step) (bool, error) {
	switch st.Action {
	case Forge, LieStep, Hold, Release, Reorder:
	default:
		return false, nil
	}
	adv, ok := ps.cl.(Adversary)
	if !ok {
		return true, fmt.Errorf("line %d: this cluster cannot play %q (only the simulator can)", st.Line, st.Text)
	}
	switch st.Action {
	case Forge:
		// A line that cannot be carried out is the case's mistake, not the
		// replica's: it stops the case, so that no attack goes unplayed.
		for _, id := range st.Targets {
			if err := ps.forge(adv, id, *st.Forgery); err != nil {
				return true, fmt.Errorf("line %d (%s): %w", st.Line, st.Text, err)
			}
		}
	case LieStep:
		for _, id := range st.Targets {
			if err := ps.lie(adv, id, *st.Lie); err != nil {
				return true, fmt.Errorf("line %d (%s): %w", st.Line, st.Text, err)
			}
		}
	case Hold:
		adv.Hold(*st.Filter)
	case Release:
		n := adv.Release(*st.Filter, st.Reverse)
		ps.log(fmt.Sprintf("    (%d held messages released)", n))
	case Reorder:
		adv.SetReorder(st.On)
	}
	return true, nil
}

// lie adds l to what replica id already lies about, or stops them all.
func (ps *player) lie(adv Adversary, id lab.ID, l Lie) error {
	if l.Stop {
		ps.lies[id] = nil
		return adv.Lie(id, nil)
	}
	ps.lies[id] = append(ps.lies[id], l)
	lies := slices.Clone(ps.lies[id])
	return adv.Lie(id, func(to lab.ID, m lab.Message) lab.Message {
		for _, l := range lies {
			if m = l.rewrite(to, m); m == nil {
				return nil
			}
		}
		return m
	})
}

// forge builds the message a forging line describes, filling in from the
// cluster what the line leaves out, and sends it.
func (ps *player) forge(adv Adversary, from lab.ID, f Forgery) error {
	st, err := ps.cl.Status(from)
	if err != nil {
		return err
	}
	view := f.View
	if view < 0 {
		view = st.View
		if f.Kind == lab.KindViewChange {
			view++
		}
	}
	sender := from
	if f.As != notNamed {
		sender = f.As
	}
	var m lab.Message
	switch f.Kind {
	case lab.KindPrePrepare:
		seq := f.Seq
		if seq == 0 {
			seq = nextSeq(st)
			if last, ok := ps.proposed[from]; ok && last.view == view && last.seq >= seq {
				seq = last.seq + 1
			}
		}
		if last, ok := ps.proposed[from]; !ok || last.view != view || seq > last.seq {
			ps.proposed[from] = proposal{view, seq}
		}
		pp := &lab.PrePrepare{View: view, Seq: seq}
		if !f.Request.Null {
			r, err := ps.request(adv, f.Request)
			if err != nil {
				return err
			}
			pp.Request = &r
		}
		pp.Digest = lab.Digest(pp.Request)
		if err := ps.digest(adv, f, &pp.Digest); err != nil {
			return err
		}
		m = pp
	case lab.KindPrepare, lab.KindCommit:
		d, err := ps.votedDigest(adv, from, f, view)
		if err != nil {
			return err
		}
		if f.Kind == lab.KindPrepare {
			m = &lab.Prepare{View: view, Seq: f.Seq, Digest: d, Replica: sender, Yes: f.Yes}
		} else {
			m = &lab.Commit{View: view, Seq: f.Seq, Digest: d, Replica: sender, Yes: f.Yes}
		}
	case lab.KindCheckpoint:
		d, ok := adv.CheckpointDigest(from, f.Seq)
		if !ok && !f.Wrong && f.Digest == nil {
			return fmt.Errorf("%s reported no checkpoint taken at n%d (env.Checkpointed), and this line sends the digest of the one it took: in a replica, check that takeCheckpoint reports its snapshot; in a case file, say \"wrong digest\" to send one anyway", from, f.Seq)
		}
		if err := ps.digest(adv, f, &d); err != nil {
			return err
		}
		m = &lab.Checkpoint{Seq: f.Seq, Digest: d, Replica: sender}
	case lab.KindViewChange:
		vc, err := ps.viewChange(adv, from, sender, view, f)
		if err != nil {
			return err
		}
		m = vc
	case lab.KindNewView:
		if f.View < 0 {
			view = st.View
		}
		nv, err := ps.newView(adv, from, view, f)
		if err != nil {
			return err
		}
		m = nv
	case lab.KindRequest:
		r, err := ps.request(adv, f.Request)
		if err != nil {
			return err
		}
		m = &r
	}
	for range f.Times {
		for _, to := range f.To {
			if err := adv.Inject(from, to, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// proposal is the highest view and sequence number a forged pre-prepare
// used: without "at nN", the next one takes the number after it, or after
// everything in the sender's log, so equivocating at one number says so.
type proposal struct{ view, seq int }

// nextSeq is the sequence number after everything in a replica's log and
// history.
func nextSeq(st lab.Status) int {
	n := st.LastExecuted
	for _, e := range st.Log {
		n = max(n, e.Seq)
	}
	return n + 1
}

// request resolves a request named in a forged message: an operation
// becomes the client's next request, which the client never sends.
func (ps *player) request(adv Adversary, r RequestRef) (lab.Request, error) {
	if r.N > 0 {
		if r.N > ps.sent {
			return lab.Request{}, fmt.Errorf("request %d has not been sent (the client has sent %d)", r.N, ps.sent)
		}
		return ps.cl.Request(r.N), nil
	}
	ps.sent++
	n := adv.Register(r.Op)
	ps.log(fmt.Sprintf("    (the client's request %d, which only the Byzantine replica proposes)", n))
	return ps.cl.Request(n), nil
}

// digest applies a line's digest override to d.
func (ps *player) digest(adv Adversary, f Forgery, d *string) error {
	return ps.override(adv, f.Digest, f.Wrong, d)
}

// override replaces d by the digest of the request named ("digest of
// request N") or makes it wrong ("wrong digest"), as a line says.
func (ps *player) override(adv Adversary, of *RequestRef, wrong bool, d *string) error {
	switch {
	case wrong:
		*d = forgedDigest + *d
	case of != nil && of.Null:
		*d = lab.NullDigest
	case of != nil:
		r, err := ps.request(adv, *of)
		if err != nil {
			return err
		}
		*d = lab.Digest(&r)
	}
	return nil
}

// votedDigest is the digest a forged vote carries: the line's, or that of
// the pre-prepare the sender saw at that sequence number and view.
func (ps *player) votedDigest(adv Adversary, from lab.ID, f Forgery, view int) (string, error) {
	var d string
	if f.Digest == nil {
		pp, ok := adv.PrePrepareAt(from, f.Seq, view)
		if !ok {
			pp, ok = adv.PrePrepareAt(from, f.Seq, -1)
		}
		if !ok && !f.Wrong {
			// With the reference the pre-prepare is always there; with a
			// tree under test its absence is the tree's failure, so the
			// message speaks to the student first, to the case author
			// after.
			return "", fmt.Errorf("%s (Byzantine) was to vote on the pre-prepare at n%d, and none reached it: did the primary pre-prepare that request? (a case can name the digest itself: \"digest of request N\")", from, f.Seq)
		}
		d = pp.Digest
	}
	return d, ps.digest(adv, f, &d)
}
