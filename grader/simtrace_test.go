package grader

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader/report"
	"pbftlab/lab"
	"pbftlab/sim"
)

// echo is a replica just rich enough to make traffic: the primary
// pre-prepares each request, every replica that gets a pre-prepare votes
// yes to all, and the primary answers the client. It lets the tests run
// the real simulator without a tree.
type echo struct {
	cfg  lab.Config
	env  lab.Env
	seen map[int]bool // requests and pre-prepares handled, by timestamp or seq
}

func newEcho(cfg lab.Config, env lab.Env) lab.Replica {
	return &echo{cfg: cfg, env: env, seen: map[int]bool{}}
}

func (e *echo) Receive(from lab.ID, m lab.Message) {
	switch m := m.(type) {
	case *lab.Request:
		if e.cfg.ID == 0 && !e.seen[int(m.Timestamp)] {
			e.seen[int(m.Timestamp)] = true
			e.env.Broadcast(&lab.PrePrepare{View: 0, Seq: int(m.Timestamp), Digest: "d", Request: m})
			e.env.Reply(lab.Reply{Seq: int(m.Timestamp), Timestamp: m.Timestamp, Client: m.Client, Committed: true})
		}
	case *lab.PrePrepare:
		if e.seen[m.Seq] {
			return
		}
		e.seen[m.Seq] = true
		e.env.Broadcast(&lab.Prepare{View: m.View, Seq: m.Seq, Digest: m.Digest, Replica: e.cfg.ID, Yes: e.cfg.ID != 2})
	}
}

func (e *echo) Tick()                {}
func (e *echo) Do(lab.Command) error { return nil }
func (e *echo) Status() lab.Status   { return lab.Status{ID: e.cfg.ID} }

// unchecked marks P0 Byzantine: an echo's primary answers the client with
// no round of commits and no execution, which the simulator's checks on an
// honest replica would stop.
func unchecked(o sim.Options) sim.Options {
	o.Byzantine = []lab.ID{0}
	return o
}

func runEcho(requests int, o sim.Options) *sim.Cluster {
	s := sim.New(newEcho, unchecked(o))
	for range requests {
		s.Send("account=alice,amount=1,operation=deposit")
	}
	return s
}

// tally is echo with a log: it counts, per sequence number, the prepares it
// received, reports them in Status, and logs a line per message, whose text
// a test may choose (a student's replica logs whatever it likes).
type tally struct {
	echo
	logText string
	log     []lab.Entry
}

func newTally(logText string) lab.NewFunc {
	return func(cfg lab.Config, env lab.Env) lab.Replica {
		return &tally{echo: echo{cfg: cfg, env: env, seen: map[int]bool{}}, logText: logText}
	}
}

func (t *tally) Receive(from lab.ID, m lab.Message) {
	t.env.Logf("%s %s", t.logText, lab.KindOf(m))
	switch m := m.(type) {
	case *lab.PrePrepare:
		t.entry(m.Seq, m.Request).PrepareYes = append(t.entry(m.Seq, m.Request).PrepareYes, from)
	case *lab.Prepare:
		e := t.entry(m.Seq, nil)
		if m.Yes {
			e.PrepareYes = append(e.PrepareYes, from)
		} else {
			e.PrepareNo = append(e.PrepareNo, from)
		}
	}
	t.echo.Receive(from, m)
}

func (t *tally) entry(seq int, r *lab.Request) *lab.Entry {
	for i := range t.log {
		if t.log[i].Seq == seq {
			if r != nil {
				t.log[i].Request = r
			}
			return &t.log[i]
		}
	}
	t.log = append(t.log, lab.Entry{Seq: seq, Phase: lab.PhasePrePrepared, Request: r})
	return &t.log[len(t.log)-1]
}

func (t *tally) Status() lab.Status {
	return lab.Status{ID: t.cfg.ID, Primary: 0, Log: t.log, High: 200}
}

func TestStepsOfASimulatedRun(t *testing.T) {
	tests := []struct {
		name     string
		requests int
		quiet    bool
		check    func(t *testing.T, s *sim.Cluster, st *report.Steps)
	}{
		{name: "a quiet run has no steps", requests: 1, quiet: true, check: func(t *testing.T, _ *sim.Cluster, st *report.Steps) {
			assert.Nil(t, st)
		}},
		{name: "one step per delivery, with the cluster after it", requests: 1, check: func(t *testing.T, s *sim.Cluster, st *report.Steps) {
			require.Len(t, st.Steps, s.Delivered())
			assert.Equal(t, s.Delivered(), st.Total)
			assert.Equal(t, []string{"client: send 1"}, st.Scripts)
			events := s.Trace().Events()
			for _, step := range st.Steps {
				e := events[step.Event]
				assert.Equal(t, sim.EventDeliver, e.Kind)
				assert.Equal(t, e.To.String(), step.To)
				assert.Equal(t, report.MsgOf(e.Msg), step.Msg)
				assert.Equal(t, 0, step.Script)
				require.Len(t, step.States, 4)
			}
			// The client's request reaches the primary, which pre-prepares
			// to every backup in one line and answers the client.
			first := st.Steps[0]
			assert.Equal(t, "REQUEST", first.Msg.Kind)
			assert.Equal(t, []string{
				"P0: says REQUEST",
				"P0 sent PRE-PREPARE v0 n1 account=alice,amount=1,operation=deposit to P1 P2 P3",
				"P0 sent REPLY v0 n1 client#1 committed \"\" to client",
			}, first.Then)
			// The last step: every backup counted the primary's pre-prepare
			// and the prepares of the two other backups, P2's a no.
			last := st.Steps[len(st.Steps)-1]
			for r := 1; r < 4; r++ {
				state := st.States[last.States[r]]
				require.Len(t, state.Log, 1)
				e := st.Entries[state.Log[0]]
				assert.Equal(t, 1, e.Seq)
				assert.Equal(t, "pre-prepared", e.Phase)
				assert.Equal(t, "client#1 account=alice,amount=1,operation=deposit", e.Request)
				assert.Len(t, append(e.PrepareYes, e.PrepareNo...), 3, "P%d's votes", r)
				if r != 2 {
					assert.Equal(t, []string{"P2"}, e.PrepareNo)
				}
				assert.Equal(t, "alice=80", state.Balances)
			}
		}},
		{name: "states and entries are stored once", requests: 2, check: func(t *testing.T, _ *sim.Cluster, st *report.Steps) {
			// Each delivery changes at most its receiver.
			assert.LessOrEqual(t, len(st.States), 4+len(st.Steps))
			seen := map[string]bool{}
			for _, e := range st.Entries {
				key := fmt.Sprint(e)
				assert.False(t, seen[key], "entry %s twice", key)
				seen[key] = true
			}
			for i := 1; i < len(st.Steps); i++ {
				changed := 0
				for r := range 4 {
					if st.Steps[i].States[r] != st.Steps[i-1].States[r] {
						changed++
						assert.Equal(t, fmt.Sprintf("P%d", r), st.Steps[i].To, "step %d changed only its receiver", i)
					}
				}
				assert.LessOrEqual(t, changed, 1)
			}
		}},
		{name: "a long run is cut at maxSteps", requests: 150, check: func(t *testing.T, s *sim.Cluster, st *report.Steps) {
			assert.Len(t, st.Steps, maxSteps)
			assert.Equal(t, s.Delivered(), st.Total)
			assert.Greater(t, st.Total, maxSteps)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sim.New(newTally("says"), unchecked(sim.Options{Seed: 4, Quiet: tt.quiet, Balances: map[string]int{"alice": 80}}))
			for i := range tt.requests {
				s.Trace().Step(fmt.Sprintf("client: send %d", i+1))
				s.Send("account=alice,amount=1,operation=deposit")
			}
			tt.check(t, s, stepsOf(s))
		})
	}
}

func TestThenSaysWhatADeliveryLedTo(t *testing.T) {
	yes := &lab.Prepare{View: 0, Seq: 1, Yes: true}
	send := func(to lab.ID) sim.Event { return sim.Event{Kind: sim.EventSend, From: 1, To: to, Msg: yes} }
	logLine := func(text string) sim.Event { return sim.Event{Kind: sim.EventLog, From: 1, To: 1, Text: text} }
	var many []sim.Event
	for i := range maxStepLines + 3 {
		many = append(many, logLine(fmt.Sprint("line ", i)))
	}
	tests := []struct {
		name   string
		events []sim.Event
		want   []string
	}{
		{name: "nothing", events: nil, want: nil},
		{name: "a broadcast is one line", events: []sim.Event{logLine("voted"), send(0), send(2), {Kind: sim.EventDrop, From: 1, To: 3, Msg: yes}},
			want: []string{"P1: voted", "P1 sent PREPARE v0 n1 yes to P0 P2 P3 (dropped)"}},
		{name: "up to the next delivery", events: []sim.Event{send(0), {Kind: sim.EventDeliver, From: 1, To: 0, Msg: yes}, logLine("later")},
			want: []string{"P1 sent PREPARE v0 n1 yes to P0"}},
		{name: "up to the next script line", events: []sim.Event{{Kind: sim.EventNote, Text: "P1 refused"}, {Kind: sim.EventStep, Text: "P1: progress"}, logLine("later")},
			want: []string{"! P1 refused"}},
		{name: "checkpoints", events: []sim.Event{{Kind: sim.EventCheckpoint, From: 1, Seq: 100, Stable: true}},
			want: []string{"P1: checkpoint n100 stable"}},
		{name: "long lines are cut", events: []sim.Event{logLine(strings.Repeat("x", 500))},
			want: []string{"P1: " + strings.Repeat("x", maxStepLineLen-4) + " ... (304 more bytes)"}},
		{name: "at most maxStepLines lines", events: many,
			want: append(thenLines(maxStepLines), "... 3 more")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, then(tt.events))
		})
	}
}

func thenLines(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprint("P1: line ", i))
	}
	return out
}

func TestSimTracePairsDeliveriesWithSends(t *testing.T) {
	s := runEcho(1, sim.Options{Seed: 3, Duplicate: 0.5})
	tr := simTrace(s)
	assert.Equal(t, 4, tr.Replicas)
	assert.Zero(t, tr.Omitted)
	byIndex := map[int]report.Event{}
	kinds := map[string]int{}
	dups := 0
	for _, e := range tr.Events {
		byIndex[e.Index] = e
		kinds[e.Kind]++
		if e.Dup {
			dups++
		}
	}
	// One request, the primary's three pre-prepares, three backups' three
	// prepares each (the primary's pre-prepare is its vote), and a reply.
	assert.Equal(t, 1+3+9+1, kinds[report.KindSend])
	assert.GreaterOrEqual(t, kinds[report.KindDeliver], kinds[report.KindSend])
	assert.Equal(t, kinds[report.KindDeliver]-kinds[report.KindSend], dups, "every delivery past the first of a send is a duplicate")
	for _, e := range tr.Events {
		if e.Kind != report.KindDeliver {
			continue
		}
		send, ok := byIndex[e.Send]
		require.True(t, ok, "delivery %d has its send in the trace", e.Index)
		assert.Equal(t, report.KindSend, send.Kind)
		assert.Equal(t, send.From, e.From)
		assert.Equal(t, send.To, e.To)
		assert.Equal(t, send.Msg.Text, e.Msg.Text)
		assert.Less(t, e.Send, e.Index)
	}
	assert.Contains(t, tr.Transcript, "P0 -> P1  PRE-PREPARE v0 n1")
}

func TestSimTraceIsDeterministic(t *testing.T) {
	a, err := json.Marshal(simTrace(runEcho(2, sim.Options{Seed: 9, Duplicate: 0.3})))
	require.NoError(t, err)
	b, err := json.Marshal(simTrace(runEcho(2, sim.Options{Seed: 9, Duplicate: 0.3})))
	require.NoError(t, err)
	assert.Equal(t, string(a), string(b))
}

// simTrace converts only the events the report keeps, and looks sends up by
// their text only when a delivery needs it; the trace is the one converting
// every event gives, byte for byte.
func TestSimTraceIsWhatConvertingEveryEventGives(t *testing.T) {
	crashed := func() *sim.Cluster {
		s := sim.New(newEcho, unchecked(sim.Options{Seed: 1, Duplicate: 0.3}))
		s.Crash(2)
		s.Send("account=alice,amount=1,operation=deposit")
		require.NoError(t, s.Recover(2))
		return s
	}
	forged := func() *sim.Cluster {
		s := runEcho(2, sim.Options{Seed: 4})
		require.NoError(t, s.VoteTo(3, 1, lab.OpPrepare, false))
		return s
	}
	for _, tt := range []struct {
		name string
		run  func() *sim.Cluster
	}{
		{"nothing", func() *sim.Cluster { return sim.New(newEcho, unchecked(sim.Options{Seed: 1})) }},
		{"duplicates", func() *sim.Cluster { return runEcho(3, sim.Options{Seed: 3, Duplicate: 0.5}) }},
		{"reordered", func() *sim.Cluster { return runEcho(5, sim.Options{Seed: 2, Reorder: true, Duplicate: 0.2}) }},
		{"a crash and lost messages", crashed},
		{"forged votes", forged},
		{"longer than the diagram keeps", func() *sim.Cluster { return runEcho(150, sim.Options{Seed: 1, Duplicate: 0.2}) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.run()
			want, err := json.Marshal(simTraceOfEveryEvent(s))
			require.NoError(t, err)
			got, err := json.Marshal(simTrace(s))
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
		})
	}
}

// simTraceOfEveryEvent is simTrace as it was: every event converted and
// paired, then the middle of a long run cut out.
func simTraceOfEveryEvent(s *sim.Cluster) *report.Trace {
	t := &report.Trace{Replicas: s.N(), Steps: stepsOf(s)}
	t.Transcript = report.BoundLines(s.Trace().Transcript(true), report.MaxTranscriptLines, report.MaxLineLen)
	lastSend := map[string]int{}
	forged := map[int]bool{}
	delivered := map[int]bool{}
	for _, e := range s.Trace().Events() {
		kind, ok := simKind(e)
		if !ok {
			continue
		}
		ev := simEvent(e, kind)
		if ev.Kind == report.KindSend {
			lastSend[linkKey(e)] = e.Index
			forged[e.Index] = e.Forged
		}
		if ev.Kind == report.KindDeliver || ev.Kind == report.KindLost {
			if ev.Send < 0 {
				if i, ok := lastSend[linkKey(e)]; ok {
					ev.Send = i
				}
			}
			ev.Dup = ev.Send >= 0 && delivered[ev.Send]
			if ev.Send >= 0 {
				delivered[ev.Send] = true
				ev.Forged = ev.Forged || forged[ev.Send]
			}
		}
		t.Events = append(t.Events, ev)
	}
	if n := len(t.Events); n > report.MaxEvents {
		head, tail := report.MaxEvents-report.MaxEvents/3, report.MaxEvents/3
		t.Events = append(t.Events[:head:head], t.Events[n-tail:]...)
		t.Omitted, t.Gap = n-report.MaxEvents, head
	}
	return t
}

func TestSimTraceMarksCrashesAndLostMessages(t *testing.T) {
	s := sim.New(newEcho, unchecked(sim.Options{Seed: 1}))
	s.Crash(2)
	s.Send("account=alice,amount=1,operation=deposit")
	require.NoError(t, s.Recover(2))
	tr := simTrace(s)
	var kinds []string
	for _, e := range tr.Events {
		if e.Kind == report.KindCrash || e.Kind == report.KindRecover || (e.Kind == report.KindLost && e.To == "P2") {
			kinds = append(kinds, e.Kind)
		}
	}
	require.NotEmpty(t, kinds)
	assert.Equal(t, report.KindCrash, kinds[0])
	assert.Equal(t, report.KindRecover, kinds[len(kinds)-1])
	assert.Contains(t, kinds, report.KindLost)
}

func TestSimTraceMarksByzantineVotes(t *testing.T) {
	s := runEcho(1, sim.Options{Seed: 1})
	require.NoError(t, s.VoteTo(3, 1, lab.OpPrepare, false))
	tr := simTrace(s)
	var forged []report.Event
	for _, e := range tr.Events {
		if e.Forged {
			forged = append(forged, e)
		}
	}
	// Sent twice, delivered twice: the send events and their deliveries.
	require.Len(t, forged, 4)
	for _, e := range forged {
		assert.Equal(t, "P3", e.From)
		assert.Equal(t, "P1", e.To)
		assert.Equal(t, "no", e.Msg.Vote)
	}
}

func TestSimTraceIsBounded(t *testing.T) {
	// Enough requests for thousands of messages.
	s := runEcho(150, sim.Options{Seed: 1})
	tr := simTrace(s)
	assert.Len(t, tr.Events, report.MaxEvents)
	assert.Positive(t, tr.Omitted)
	assert.Equal(t, report.MaxEvents-report.MaxEvents/3, tr.Gap)
	all := s.Trace().Events()
	assert.Equal(t, all[len(all)-1].Index, tr.Events[len(tr.Events)-1].Index, "the end of the run is kept")
	lines := strings.Split(strings.TrimRight(tr.Transcript, "\n"), "\n")
	assert.LessOrEqual(t, len(lines), report.MaxTranscriptLines+1)
	assert.Contains(t, tr.Transcript, "lines left out")
	data, err := json.Marshal(tr)
	require.NoError(t, err)
	assert.Less(t, len(data), 1<<20, "a trace stays under a megabyte")
}
