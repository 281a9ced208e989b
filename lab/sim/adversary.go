package sim

import (
	"errors"
	"fmt"
	"slices"

	"pbftlab/lab"
)

// The adversaries below play a Byzantine replica in ways the case language
// cannot script: a message made by hand, a replica that lies in what it
// sends, and twins, two honest copies of one replica that each talk to a
// different part of the cluster. Each runs only under an identity the
// options list as Byzantine, so the safety checks still hold every other
// replica to the rules.

// Inject sends m to replica to as Byzantine replica from sent it, whatever
// from's own code would do: a forged vote, a replayed message from an
// earlier view, a message naming another replica as its sender. The
// network treats it like any other message (it may duplicate it) and the
// trace marks it as forged; the network then settles.
func (s *Sim) Inject(from, to lab.ID, m lab.Message) error {
	if int(from) < 0 || int(from) >= s.opts.N || !slices.Contains(s.opts.Byzantine, from) {
		return fmt.Errorf("%s is not a Byzantine replica of this cluster: only a Byzantine replica sends what its code did not", from)
	}
	s.send(from, to, m, true)
	s.Settle()
	return nil
}

// Liar wraps newReplica so that everything replica id sends first goes
// through lie, which returns the message to send in its place, or nil to
// send nothing. The replica's own code runs unchanged; only what leaves it
// is altered, as a Byzantine replica that reports a wrong checkpoint digest
// would. A broadcast becomes one send per replica, so lie may treat
// receivers differently. List id as Byzantine in the options.
func Liar(newReplica lab.New, id lab.ID, lie func(to lab.ID, m lab.Message) lab.Message) lab.New {
	return func(cfg lab.Config, env lab.Env) lab.Replica {
		if cfg.ID != id {
			return newReplica(cfg, env)
		}
		pass := func(to lab.ID, m lab.Message) lab.Message {
			// lie gets its own copy, so that changing it cannot change what
			// the replica keeps or sends to the others.
			c, err := lab.Decode(lab.Encode(m))
			if err != nil {
				return m
			}
			return lie(to, c)
		}
		return newReplica(cfg, &filterEnv{Env: env, n: cfg.N, self: id, pass: pass})
	}
}

// Twins is a Byzantine replica made of two honest copies of the tree's
// own replica under one identity (the Twins method): copy 0 talks to some
// replicas, copy 1 to the others, and each hears only from the replicas it
// talks to. Both act correctly on what they see, so the backups in the two
// parts may see different pre-prepares for one sequence number, votes that
// contradict each other and so on, without the tree being asked to behave
// badly. The client's requests reach both copies.
type Twins struct {
	id     lab.ID
	parts  [2][]lab.ID // the replicas each copy talks to
	copies [2]lab.Replica
	use    int          // the copy that gets commands and answers Status
	both   *lab.Command // copy 1's half of a command for both, see DoBoth
}

// NewTwins returns the constructor to build the cluster with, which makes
// replica id a pair of twins: copy i sends only to the replicas in
// parts[i] and hears only from them. A replica in both parts talks to
// both copies; one in neither never hears from id. Both copies answer the
// client. List id as Byzantine in the options. Copy 0 keeps the
// simulator's bank, so the replica's state as the simulator reports it is
// copy 0's; copy 1 has a bank of its own with the same starting state, and
// its checkpoint reports go nowhere.
func NewTwins(newReplica lab.New, id lab.ID, parts [2][]lab.ID) (lab.New, *Twins) {
	t := &Twins{id: id, parts: [2][]lab.ID{slices.Clone(parts[0]), slices.Clone(parts[1])}}
	return func(cfg lab.Config, env lab.Env) lab.Replica {
		if cfg.ID != id {
			return newReplica(cfg, env)
		}
		for i := range t.copies {
			pass := func(to lab.ID, m lab.Message) lab.Message {
				if to == lab.Client || slices.Contains(t.parts[i], to) {
					return m
				}
				return nil
			}
			c := cfg
			if i == 1 {
				c.Bank = lab.NewBank(cfg.Bank.Balances(), nil)
			}
			t.copies[i] = newReplica(c, &filterEnv{Env: env, n: cfg.N, self: id, pass: pass, tag: fmt.Sprintf("twin %d", i), quiet: i == 1})
			if t.copies[i] == nil {
				return nil
			}
		}
		return t
	}, t
}

// Use makes copy i (0 or 1) the one that carries out commands and reports
// its status, until Use is called again.
func (t *Twins) Use(i int) { t.use = i }

// DoBoth makes the next command the twins get go to both copies at once:
// copy 0 carries it out as given, copy 1 carries out other instead. What
// they send then races through the network together, so which of two
// conflicting proposals a replica in both parts sees first is the seed's
// choice.
func (t *Twins) DoBoth(other lab.Command) { t.both = &other }

// Receive hands m to each copy that talks to its sender; a client request
// goes to both.
func (t *Twins) Receive(from lab.ID, m lab.Message) {
	for i, c := range t.copies {
		if from == lab.Client || slices.Contains(t.parts[i], from) {
			c.Receive(from, m)
		}
	}
}

// Tick advances both copies' clocks.
func (t *Twins) Tick() {
	t.copies[0].Tick()
	t.copies[1].Tick()
}

// Do hands the command to the copy in use, or to both after DoBoth.
func (t *Twins) Do(c lab.Command) error {
	if t.both != nil {
		other := *t.both
		t.both = nil
		return errors.Join(t.copies[0].Do(c), t.copies[1].Do(other))
	}
	return t.copies[t.use].Do(c)
}

// Status is the status of the copy in use.
func (t *Twins) Status() lab.Status { return t.copies[t.use].Status() }

// Copy returns copy i, for a scenario that inspects both.
func (t *Twins) Copy(i int) lab.Replica { return t.copies[i] }

// Delay holds back, on their way, the messages of some honest replicas
// that a rule selects, until Release: the network is slow on those links
// for as long as a scenario needs, across steps, where the scheduler only
// reorders what is in flight within one. The replicas are unchanged.
type Delay struct {
	envs map[lab.ID]lab.Env
	hold func(from, to lab.ID, m lab.Message) bool
	held []heldMessage
	on   bool
}

type heldMessage struct {
	from, to lab.ID
	m        lab.Message
}

// NewDelay returns the constructor to build the cluster with, and the
// Delay that controls it. While on, a message for which hold returns true
// is kept back; hold sees each receiver of a broadcast separately.
func NewDelay(newReplica lab.New, hold func(from, to lab.ID, m lab.Message) bool) (lab.New, *Delay) {
	d := &Delay{envs: map[lab.ID]lab.Env{}, hold: hold}
	return func(cfg lab.Config, env lab.Env) lab.Replica {
		d.envs[cfg.ID] = env
		id := cfg.ID
		pass := func(to lab.ID, m lab.Message) lab.Message {
			if d.on && d.hold(id, to, m) {
				// Encoded and decoded, as the network would, so that the
				// replica changing m later does not change what arrives.
				if c, err := lab.Decode(lab.Encode(m)); err == nil {
					m = c
				}
				d.held = append(d.held, heldMessage{id, to, m})
				return nil
			}
			return m
		}
		return newReplica(cfg, &filterEnv{Env: env, n: cfg.N, self: id, pass: pass})
	}, d
}

// Start begins holding messages back.
func (d *Delay) Start() { d.on = true }

// Held counts the messages held back so far and not released.
func (d *Delay) Held() int { return len(d.held) }

// Release stops holding messages back and puts every one held on the
// network, in the order they were sent; the caller lets the network
// settle. A message whose sender has crashed since is lost with it.
func (d *Delay) Release() {
	d.on = false
	held := d.held
	d.held = nil
	for _, h := range held {
		if h.to == lab.Client {
			if r, ok := h.m.(*lab.Reply); ok {
				d.envs[h.from].Reply(*r)
			}
			continue
		}
		d.envs[h.from].Send(h.to, h.m)
	}
}

// filterEnv passes what a replica sends through pass, one receiver at a
// time.
type filterEnv struct {
	lab.Env
	n     int
	self  lab.ID
	pass  func(to lab.ID, m lab.Message) lab.Message
	quiet bool   // drop checkpoint reports: a twin's second copy writes no files
	tag   string // put before each Logf line, to tell twins apart
}

func (e *filterEnv) Send(to lab.ID, m lab.Message) {
	if m = e.pass(to, m); m != nil {
		e.Env.Send(to, m)
	}
}

func (e *filterEnv) Broadcast(m lab.Message) {
	for i := range e.n {
		if to := lab.ID(i); to != e.self {
			e.Send(to, m)
		}
	}
}

func (e *filterEnv) Reply(r lab.Reply) {
	if m := e.pass(lab.Client, &r); m != nil {
		if rep, ok := m.(*lab.Reply); ok {
			e.Env.Reply(*rep)
		}
	}
}

func (e *filterEnv) Logf(format string, args ...any) {
	if e.tag == "" {
		e.Env.Logf(format, args...)
		return
	}
	e.Env.Logf("[%s] %s", e.tag, fmt.Sprintf(format, args...))
}

func (e *filterEnv) Checkpointed(s lab.Snapshot, stable bool) {
	if !e.quiet {
		e.Env.Checkpointed(s, stable)
	}
}
