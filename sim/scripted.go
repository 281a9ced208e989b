package sim

import (
	"fmt"
	"maps"
	"slices"

	"pbftlab/lab"
	"pbftlab/wire"
)

// What the case language needs beyond votes: a Byzantine replica that says
// what its code did not (a forged message, a lie in what it sends), a
// network held up on chosen links, the pre-prepares each replica has seen,
// so a scripted vote names the right view, and the view changes it holds,
// which a forged NEW-VIEW rests on. These methods make a Cluster a
// script.Adversary.

// netHeld is a message the network keeps back until Release.
type netHeld struct {
	from, to lab.ID
	m        lab.Message
	data     []byte
}

// Hold keeps back, from now on, every message f selects, until a Release
// that selects it. A held message is sent (the trace shows it) but not
// delivered: the network is slow on those links for as long as a case
// needs, across steps.
func (s *Cluster) Hold(f Filter) {
	s.holds = append(s.holds, f)
}

// Release stops holding what f selects and puts every held message f
// selects on the network, in the order they were sent, or the reverse
// order when reverse is set; the network then settles. It returns how many
// it released. A message for a replica that has crashed since is lost.
func (s *Cluster) Release(f Filter, reverse bool) int {
	s.holds = slices.DeleteFunc(s.holds, func(h Filter) bool { return f.covers(h) })
	var out, keep []netHeld
	for _, h := range s.held {
		if f.Match(h.from, h.to, h.m) {
			out = append(out, h)
		} else {
			keep = append(keep, h)
		}
	}
	s.held = keep
	if reverse {
		slices.Reverse(out)
	}
	for _, h := range out {
		s.net.push(h.from, h.to, h.data)
	}
	s.Settle()
	return len(out)
}

// CheckpointDigest is the digest of the checkpoint replica id reported
// taking at seq, if it did.
func (s *Cluster) CheckpointDigest(id lab.ID, seq int) (string, bool) {
	for _, c := range s.nodes[id].checkpoints {
		if c.Snapshot.Seq == seq {
			return c.Snapshot.Digest, true
		}
	}
	return "", false
}

// Held counts the messages held back and not yet released.
func (s *Cluster) Held() int { return len(s.held) }

// SetReorder lets messages on one link overtake each other (on) or keeps
// every link in order (off), from now on.
func (s *Cluster) SetReorder(on bool) { s.opts.Reorder = on }

// Lie makes Byzantine replica id pass everything it sends through lie from
// now on: lie returns the message to send instead, or nil to send nothing.
// A broadcast goes through lie once per receiver. The replica's own code is
// unchanged; only what leaves it is. nil stops the lying.
func (s *Cluster) Lie(id lab.ID, lie func(to lab.ID, m lab.Message) lab.Message) error {
	if err := s.byzantine(id); err != nil {
		return err
	}
	s.nodes[id].lie = lie
	return nil
}

// byzantine says why id cannot act out of turn, if it cannot.
func (s *Cluster) byzantine(id lab.ID) error {
	if int(id) < 0 || int(id) >= s.opts.N || !slices.Contains(s.opts.Byzantine, id) {
		return fmt.Errorf("%s is not a Byzantine replica of this cluster: only a Byzantine replica sends what its code did not", id)
	}
	return nil
}

// PrePrepareAt returns the pre-prepare for seq that replica id has seen
// in the highest view (from a PRE-PREPARE or a NEW-VIEW it received or sent),
// or in view exactly when view >= 0.
func (s *Cluster) PrePrepareAt(id lab.ID, seq, view int) (lab.PrePrepare, bool) {
	pp, ok := s.nodes[id].seen[seq]
	if !ok || (view >= 0 && pp.View != view) {
		return lab.PrePrepare{}, false
	}
	return *pp, true
}

// Register makes the client take op as its next request without sending it
// to anyone, and returns its number: a Byzantine primary proposes it in
// the client's name. The client accepts replies for it as for any other,
// and never resends it.
func (s *Cluster) Register(op string) int { return s.client.register(op) }

// Queue has the client send a request for op without letting the network
// settle, so that several requests are in flight at once; the next step
// that settles delivers them.
func (s *Cluster) Queue(op string) int { return s.client.Send(op) }

// Sent counts the messages of kind (0: of any kind) that replica id's own
// code has sent, duplicates by the network left out.
func (s *Cluster) Sent(id lab.ID, kind lab.Kind) int {
	n := s.nodes[id]
	if kind == 0 {
		total := 0
		for _, c := range n.sent {
			total += c
		}
		return total
	}
	return n.sent[kind]
}

// ViewChangeFrom returns the last VIEW-CHANGE for view naming replica from
// that replica id received or sent, its code's or a forged one: what a
// forged NEW-VIEW of id's can rest on.
func (s *Cluster) ViewChangeFrom(id lab.ID, view int, from lab.ID) (lab.ViewChange, bool) {
	vc, ok := s.nodes[id].viewChanges[view][from]
	return vc, ok
}

// ViewChangeStory says, for a replica whose change to view is still under
// way, what it got of that view change: whose VIEW-CHANGEs it holds and
// whether a NEW-VIEW reached it. It is what a failed view expectation adds
// to "a view change under way", which has many causes.
func (s *Cluster) ViewChangeStory(id lab.ID, view int) string {
	n := s.nodes[id]
	held := slices.Sorted(maps.Keys(n.viewChanges[view]))
	story := fmt.Sprintf("it holds VIEW-CHANGEs for view %d from %s", view, lab.JoinIDs(held, ", "))
	if len(held) == 0 {
		story = fmt.Sprintf("it holds no VIEW-CHANGE for view %d", view)
	}
	switch from, ok := n.newViews[view]; {
	case ok && from == id:
		story += fmt.Sprintf("; it sent NEW-VIEW for view %d itself and did not enter the view", view)
	case ok:
		story += fmt.Sprintf("; a NEW-VIEW for view %d from %s reached it and it did not enter the view (was the NEW-VIEW refused? its log says)", view, from)
	case lab.Primary(view, s.opts.N) == id:
		story += fmt.Sprintf("; it leads view %d and sent no NEW-VIEW (2f+1 = %d VIEW-CHANGEs start it)", view, lab.Quorum(s.opts.N))
	default:
		story += fmt.Sprintf("; no NEW-VIEW for view %d reached it", view)
	}
	return story
}

// keepViewChange remembers a copy of a VIEW-CHANGE n received or sent.
func (n *node) keepViewChange(vc *lab.ViewChange) {
	c, err := wire.Decode(wire.Encode(vc))
	if err != nil {
		return
	}
	if n.viewChanges == nil {
		n.viewChanges = map[int]map[lab.ID]lab.ViewChange{}
	}
	byReplica := n.viewChanges[vc.View]
	if byReplica == nil {
		byReplica = map[lab.ID]lab.ViewChange{}
		n.viewChanges[vc.View] = byReplica
	}
	byReplica[vc.Replica] = *c.(*lab.ViewChange)
}

// see remembers what n receives or sends that a scripted line may need
// later: the pre-prepares, directly or in a NEW-VIEW, so that a scripted
// vote is about the view the cluster is in, and the view changes, which a
// forged NEW-VIEW rests on. Other messages it ignores.
func (n *node) see(from lab.ID, m lab.Message) {
	remember := func(pp *lab.PrePrepare) {
		if old, ok := n.seen[pp.Seq]; !ok || pp.View >= old.View {
			n.seen[pp.Seq] = pp
		}
	}
	switch m := m.(type) {
	case *lab.PrePrepare:
		remember(m)
		n.lastPP = m
	case *lab.ViewChange:
		if m.Replica == from { // one in another's name is no view change of that replica's
			n.keepViewChange(m)
		}
	case *lab.NewView:
		if n.newViews == nil {
			n.newViews = map[int]lab.ID{}
		}
		if _, ok := n.newViews[m.View]; !ok {
			n.newViews[m.View] = from
		}
		for i := range m.PrePrepares {
			remember(&m.PrePrepares[i])
		}
		if n.lastPP != nil {
			if pp, ok := n.seen[n.lastPP.Seq]; ok {
				n.lastPP = pp
			}
		}
	}
}
