package lab

import "fmt"

// Replica is the contract every tree implements. The kit calls a replica
// from one goroutine at a time, so a replica needs no locks; it must not
// start goroutines, read the clock or do I/O, so that the same inputs always
// give the same outputs.
type Replica interface {
	// Receive hands the replica a message. from is authenticated by the kit:
	// it is the replica that really sent m, or Client for a client request.
	Receive(from ID, m Message)
	// Tick advances the replica's clock by one unit; timers (the view-change
	// timeout) count ticks.
	Tick()
	// Do carries out a console or script command. It returns an error when
	// the command does not apply now (no request awaits a vote, say); the
	// error is shown to the person or the script, and the replica goes on.
	Do(c Command) error
	// Status reports what the replica knows, for consoles and for grading.
	Status() Status
}

// NewFunc builds a replica. Each tree exports one with this signature.
type NewFunc func(cfg Config, env Env) Replica

// Config is what a replica is told when it is built.
type Config struct {
	ID ID
	N  int // replicas in the cluster; f and the quorums follow from it
	// Manual makes the replica wait for typed votes ("prepare yes", "ack
	// commit", "progress") instead of voting by itself.
	Manual bool
	// Bank is the replica's own copy of the state machine.
	Bank *Bank
	// CheckpointInterval is K: a checkpoint is taken every K sequence numbers.
	CheckpointInterval int
	// Window is L: sequence numbers are accepted only in (h, h+L], where h is
	// the last stable checkpoint.
	Window int
	// ViewChangeTimeout is how many ticks a backup waits for a request it
	// knows of to execute before it asks for a view change (automatic votes
	// only). It doubles after each view change that fails to complete.
	ViewChangeTimeout int
	// BatchSize switches automatic votes from the lab's protocol to a
	// faster one, for clusters run for speed; the lab's cases leave it 0.
	// At 0 the primary orders one request per sequence number and a backup
	// votes on each only once every lower one has executed, on whether the
	// bank can apply it then. At B >= 1 the primary puts up to B requests in
	// one pre-prepare and keeps several sequence numbers in flight; backups
	// vote as pre-prepares arrive, on whether every request is well formed,
	// and the bank rejects at execution what it cannot apply (an overdraft).
	BatchSize int
}

// Defaults used when a Config field is zero.
const (
	DefaultCheckpointInterval = 100
	DefaultWindow             = 200
	DefaultViewChangeTimeout  = 20
)

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.CheckpointInterval <= 0 {
		c.CheckpointInterval = DefaultCheckpointInterval
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.ViewChangeTimeout <= 0 {
		c.ViewChangeTimeout = DefaultViewChangeTimeout
	}
	if c.Bank == nil {
		c.Bank = NewBank(nil, nil)
	}
	return c
}

// Env is the replica's only way out. The kit implements it differently in
// the simulator, over TCP and on stdin and stdout; a replica does the same
// whichever it is given, and the simulator checks every step it takes.
type Env interface {
	// Send sends m to one replica. Sending to yourself is not allowed: record
	// your own vote directly.
	Send(to ID, m Message)
	// Broadcast sends m to every other replica.
	Broadcast(m Message)
	// Reply sends r to the client it names.
	Reply(r Reply)
	// Logf records a line in the replica's trace: consoles print it, and a
	// failing spec shows it beside the transcript. See Tracing.
	Logf(format string, args ...any)
	// Checkpointed records that the replica took a checkpoint (stable false)
	// or saw one become stable. The runtime writes the lab's checkpoint files
	// from it.
	Checkpointed(s Snapshot, stable bool)
}

// Tracing reports whether env keeps the lines written with Logf. An Env
// that drops them (a benchmark's, or a node nobody watches) says so with a
// method Tracing() bool that returns false and never changes its answer;
// any other Env keeps them. A replica may skip formatting lines on its busy
// paths when nobody reads them: each argument given to Logf costs an
// allocation even when the line is dropped.
func Tracing(env Env) bool {
	if t, ok := env.(interface{ Tracing() bool }); ok {
		return t.Tracing()
	}
	return true
}

// Op names a command.
type Op int

const (
	// OpPropose: the primary orders the next pending request ("tx"), or the
	// operation in Command.Arg when one is given.
	OpPropose Op = iota + 1
	// OpPrepare: vote yes or no on the oldest request awaiting this
	// replica's prepare ("prepare yes").
	OpPrepare
	// OpAck: acknowledge commit or abort on the oldest prepared request
	// awaiting this replica's commit ("ack commit").
	OpAck
	// OpProgress: evaluate the votes that have arrived ("progress").
	OpProgress
	// OpViewChange: ask for the next view ("view change").
	OpViewChange
	// OpCheckpoint: take a checkpoint now ("checkpoint").
	OpCheckpoint
	// OpRecover: the replica is back after a crash and must catch up
	// ("recover"). The kit delivers nothing to a crashed replica; this is the
	// first call it gets on its return.
	OpRecover
)

var opNames = map[Op]string{
	OpPropose:    "tx",
	OpPrepare:    "prepare",
	OpAck:        "ack",
	OpProgress:   "progress",
	OpViewChange: "view change",
	OpCheckpoint: "checkpoint",
	OpRecover:    "recover",
}

func (o Op) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return fmt.Sprintf("op(%d)", int(o))
}

// Command is a console or script command for one replica.
type Command struct {
	Op   Op
	Vote bool   // true votes yes (OpPrepare) or acks commit (OpAck); false votes no or acks abort
	Arg  string // the operation for OpPropose, when typed at the primary
}

func (c Command) String() string {
	switch c.Op {
	case OpPrepare:
		return "prepare " + yesNo(c.Vote, "yes", "no")
	case OpAck:
		return "ack " + yesNo(c.Vote, "commit", "abort")
	case OpPropose:
		if c.Arg != "" {
			return "tx " + c.Arg
		}
	}
	return c.Op.String()
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// Phase is where an entry of the log stands.
type Phase int

const (
	PhasePrePrepared Phase = iota + 1 // accepted a pre-prepare; collecting prepares
	PhasePrepared                     // 2f+1 yes (the pre-prepare counts as the primary's); collecting commits
	PhaseCommitted                    // 2f+1 commit acks
	PhaseAborted                      // the request will not run at this sequence number
)

var phaseNames = map[Phase]string{
	PhasePrePrepared: "pre-prepared",
	PhasePrepared:    "prepared",
	PhaseCommitted:   "committed",
	PhaseAborted:     "aborted",
}

func (p Phase) String() string {
	if s, ok := phaseNames[p]; ok {
		return s
	}
	return fmt.Sprintf("phase(%d)", int(p))
}

// Entry is one sequence number in a replica's log, as Status reports it.
type Entry struct {
	View    int
	Seq     int
	Digest  string
	Request *Request  // nil for a null request
	Batch   []Request // the requests after Request in a batch, if any
	Phase   Phase
	// Votes by distinct sender. PrepareYes includes the primary, whose
	// pre-prepare is its yes, and the replica itself once it voted.
	PrepareYes, PrepareNo []ID
	CommitYes, CommitNo   []ID
	Executed              bool
}

// Outcome is a request's end at one replica, kept in its history.
type Outcome struct {
	View      int
	Seq       int
	Request   Request
	Committed bool
	Result    string
}

// Status is a replica's report on itself.
type Status struct {
	ID           ID
	View         int
	Primary      ID
	ViewChanging bool // asked for a view that has not started yet
	Log          []Entry
	History      []Outcome // requests decided, in sequence order
	LastExecuted int
	// Checkpoints: the last stable one and the watermarks it sets, h and H.
	StableSeq    int
	StableDigest string
	Low, High    int
}
