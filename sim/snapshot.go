package sim

import (
	"fmt"
	"maps"
	"slices"

	"pbftlab/lab"
)

// Bounds on the states a trace records, so that a long run (case 7 delivers
// tens of thousands of messages) or a replica whose log never shrinks costs
// the graded run little time and memory. The step-through that reads them
// is for following a run message by message, which nobody does for more
// than a few hundred messages.
const (
	// MaxSnapshots is how many deliveries, from the first, the trace
	// records the replicas' states after.
	MaxSnapshots = 300
	// MaxSnapshotEntries is how many log entries of one replica a state
	// keeps: the last ones of its Status, where the run is.
	MaxSnapshotEntries = 64
)

// Snapshot is the cluster as it stood right after one delivery: what each
// replica's Status said then. The report's step-through is drawn from
// them. A replica whose state did not change since the previous snapshot
// shares the previous one's *ReplicaState, so a run where each delivery
// changes one replica costs one state per delivery, and a reader can tell
// which replicas a delivery changed by comparing pointers.
type Snapshot struct {
	Event    int             // the index in the trace of the delivery (or loss) it follows
	Replicas []*ReplicaState // by replica ID
}

// ReplicaState is one replica's Status, copied (a replica may hand out its
// own slices and change them later) and cut down to what a step-through
// shows.
type ReplicaState struct {
	View         int
	Primary      lab.ID
	ViewChanging bool
	Crashed      bool
	// Failure says why the state could not be read: the replica failed
	// earlier in the run, or its Status panicked. The rest is then empty.
	Failure      string
	LastExecuted int
	StableSeq    int
	Low, High    int
	Log          []EntryState
	// Omitted counts the entries at the head of the log (the lowest
	// sequence numbers, in a log kept in order) left out past
	// MaxSnapshotEntries.
	Omitted  int
	Balances map[string]int // the kit's bank, not the replica's word
}

// EntryState is one log entry as a step-through shows it.
type EntryState struct {
	Seq, View int
	Phase     lab.Phase
	// Request is the ordered request as "client#1 op", "null" for a null
	// request, with "(+k more)" for a batch.
	Request               string
	PrepareYes, PrepareNo []lab.ID
	CommitYes, CommitNo   []lab.ID
	Executed              bool
}

// Snapshots returns the states recorded after each delivery, in order. It
// is empty when the trace is quiet.
func (t *Trace) Snapshots() []Snapshot { return t.snapshots }

// snapshot records every replica's state after the delivery just made, if
// the trace keeps them and has room. The simulator calls it after each
// delivery only when the trace is not quiet, so a benchmark pays nothing.
//
// A replica changes only when the simulator calls it. Within one settle
// that is the receiver of each delivery, so only the receiver's Status is
// read again; the first delivery of a settle (first true) reads every
// replica's, since commands, ticks, crashes and recoveries came before it.
func (s *Cluster) snapshot(first bool) {
	t := &s.trace
	if len(t.snapshots) >= MaxSnapshots {
		return
	}
	event := lastDelivery(t.events)
	if event < 0 || (len(t.snapshots) > 0 && t.snapshots[len(t.snapshots)-1].Event == event) {
		return // nothing was delivered (the message did not decode)
	}
	var prev []*ReplicaState
	if len(t.snapshots) > 0 {
		prev = t.snapshots[len(t.snapshots)-1].Replicas
	}
	to := t.events[event].To
	snap := Snapshot{Event: event, Replicas: make([]*ReplicaState, len(s.nodes))}
	for i, n := range s.nodes {
		if prev != nil && !first && n.id != to {
			snap.Replicas[i] = prev[i]
			continue
		}
		st := n.state()
		if prev != nil && prev[i].equal(st) {
			st = prev[i]
		}
		snap.Replicas[i] = st
	}
	t.snapshots = append(t.snapshots, snap)
}

// lastDelivery finds the latest delivery or loss among the events: the one
// just made, followed by whatever its receiver sent and logged.
func lastDelivery(events []Event) int {
	for i := len(events) - 1; i >= 0; i-- {
		if k := events[i].Kind; k == EventDeliver || k == EventLost {
			return i
		}
	}
	return -1
}

// state reads the replica's Status without making the run depend on it: a
// Status that panics is written into the state, and the replica goes on
// as if nobody had asked, because whether a run is traced must not change
// its outcome.
func (n *node) state() *ReplicaState {
	out := &ReplicaState{Crashed: n.crashed, Balances: n.given.Balances()}
	if n.failure != nil {
		out.Failure = n.failure.Error()
		return out
	}
	st, err := n.status()
	if err != nil {
		out.Failure = err.Error()
		return out
	}
	out.View, out.Primary, out.ViewChanging = st.View, st.Primary, st.ViewChanging
	out.LastExecuted, out.StableSeq, out.Low, out.High = st.LastExecuted, st.StableSeq, st.Low, st.High
	log := st.Log
	if len(log) > MaxSnapshotEntries {
		out.Omitted = len(log) - MaxSnapshotEntries
		log = log[out.Omitted:]
	}
	out.Log = make([]EntryState, len(log))
	for i, e := range log {
		out.Log[i] = EntryState{
			Seq: e.Seq, View: e.View, Phase: e.Phase, Request: requestText(e),
			PrepareYes: slices.Clone(e.PrepareYes), PrepareNo: slices.Clone(e.PrepareNo),
			CommitYes: slices.Clone(e.CommitYes), CommitNo: slices.Clone(e.CommitNo),
			Executed: e.Executed,
		}
	}
	return out
}

// status calls Status, turning a panic into an error. The call is watched
// like every other: a Status that never returns (one that loops only when
// it is asked for the trace, say) is the replica's stuck call, found within
// the call limit, not a spec that runs to its own.
func (n *node) status() (st lab.Status, err error) {
	defer func() {
		v := recover()
		var value string
		if _, unwound := v.(unwind); v != nil && !unwound {
			value = clipValue(fmt.Sprint(v)) // formatted while watched
		}
		n.sim.watch.end()
		if n.overwroteBank() {
			err = n.failure
			return
		}
		switch v := v.(type) {
		case nil:
		case unwind:
			n.fail(v.err, nil)
			err = v.err
		default:
			err = fmt.Errorf("%s panicked in Status: %s", n.id, value)
		}
	}()
	n.sim.watch.begin(n.id, "Status")
	return n.replica.Status(), nil
}

func requestText(e lab.Entry) string {
	if e.Request == nil {
		return "null"
	}
	s := fmt.Sprintf("%s#%d %s", e.Request.Client, e.Request.Timestamp, e.Request.Op)
	if len(e.Batch) > 0 {
		s += fmt.Sprintf(" (+%d more)", len(e.Batch))
	}
	return s
}

func (a *ReplicaState) equal(b *ReplicaState) bool {
	return a.View == b.View && a.Primary == b.Primary && a.ViewChanging == b.ViewChanging &&
		a.Crashed == b.Crashed && a.Failure == b.Failure && a.LastExecuted == b.LastExecuted &&
		a.StableSeq == b.StableSeq && a.Low == b.Low && a.High == b.High && a.Omitted == b.Omitted &&
		maps.Equal(a.Balances, b.Balances) && slices.EqualFunc(a.Log, b.Log, EntryState.equal)
}

func (a EntryState) equal(b EntryState) bool {
	return a.Seq == b.Seq && a.View == b.View && a.Phase == b.Phase && a.Request == b.Request &&
		a.Executed == b.Executed && slices.Equal(a.PrepareYes, b.PrepareYes) && slices.Equal(a.PrepareNo, b.PrepareNo) &&
		slices.Equal(a.CommitYes, b.CommitYes) && slices.Equal(a.CommitNo, b.CommitNo)
}
