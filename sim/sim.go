// Package sim runs a cluster of replicas inside one goroutine, under a
// scheduler whose every choice comes from a seeded random source: the same
// seed always gives the same run. It is the home replicas are graded in.
//
// Every message is encoded when sent and decoded when delivered, so replicas
// share no memory. The network keeps each link FIFO unless told otherwise,
// may duplicate messages, and drops whatever is addressed to a crashed
// replica. After every delivery the simulator checks safety: honest replicas
// must execute in sequence order and never decide differently at one
// sequence number. A panic in replica code is caught and reported as that
// replica's failure, with its stack.
package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"pbftlab/ckptfile"
	"pbftlab/lab"
	"pbftlab/wire"
)

// Options configure a simulated cluster.
type Options struct {
	N         int            // replicas; 4 when zero
	Manual    bool           // votes are typed, as in the lab
	Balances  map[string]int // starting balances of every replica
	Byzantine []lab.ID       // replicas whose decisions are not checked
	// CheckpointInterval and Window pass through to lab.Config.
	CheckpointInterval int
	Window             int
	ViewChangeTimeout  int
	BatchSize          int
	Seed               uint64
	// Duplicate is the chance that a message is delivered twice.
	Duplicate float64
	// Drop is the chance that a message between replicas is lost.
	Drop float64
	// Reorder lets messages on one link overtake each other.
	Reorder bool
	// PCT chooses the next link by priority, demoting a few at random
	// (see pct), instead of uniformly: one link's messages may then wait
	// while everything else goes through.
	PCT bool
	// Schedule, when set, fixes the order of deliveries (see Schedule)
	// instead of the seed; Reorder and PCT then play no part. The seed
	// still chooses duplicates and losses.
	Schedule *Schedule
	// Record keeps the schedule of a seeded run, for Cluster.Schedule.
	Record bool
	// Cut, when positive, stops the run with ErrCut once it has delivered
	// this many messages: a search among schedules gives up on a run that
	// has gone well past where the failure it looks for happened.
	Cut int
	// MaxDeliveries bounds how many messages one settle may deliver, so a
	// replica that floods the network fails instead of running forever.
	MaxDeliveries int
	// ClientTimeout is how many ticks the client waits for an answer before
	// sending its request to every replica; 0 means 10.
	ClientTimeout int
	// Quiet skips formatting trace lines; for benchmarks.
	Quiet bool
	// Files receives the lab's checkpoint files; nil keeps them in memory,
	// where CheckpointFiles and FinalCheckpoint read them.
	Files ckptfile.FS
	// CallLimit bounds one call into replica code (see StuckError); 0 means
	// DefaultCallLimit and a negative limit turns the watchdog off.
	CallLimit time.Duration
}

// Cluster is a simulated cluster.
type Cluster struct {
	opts   Options
	rng    *rand.Rand // the order of deliveries
	faults *rand.Rand // duplicates and losses, apart so that a schedule replays them
	nodes  []*node
	client *Client
	net    network
	trace  Trace
	now    int // ticks elapsed
	err    error
	// decided maps a sequence number to the first honest execution at it.
	decided map[int]decision
	// ckpt holds the lab's checkpoint files and what the stable-checkpoint
	// check needs.
	ckpt      checkpointState
	delivered int
	// watch follows the calls into replica code (watchdog.go).
	watch *watch
	// holds select the messages the network keeps back (see Hold); held
	// are those it keeps, in the order they were sent.
	holds []Filter
	held  []netHeld
	// typedOps are the operations typed after "tx" at any replica: the
	// requests a replica may make up itself (see knownRequest).
	typedOps map[string]bool
}

type decision struct {
	replica lab.ID
	digest  string
}

// New builds a cluster of replicas made by newReplica.
func New(newReplica lab.NewFunc, opts Options) *Cluster {
	if opts.N == 0 {
		opts.N = 4
	}
	if opts.MaxDeliveries == 0 {
		opts.MaxDeliveries = 2_000_000
	}
	if opts.ClientTimeout == 0 {
		opts.ClientTimeout = 10
	}
	s := &Cluster{
		opts:     opts,
		rng:      rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		faults:   rand.New(rand.NewPCG(opts.Seed^0x5851f42d4c957f2d, opts.Seed)),
		decided:  map[int]decision{},
		watch:    newWatch(opts.CallLimit),
		typedOps: map[string]bool{},
	}
	s.trace.quiet = opts.Quiet
	s.net.init(opts.N + 1)
	switch {
	case opts.Schedule != nil:
		s.net.order = &Schedule{Delays: opts.Schedule.Delays, Reorder: opts.Schedule.Reorder}
	case opts.PCT:
		s.net.pct = newPCT(s.rng, (opts.N+1)*(opts.N+1))
	}
	s.net.record = opts.Record
	s.initCheckpoints()
	for i := range opts.N {
		n := &node{sim: s, id: lab.ID(i), honest: !slices.Contains(opts.Byzantine, lab.ID(i)), seen: map[int]*lab.PrePrepare{}, sent: map[lab.Kind]int{}}
		n.bank = lab.NewBank(opts.Balances, n.observe)
		given := *n.bank
		n.given = &given
		cfg := lab.Config{
			ID:                 n.id,
			N:                  opts.N,
			Manual:             opts.Manual,
			Bank:               n.bank,
			CheckpointInterval: opts.CheckpointInterval,
			Window:             opts.Window,
			ViewChangeTimeout:  opts.ViewChangeTimeout,
			BatchSize:          opts.BatchSize,
		}
		s.nodes = append(s.nodes, n)
		n.call("building the replica", func() { n.replica = newReplica(cfg, env{n}) })
		if n.replica == nil && n.failure == nil {
			n.fail(errors.New("the constructor returned a nil replica"), nil)
		}
	}
	s.client = newClient(s)
	return s
}

// N is the number of replicas.
func (s *Cluster) N() int { return s.opts.N }

// Err returns the first safety violation or replica failure, if any.
func (s *Cluster) Err() error { return s.err }

// Client returns the simulated client.
func (s *Cluster) Client() *Client { return s.client }

// Trace returns the run's trace.
func (s *Cluster) Trace() *Trace { return &s.trace }

// Now is the number of ticks elapsed.
func (s *Cluster) Now() int { return s.now }

// Bank returns replica id's copy of the state.
func (s *Cluster) Bank(id lab.ID) *lab.Bank { return s.nodes[id].bank }

// Crashed reports whether replica id is crashed.
func (s *Cluster) Crashed(id lab.ID) bool { return s.nodes[id].crashed }

// Failure returns the panic or other failure of replica id, if it failed.
func (s *Cluster) Failure(id lab.ID) error { return s.nodes[id].failure }

// Checkpoints returns the snapshots replica id reported, in order.
func (s *Cluster) Checkpoints(id lab.ID) []CheckpointReport {
	return slices.Clone(s.nodes[id].checkpoints)
}

// Status asks replica id for its status; a replica that panics doing so is
// marked failed and its error returned.
func (s *Cluster) Status(id lab.ID) (lab.Status, error) {
	n := s.nodes[id]
	if n.failure != nil {
		return lab.Status{}, n.failure
	}
	var st lab.Status
	n.call("Status", func() { st = n.replica.Status() })
	if n.failure != nil {
		return lab.Status{}, n.failure
	}
	if n.honest {
		if err := n.checkStatus(st); err != nil {
			s.fail(err)
			return lab.Status{}, err
		}
	}
	return st, nil
}

// checkStatus: the checks of a case read a replica's Status, so what the
// simulator knows of the replica, its Status must not contradict: how far
// its bank ran, what it ran or aborted at each number, and a view it has
// grounds to be in. What it keeps in memory (its log, say) only the
// Status tells.
func (n *node) checkStatus(st lab.Status) error {
	if last := n.given.LastExecuted(); st.LastExecuted != last {
		return fmt.Errorf("%s's Status says executed up to n%d, but its bank ran up to n%d: Status reports the replica as it is", n.id, st.LastExecuted, last)
	}
	if !st.ViewChanging && !n.heard.inView(st.View, n.sim.opts.N) {
		return fmt.Errorf("%s's Status says it is in view %d, which it has no grounds to be in: it saw no NEW-VIEW for it, and no f+1 state replies name it (a view asked for and not yet started is ViewChanging)", n.id, st.View)
	}
	for _, o := range st.History {
		if bank := n.ranOtherwise(o.Seq, o.Committed); bank != "" {
			return fmt.Errorf("%s's Status has n%d %s in its history, where its bank %s", n.id, o.Seq, yesNoWord(o.Committed, "committed", "aborted"), bank)
		}
	}
	return nil
}

// Do hands replica id a command; the network then settles. The replica's
// refusal, if any, is returned and written to the trace; so is a failure
// of the run while the network settled.
func (s *Cluster) Do(id lab.ID, c lab.Command) error {
	n := s.nodes[id]
	if n.failure != nil {
		return n.failure
	}
	if n.crashed && c.Op != lab.OpRecover {
		return fmt.Errorf("%s is crashed", id)
	}
	if c.Op == lab.OpProgress {
		n.heard.progress++
	}
	if c.Op == lab.OpPropose && c.Arg != "" {
		s.typedOps[c.Arg] = true
	}
	votesBefore := n.sent[lab.KindPrepare] + n.sent[lab.KindCommit]
	// A typed vote may be cast during the command, not while the network
	// settles after it.
	n.typing, n.typedVote = c.Op, c.Vote
	var err error
	n.call("Do("+c.String()+")", func() {
		// The error is the replica's value: its Error method is replica
		// code, so it runs here, watched, and only its text leaves.
		if err = n.replica.Do(c); err != nil {
			err = errors.New(clipValue(err.Error()))
		}
	})
	n.typing = 0
	if err != nil {
		s.trace.note("%s refused %q: %v", id, c.String(), err)
	} else if s.opts.Manual && n.honest && n.failure == nil {
		s.checkTypedVote(n, c, votesBefore)
	}
	s.Settle()
	if err == nil {
		err = s.err
	}
	return err
}

// Crash stops replica id: it handles nothing until Recover, and messages
// addressed to it meanwhile are lost.
func (s *Cluster) Crash(id lab.ID) {
	s.nodes[id].crashed = true
	s.trace.event(Event{Kind: EventCrash, From: id, To: id})
}

// Recover brings replica id back and tells it to catch up.
func (s *Cluster) Recover(id lab.ID) error {
	n := s.nodes[id]
	n.crashed = false
	s.trace.event(Event{Kind: EventRecover, From: id, To: id})
	return s.Do(id, lab.Command{Op: lab.OpRecover})
}

// VoteTo sends, in Byzantine replica from's name, one vote to replica to
// about the last pre-prepare from received. Byzantine replicas repeat
// themselves, so the vote goes twice.
func (s *Cluster) VoteTo(from, to lab.ID, op lab.Op, yes bool) error {
	n := s.nodes[from]
	if n.lastPP == nil {
		return fmt.Errorf("%s has received no pre-prepare to vote on", from)
	}
	m := ForgedVote(from, *n.lastPP, op, yes)
	s.send(from, to, m, true)
	s.send(from, to, m, true)
	s.Settle()
	return nil
}

// Tick advances every live replica's clock and the client's by one, then
// lets the network settle.
func (s *Cluster) Tick() {
	s.now++
	s.trace.now = s.now
	for _, n := range s.nodes {
		if n.live() {
			n.call("Tick", n.replica.Tick)
		}
	}
	s.client.tick()
	s.Settle()
}

// Settle delivers messages, one at a time in an order the seed chooses,
// until none is in flight or the run has failed.
func (s *Cluster) Settle() {
	budget := s.opts.MaxDeliveries
	for s.err == nil && s.net.pending() > 0 {
		if budget == 0 {
			s.fail(fmt.Errorf("the network did not settle: %d messages delivered in one step and %d still in flight (a replica may be sending in a loop)", s.opts.MaxDeliveries, s.net.pending()))
			return
		}
		budget--
		if s.opts.Cut > 0 && s.delivered >= s.opts.Cut {
			s.fail(ErrCut)
			return
		}
		s.deliverOne()
		if !s.trace.quiet {
			s.snapshot(budget == s.opts.MaxDeliveries-1) // the first of this settle
		}
	}
}

// deliverOne delivers one message chosen by the seed.
func (s *Cluster) deliverOne() {
	from, to, data := s.net.pop(s.rng, s.opts.Reorder)
	m, err := wire.Decode(data)
	if err != nil {
		s.fail(fmt.Errorf("a message from %s to %s did not decode: %v", from, to, err))
		return
	}
	s.delivered++
	if s.net.order != nil {
		if rank := s.net.ranks[len(s.net.ranks)-1]; rank > 0 {
			s.trace.note("schedule: delivery %d, %s from %s to %s, goes ahead of %d older message(s)", s.delivered, lab.KindOf(m), from, to, rank)
		}
	}
	if to == lab.Client {
		s.trace.deliver(from, to, m, false, data)
		s.client.receive(from, m)
		return
	}
	n := s.nodes[to]
	if !n.live() {
		s.trace.deliver(from, to, m, true, data)
		return
	}
	s.trace.deliver(from, to, m, false, data)
	n.see(from, m)
	if q, ok := m.(*lab.StateRequest); ok {
		n.asked(from, q)
	}
	n.heard.add(from, m)
	n.receive(from, n.handed(m, data))
}

// handed is the message replica n is handed: a copy of its own when the
// simulator keeps m, so that what the replica does to what it receives
// changes neither the report nor the adversary's votes. The simulator keeps
// every message in the trace, and the pre-prepares a Byzantine replica
// receives, on which its scripted votes and forgeries rest (see). A quiet
// run keeps nothing else an honest replica receives for later: those go as
// they are.
func (n *node) handed(m lab.Message, data []byte) lab.Message {
	if n.sim.trace.quiet && n.honest {
		return m
	}
	return clone(m, data)
}

// ErrCut stops a run that reached Options.Cut.
var ErrCut = errors.New("the run was cut short after the deliveries it was allowed")

// Schedule is the order the run delivered in so far, when it was played
// on a schedule or recorded (Options.Record); nil otherwise.
func (s *Cluster) Schedule() *Schedule {
	if s.net.order == nil && !s.net.record {
		return nil
	}
	if s.net.order != nil {
		return fromRanks(s.net.ranks, s.net.order.Reorder)
	}
	return fromRanks(s.net.ranks, s.opts.Reorder)
}

// Delivered counts the messages delivered so far.
func (s *Cluster) Delivered() int { return s.delivered }

// send puts m on the link from → to, perhaps twice, perhaps not at all.
func (s *Cluster) send(from, to lab.ID, m lab.Message, forged bool) {
	s.sendEncoded(from, to, m, nil, forged)
}

// sendEncoded is send with m's encoding, when the caller has it already:
// a broadcast encodes its message once for every receiver.
func (s *Cluster) sendEncoded(from, to lab.ID, m lab.Message, data []byte, forged bool) {
	if to != lab.Client && (int(to) < 0 || int(to) >= s.opts.N) {
		s.trace.note("%s sent %s to %s, which is not a replica; dropped", from, lab.KindOf(m), to)
		return
	}
	if to == from {
		s.trace.note("%s sent %s to itself; dropped (record your own vote directly)", from, lab.KindOf(m))
		return
	}
	if data == nil {
		data = wire.Encode(m)
	}
	if !forged && from != lab.Client {
		n := s.nodes[from]
		n.sent[lab.KindOf(m)]++
		n.see(from, m) // a primary knows what it proposed, a replica its view change
		if n.honest {
			if err := n.checkSend(to, m); err != nil {
				s.fail(err)
				return
			}
		}
		if lab.KindOf(m) != lab.KindStateReply { // what a replica reports counts for the others, not for itself
			n.heard.add(from, m)
		}
	}
	if from != lab.Client && to != lab.Client && s.opts.Drop > 0 && s.faults.Float64() < s.opts.Drop {
		s.trace.event(Event{Kind: EventDrop, From: from, To: to, Msg: m})
		return
	}
	s.push(from, to, m, data)
	s.trace.send(from, to, m, forged, data)
	if s.opts.Duplicate > 0 && s.faults.Float64() < s.opts.Duplicate {
		s.push(from, to, m, data)
		s.trace.duplicate(from, to)
	}
}

// push puts data on the link from → to, or keeps it back when a hold
// selects it.
func (s *Cluster) push(from, to lab.ID, m lab.Message, data []byte) {
	for _, f := range s.holds {
		if f.Match(from, to, m) {
			s.held = append(s.held, netHeld{from: from, to: to, m: m, data: data})
			return
		}
	}
	s.net.push(from, to, data)
}

// fail records the first error that ends the run.
func (s *Cluster) fail(err error) {
	if s.err == nil {
		s.err = err
		s.trace.note("RUN STOPPED: %v", err)
	}
}

// node is one replica and what the simulator knows about it.
type node struct {
	sim     *Cluster
	id      lab.ID
	honest  bool
	replica lab.Replica
	bank    *lab.Bank
	// given is a copy of the Bank value handed to the replica: the same
	// state, which the simulator's checks read, so that even within a
	// call they see the state the replica was given, not what it may
	// have put in its place; and which tells whether it did (Same).
	given       *lab.Bank
	crashed     bool
	failure     error
	lastPP      *lab.PrePrepare
	checkpoints []CheckpointReport
	// seen is the pre-prepare of the highest view delivered for each
	// sequence number, directly or in a NEW-VIEW (see PrePrepareAt).
	seen map[int]*lab.PrePrepare
	// viewChanges is the last VIEW-CHANGE received or sent, by view and
	// the replica it names (see ViewChangeFrom).
	viewChanges map[int]map[lab.ID]lab.ViewChange
	// newViews is the sender of the first NEW-VIEW for each view that
	// reached the replica or that it sent (see ViewChangeStory).
	newViews map[int]lab.ID
	// stateAsks holds the nonces of the last STATE-REQUESTs each replica
	// sent this one: what a state reply of its may answer.
	stateAsks map[lab.ID][]int
	// sent counts what the replica's code sent, by kind (see Sent).
	sent map[lab.Kind]int
	// lie, when set, rewrites or drops what a Byzantine replica sends.
	lie func(to lab.ID, m lab.Message) lab.Message
	// heard is what the replica heard and said that decides a sequence
	// number (see observe).
	heard evidence
	// logCall is the watched call whose Logf lines logged counts.
	logCall uint64
	logged  int
	// executed is the digest the replica's bank executed at each sequence
	// number, the null digest for an abort (see checkReply).
	executed map[int]string
	// typing is the command being carried out, 0 outside Do, and
	// typedVote its yes or no.
	typing    lab.Op
	typedVote bool
}

// checkSend says what is wrong with a message an honest replica sends to
// to: one in another replica's name, a commit ack without a prepared
// certificate, or a state reply that does not tell the replica's own state
// or that no one asked for.
func (n *node) checkSend(to lab.ID, m lab.Message) error {
	s := n.sim
	if id, ok := namedSender(m); ok && id != n.id {
		return fmt.Errorf("%s sent a %s in %s's name: a replica's messages carry its own ID (Replica: %s), as the others check that a message comes from the replica it names", n.id, lab.KindOf(m), id, n.id)
	}
	switch m := m.(type) {
	case *lab.PrePrepare:
		if p := lab.Primary(m.View, s.opts.N); p != n.id {
			return fmt.Errorf("%s sent a PRE-PREPARE for n%d in view %d, whose primary is %s: only the primary of a view orders requests", n.id, m.Seq, m.View, p)
		}
		if !n.heard.inView(m.View, s.opts.N) {
			return fmt.Errorf("%s sent a PRE-PREPARE for n%d in view %d, which it has no grounds to be in: it sent no NEW-VIEW for it, and no f+1 state replies name it", n.id, m.Seq, m.View)
		}
		for _, q := range requestsOf(m) {
			if !s.knownRequest(q) {
				return fmt.Errorf("%s ordered a request at n%d (%s) that no client sent: a primary orders clients' requests, or an operation typed at its console", n.id, m.Seq, s.requestName(q))
			}
		}
	case *lab.NewView:
		if vcs := n.viewChangesFor(m.View); count(vcs) < lab.Quorum(s.opts.N) {
			return fmt.Errorf("%s sent a NEW-VIEW for view %d on VIEW-CHANGEs from %s: a new view starts on 2f+1 = %d of them, its own included", n.id, m.View, idList(vcs), lab.Quorum(s.opts.N))
		}
		if a, b, ok := outOfOrder(len(m.ViewChanges), func(i int) lab.ID { return m.ViewChanges[i].Replica }); !ok {
			return fmt.Errorf("%s sent a NEW-VIEW for view %d whose VIEW-CHANGEs are not in replica order (%s before %s): list them by replica, once each, so that every run of a seed sends the same message", n.id, m.View, a, b)
		}
	case *lab.ViewChange:
		if a, b, ok := outOfOrder(len(m.Checkpoints), func(i int) lab.ID { return m.Checkpoints[i].Replica }); !ok {
			return fmt.Errorf("%s sent a VIEW-CHANGE for view %d whose stable checkpoint proof is not in replica order (%s before %s): stableProof lists the matching checkpoints by replica, once each, so that every run of a seed sends the same message", n.id, m.View, a, b)
		}
	case *lab.Prepare:
		if s.opts.Manual && n.typing != lab.OpPrepare {
			return fmt.Errorf("%s voted %s on n%d without being told to: with typed votes, a replica votes only on \"prepare yes|no\"", n.id, yesNoWord(m.Yes, "yes", "no"), m.Seq)
		}
		if s.opts.Manual && m.Yes != n.typedVote {
			return fmt.Errorf("%s was told \"prepare %s\" and voted %s on n%d", n.id, yesNoWord(n.typedVote, "yes", "no"), yesNoWord(m.Yes, "yes", "no"), m.Seq)
		}
	case *lab.Commit:
		if s.opts.Manual && n.typing != lab.OpAck {
			return fmt.Errorf("%s acked %s on n%d without being told to: with typed votes, a replica acks only on \"ack commit|abort\"", n.id, yesNoWord(m.Yes, "commit", "abort"), m.Seq)
		}
		if s.opts.Manual && m.Yes != n.typedVote {
			return fmt.Errorf("%s was told \"ack %s\" and acked %s on n%d", n.id, yesNoWord(n.typedVote, "commit", "abort"), yesNoWord(m.Yes, "commit", "abort"), m.Seq)
		}
		if m.Yes {
			return n.heard.checkAck(n.id, s.opts.N, m, s.digestName)
		}
	case *lab.Request:
		if !s.knownRequest(m) {
			return fmt.Errorf("%s sent a REQUEST (%s) that no client sent: a replica forwards clients' requests, it never makes one up", n.id, s.requestName(m))
		}
	case *lab.StateReply:
		if !slices.Contains(n.stateAsks[to], m.Nonce) {
			return fmt.Errorf("%s sent %s a STATE-REPLY (nonce %d) it did not ask for: a state reply answers a STATE-REQUEST, to the replica that sent it, with its nonce", n.id, to, m.Nonce)
		}
		if !n.heard.inView(m.View, s.opts.N) {
			return fmt.Errorf("%s sent a STATE-REPLY in view %d, which it has no grounds to be in: it saw no NEW-VIEW for it, and no f+1 state replies name it", n.id, m.View)
		}
		return n.checkStateReply(m)
	}
	return nil
}

// outOfOrder finds the first of k replicas, the i-th named by id(i), that
// does not come after the one before it. A list built in a map's order
// would make each run of a seed send other bytes, and a replay show
// another run than the one that failed.
func outOfOrder(k int, id func(int) lab.ID) (before, after lab.ID, ok bool) {
	for i := 1; i < k; i++ {
		if id(i-1) >= id(i) {
			return id(i - 1), id(i), false
		}
	}
	return 0, 0, true
}

// knownRequest reports whether q is one the client sent (or a scripted
// Byzantine primary was given), or carries an operation typed at a
// replica's console, whose client and number the replica chooses.
func (s *Cluster) knownRequest(q *lab.Request) bool {
	if q.Client == ClientName && q.Timestamp >= 1 && q.Timestamp <= int64(len(s.client.requests)) {
		return s.client.requests[q.Timestamp-1].req == *q
	}
	return s.typedOps[q.Op]
}

// requestName names a request in a message: its client, number and
// operation, cut to a line's worth.
func (s *Cluster) requestName(q *lab.Request) string {
	return clip(fmt.Sprintf("%s's request %d: %s", q.Client, q.Timestamp, q.Op))
}

// requestsOf lists the requests a pre-prepare orders: none for the null
// request, one, or a batch.
func requestsOf(pp *lab.PrePrepare) []*lab.Request {
	var out []*lab.Request
	if pp.Request != nil {
		out = append(out, pp.Request)
	}
	for i := range pp.Batch {
		out = append(out, &pp.Batch[i])
	}
	return out
}

// namedSender is the replica a message says it comes from, for the kinds
// that say so.
func namedSender(m lab.Message) (lab.ID, bool) {
	switch m := m.(type) {
	case *lab.Prepare:
		return m.Replica, true
	case *lab.Commit:
		return m.Replica, true
	case *lab.Checkpoint:
		return m.Replica, true
	case *lab.ViewChange:
		return m.Replica, true
	case *lab.StateRequest:
		return m.Replica, true
	case *lab.StateReply:
		return m.Replica, true
	}
	return 0, false
}

// maxStateAsks bounds the nonces kept of each replica's STATE-REQUESTs: a
// reply answers a recent one, and a Byzantine replica that asks without
// end costs no more than that.
const maxStateAsks = 16

// asked records a STATE-REQUEST that n received from its sender.
func (n *node) asked(from lab.ID, q *lab.StateRequest) {
	if q.Replica != from {
		return
	}
	if n.stateAsks == nil {
		n.stateAsks = map[lab.ID][]int{}
	}
	asks := n.stateAsks[from]
	if len(asks) == maxStateAsks {
		asks = append(asks[:0], asks[1:]...)
	}
	n.stateAsks[from] = append(asks, q.Nonce)
}

// checkTypedVote: a replica that takes a typed vote casts it. One that
// accepts "prepare no" and sends nothing leaves the others to decide
// without its vote, which the person at the console did not mean.
func (s *Cluster) checkTypedVote(n *node, c lab.Command, before int) {
	if c.Op != lab.OpPrepare && c.Op != lab.OpAck {
		return
	}
	if n.sent[lab.KindPrepare]+n.sent[lab.KindCommit] == before {
		s.fail(fmt.Errorf("%s took %q and sent no vote: a typed vote goes to the other replicas (or the command is refused, when there is nothing to vote on)", n.id, c.String()))
	}
}

func yesNoWord(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// viewChangesFor is the set of replicas whose VIEW-CHANGE for view v the
// replica received or sent.
func (n *node) viewChangesFor(v int) uint64 {
	var set uint64
	for id := range n.viewChanges[v] {
		if id >= 0 && id < 64 {
			set |= 1 << uint(id)
		}
	}
	return set
}

// checkStateReply: a state reply vouches for the sender's state, so an
// honest replica's carries a checkpoint it took (or the initial state)
// and, above it, what its bank ran at each number. A reply that reports
// what the sender decided but has not run would hand the others their f+1
// reports without any of them executing.
func (n *node) checkStateReply(r *lab.StateReply) error {
	s := n.sim
	cp := r.Checkpoint
	took := cp.Seq == 0 && cp.Digest == lab.NewBank(s.opts.Balances, nil).Digest()
	for _, c := range n.checkpoints {
		if c.Snapshot.Seq == cp.Seq && c.Snapshot.Digest == cp.Digest {
			took = true
			break
		}
	}
	if !took {
		return fmt.Errorf("%s sent a STATE-REPLY with a checkpoint at n%d (digest %s) it never reported taking (env.Checkpointed): a state reply carries the replica's own stable checkpoint", n.id, cp.Seq, cp.Digest)
	}
	for _, pp := range r.Committed {
		if pp.Seq > n.given.LastExecuted() {
			return fmt.Errorf("%s sent a STATE-REPLY reporting n%d executed, but its bank has run only up to n%d: a state reply reports what the replica executed", n.id, pp.Seq, n.given.LastExecuted())
		}
		want := lab.NullDigest
		if pp.Digest != lab.NullDigest {
			want = pp.ContentDigest()
		}
		if d, ok := n.executed[pp.Seq]; ok && d != want {
			return fmt.Errorf("%s sent a STATE-REPLY reporting %s at n%d, where its bank ran %s", n.id, s.digestName(want), pp.Seq, s.digestName(d))
		}
	}
	return nil
}

// checkRestore: an honest replica restores a snapshot only when another
// honest replica took a checkpoint of that very state (the f+1 matching
// state replies the protocol asks for include one honest replica). A
// replica may not work out a state by itself and install it.
func (s *Cluster) checkRestore(n *node, seq int, digest string) error {
	if k := n.heard.vouchers(seq); k < lab.Weak(s.opts.N) {
		return fmt.Errorf("%s restored a snapshot at n%d on the state replies of %d replica(s) that reach it: a replica adopts a state that f+1 = %d replies agree on, as one of them may lie", n.id, seq, k, lab.Weak(s.opts.N))
	}
	for _, id := range s.ckpt.taken[takenKey{seq, digest}] {
		if id != n.id && s.nodes[id].honest {
			return nil
		}
	}
	return fmt.Errorf("%s restored a snapshot at n%d (digest %s) that no other honest replica took as a checkpoint: a replica restores only a checkpoint f+1 replicas vouch for in their state replies", n.id, seq, digest)
}

// checkReply says what is wrong with a reply an honest replica sends: a
// reply tells the client how its request ended, so it comes once the
// replica's bank has executed or aborted the request, and says committed
// only of a request the bank executed at that sequence number.
func (n *node) checkReply(r lab.Reply) error {
	if !n.given.Executed(r.Client, r.Timestamp) {
		return fmt.Errorf("%s replied to %s's request %d (n%d, %s) before executing or aborting it: a reply tells how a request ended, so it goes once the bank has run the request (bank.Execute or bank.Abort)",
			n.id, r.Client, r.Timestamp, r.Seq, yesNoWord(r.Committed, "committed", "aborted"))
	}
	if _, ok := n.executed[r.Seq]; !ok && r.Seq > n.heard.pruned && r.Seq > n.given.LastExecuted() {
		return fmt.Errorf("%s replied to %s's request %d for n%d, which its bank has not reached (it ran up to n%d)", n.id, r.Client, r.Timestamp, r.Seq, n.given.LastExecuted())
	}
	if bank := n.ranOtherwise(r.Seq, r.Committed); bank != "" {
		return fmt.Errorf("%s replied %s to %s's request %d at n%d, where its bank %s", n.id, yesNoWord(r.Committed, "committed", "aborted"), r.Client, r.Timestamp, r.Seq, bank)
	}
	return nil
}

// ranOtherwise says what n's bank did at seq when the replica says it
// committed (or aborted) there and the bank did the other, "" when they
// agree or the bank's record of seq is gone (below a stable checkpoint).
func (n *node) ranOtherwise(seq int, committed bool) string {
	d, ok := n.executed[seq]
	switch {
	case !ok:
	case committed && d == lab.NullDigest:
		return "recorded an abort (or the null request)"
	case !committed && d != lab.NullDigest:
		return "executed a request"
	}
	return ""
}

// CheckpointReport is one checkpoint a replica reported through its Env.
type CheckpointReport struct {
	Snapshot lab.Snapshot
	Stable   bool
	Time     int
}

func (n *node) live() bool { return !n.crashed && n.failure == nil }

// PanicError is a panic raised by replica code.
type PanicError struct {
	Replica lab.ID
	Call    string
	Value   string // the panic's value as fmt prints it
	Stack   string
}

func (e *PanicError) Error() string {
	msg := fmt.Sprintf("%s panicked in %s: %v", e.Replica, e.Call, e.Value)
	if f, ok := e.Where(); ok {
		msg += fmt.Sprintf(" (at %s, in %s)", f.Where(), f.Short())
	}
	return msg
}

// Where is the innermost frame of the replica's own code in the panic's
// stack: the line a person looks at first, which the runtime's and the
// standard library's frames above it hide.
func (e *PanicError) Where() (Frame, bool) {
	for _, f := range ParseStack(e.Stack).Frames {
		if p := f.pkg(); strings.HasPrefix(p, "pbftlab/") && !kit(p) {
			return f, true
		}
	}
	return Frame{}, false
}

// call runs replica code, turning a panic into the replica's failure.
func (n *node) call(what string, f func()) {
	defer n.catch(what, nil)
	n.sim.watch.begin(n.id, what)
	f()
}

// receive hands m to the replica; it is call for the hot path, naming the
// call only if it panics.
func (n *node) receive(from lab.ID, m lab.Message) {
	defer n.catch("", m)
	n.sim.watch.beginReceive(n.id, from, m)
	n.replica.Receive(from, m)
}

func (n *node) catch(what string, m lab.Message) {
	v := recover()
	u, unwound := v.(unwind)
	var value string
	if v != nil && !unwound {
		// A panic's value may be the replica's, with a String or Error
		// method of its own: it is formatted while the call is watched.
		value = clipValue(fmt.Sprint(v))
	}
	n.sim.watch.end()
	if n.overwroteBank() {
		return
	}
	switch {
	case unwound:
		n.fail(u.err, nil)
	case v != nil:
		if m != nil {
			what = "Receive(" + lab.KindOf(m).String() + ")"
		}
		n.fail(&PanicError{Replica: n.id, Call: what, Value: value, Stack: string(debug.Stack())}, nil)
	}
}

// overwroteBank fails a replica that has overwritten the Bank it was
// given with another bank's state, and says whether it did: what it
// executes would no longer reach the safety checks.
func (n *node) overwroteBank() bool {
	if n.bank.Same(n.given) || n.failure != nil {
		return false
	}
	n.fail(fmt.Errorf("%s overwrote the bank it was given (*cfg.Bank = ...): a replica executes on that bank, through Execute, Abort and Restore, and keeps it", n.id), nil)
	return true
}

// maxValueText bounds the text of a value a replica hands the kit, a
// panic's or an error's: every report of every spec carries it, and a
// few kilobytes say all a person reads.
const maxValueText = 4 << 10

// clipValue cuts s to maxValueText bytes (see cut), on one line.
func clipValue(s string) string { return oneLine.Replace(cut(s, maxValueText)) }

func (n *node) fail(err error, _ []byte) {
	if n.failure == nil {
		n.failure = err
		n.sim.fail(err)
	}
}

// observe is the bank's report of an execution: the safety checks.
func (n *node) observe(e lab.Execution) {
	s := n.sim
	if e.Err != nil {
		if n.honest {
			s.fail(fmt.Errorf("%s tried to execute n%d after n%d: the bank refused it, as requests run in sequence order, each once", n.id, e.Seq, n.given.LastExecuted()))
		}
		return
	}
	if !n.honest {
		return
	}
	if e.Restored {
		if err := s.checkRestore(n, e.Seq, e.Digest); err != nil {
			s.fail(err)
		}
		return
	}
	if err := n.heard.check(n.id, s.opts.N, e.Seq, e.Digest, s.digestName); err != nil {
		s.fail(err)
		return
	}
	if n.executed == nil {
		n.executed = map[int]string{}
	}
	n.executed[e.Seq] = e.Digest
	d, ok := s.decided[e.Seq]
	if !ok {
		s.decided[e.Seq] = decision{replica: n.id, digest: e.Digest}
		return
	}
	if d.digest != e.Digest {
		s.fail(fmt.Errorf("safety violated at seq %d: %s executed %s but %s executed %s", e.Seq, d.replica, s.digestName(d.digest), n.id, s.digestName(e.Digest)))
	}
}

// digestName names what a digest stands for: the client's request N, with
// its operation, when the client sent one with that digest.
func (s *Cluster) digestName(d string) string {
	if d == lab.NullDigest {
		return "nothing (null or aborted)"
	}
	for i, r := range s.client.requests {
		if lab.Digest(&r.req) == d {
			return fmt.Sprintf("request %d (%s)", i+1, r.req.Op)
		}
	}
	return "request " + d
}

// The Env a replica sees.

func (n *node) Send(to lab.ID, m lab.Message) {
	n.sim.watch.poll()
	if !n.live() {
		return
	}
	if to == lab.Client {
		// Send is for replicas. A reply goes through Reply, which checks
		// that the bank ran what it reports, as the TCP runtime drops it.
		n.sim.trace.note("%s sent %s to the client with Send; dropped (a reply goes through env.Reply)", n.id, lab.KindOf(m))
		return
	}
	if n.lie != nil {
		if m = n.lied(to, m); m == nil {
			return
		}
		n.sim.send(n.id, to, m, false)
		return
	}
	data, c := n.sim.sent(m)
	n.sim.sendEncoded(n.id, to, c, data, false)
}

// sent is what the simulator keeps of a message a replica sends: its
// encoding, which the receivers get, and a copy for the trace, the checks
// and the scripted adversary. The replica's own value is its to change
// once sent; what it sent is not. A vote or checkpoint is read when it is
// sent and, with the trace quiet and nothing held, kept nowhere: it goes
// without a copy.
func (s *Cluster) sent(m lab.Message) ([]byte, lab.Message) {
	data := wire.Encode(m)
	switch m.(type) {
	case *lab.Prepare, *lab.Commit, *lab.Checkpoint:
		if s.trace.quiet && len(s.holds) == 0 {
			return data, m // read at once and never kept: no copy needed
		}
	}
	return data, clone(m, data)
}

// clone copies m, whose encoding is data: the busiest kinds by value,
// since they hold no pointers but a request's, whose fields are strings
// that nothing changes; the others by decoding data.
func clone(m lab.Message, data []byte) lab.Message {
	switch m := m.(type) {
	case *lab.Prepare:
		c := *m
		return &c
	case *lab.Commit:
		c := *m
		return &c
	case *lab.Checkpoint:
		c := *m
		return &c
	case *lab.PrePrepare:
		c := *m
		if m.Request != nil {
			r := *m.Request
			c.Request = &r
		}
		c.Batch = slices.Clone(m.Batch)
		return &c
	}
	c, err := wire.Decode(data)
	if err != nil {
		return m // the delivery will fail on it, and say why
	}
	return c
}

// lied passes a copy of m through the replica's lie, so that the lie
// cannot change what the replica keeps or sends to the others.
func (n *node) lied(to lab.ID, m lab.Message) lab.Message {
	c, err := wire.Decode(wire.Encode(m))
	if err != nil {
		return m
	}
	return n.lie(to, c)
}

func (n *node) Broadcast(m lab.Message) {
	n.sim.watch.poll()
	if !n.live() {
		return
	}
	if n.lie != nil {
		for i := range n.sim.opts.N {
			if lab.ID(i) != n.id {
				n.Send(lab.ID(i), m)
			}
		}
		return
	}
	data, c := n.sim.sent(m) // data read-only from here on, so the receivers may share it
	for i := range n.sim.opts.N {
		if lab.ID(i) != n.id {
			n.sim.sendEncoded(n.id, lab.ID(i), c, data, false)
		}
	}
}

func (n *node) Reply(r lab.Reply) {
	n.sim.watch.poll()
	if !n.live() {
		return
	}
	if n.honest {
		if err := n.checkReply(r); err != nil {
			n.sim.fail(err)
			return
		}
	}
	var m lab.Message = &r
	if n.lie != nil {
		if m = n.lied(lab.Client, m); m == nil {
			return
		}
	}
	n.sim.send(n.id, lab.Client, m, false)
}

// Tracing tells the replica whether its Logf lines are kept (lab.Tracing).
func (n *node) Tracing() bool { return !n.sim.trace.quiet }

func (n *node) Logf(format string, args ...any) {
	n.sim.watch.poll()
	if n.sim.trace.quiet {
		return
	}
	if call := n.sim.watch.calls.Load(); call != n.logCall {
		n.logCall, n.logged = call, 0
	}
	n.logged++
	switch {
	case n.logged == maxLogsPerCall+1:
		n.sim.trace.log(n.id, fmt.Sprintf("... and more lines in this call, left out: a call keeps its first %d", maxLogsPerCall))
	case n.logged <= maxLogsPerCall:
		n.sim.trace.log(n.id, oneLine.Replace(clip(fmt.Sprintf(format, args...))))
	}
}

// oneLine keeps a Logf line one line in the transcript: a line break in
// it would start a line without the replica's name, which a CI log may
// read as a command of its own ("::error::...").
var oneLine = strings.NewReplacer("\n", `\n`, "\r", `\r`)

// maxLogLine bounds one Logf line in the trace: with maxLogsPerCall, what
// one call can leave there is bounded too.
const maxLogLine = 2048

// clip cuts line to maxLogLine bytes (see cut).
func clip(line string) string { return cut(line, maxLogLine) }

// cut keeps the first n bytes of s, at a character's start, saying how
// much it left out.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return fmt.Sprintf("%s... (%d more bytes left out)", s[:n], len(s)-n)
}

// maxLogsPerCall bounds the Logf lines one call into a replica leaves in
// the trace. A loop that logs as it goes around would otherwise fill the
// memory with a million lines a second until the watchdog stops it; a
// correct replica logs a few lines a call.
const maxLogsPerCall = 1000

func (n *node) Checkpointed(snap lab.Snapshot, stable bool) {
	n.sim.watch.poll()
	if n.live() {
		n.sim.checkpointed(n, snap, stable)
	}
}
