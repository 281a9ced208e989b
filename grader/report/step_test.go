package report

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
	"pbftlab/lab/sim"
)

// tally is echo with a log: it counts, per sequence number, the prepares it
// received, reports them in Status, and logs a line per message, whose text
// a test may choose (a student's replica logs whatever it likes).
type tally struct {
	echo
	logText string
	log     []lab.Entry
}

func newTally(logText string) lab.New {
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

func runTally(requests int, logText, op string) *sim.Sim {
	s := sim.New(newTally(logText), sim.Options{Seed: 4, Balances: map[string]int{"alice": 80}})
	for i := range requests {
		s.Trace().Step(fmt.Sprintf("client: send %d", i+1))
		s.Send(op)
	}
	return s
}

func TestStepsOf(t *testing.T) {
	tests := []struct {
		name     string
		requests int
		quiet    bool
		check    func(t *testing.T, s *sim.Sim, st *Steps)
	}{
		{name: "a quiet run has no steps", requests: 1, quiet: true, check: func(t *testing.T, _ *sim.Sim, st *Steps) {
			assert.Nil(t, st)
		}},
		{name: "one step per delivery, with the cluster after it", requests: 1, check: func(t *testing.T, s *sim.Sim, st *Steps) {
			require.Len(t, st.Steps, s.Delivered())
			assert.Equal(t, s.Delivered(), st.Total)
			assert.Equal(t, []string{"client: send 1"}, st.Scripts)
			events := s.Trace().Events()
			for _, step := range st.Steps {
				e := events[step.Event]
				assert.Equal(t, sim.EventDeliver, e.Kind)
				assert.Equal(t, e.To.String(), step.To)
				assert.Equal(t, MsgOf(e.Msg), step.Msg)
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
		{name: "states and entries are stored once", requests: 2, check: func(t *testing.T, _ *sim.Sim, st *Steps) {
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
		{name: "a long run is cut at MaxSteps", requests: 150, check: func(t *testing.T, s *sim.Sim, st *Steps) {
			assert.Len(t, st.Steps, MaxSteps)
			assert.Equal(t, s.Delivered(), st.Total)
			assert.Greater(t, st.Total, MaxSteps)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sim.New(newTally("says"), sim.Options{Seed: 4, Quiet: tt.quiet, Balances: map[string]int{"alice": 80}})
			for i := range tt.requests {
				s.Trace().Step(fmt.Sprintf("client: send %d", i+1))
				s.Send("account=alice,amount=1,operation=deposit")
			}
			tt.check(t, s, StepsOf(s))
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

// hostile is text a replica may put in its log lines or its Status, meant
// to break out of the page's markup or script.
const hostile = `</script><script>alert(1)</script><img src=x onerror=alert(2)> "quoted" & ` + "\u2028 ends a line in old JavaScript"

var stepsDataRE = regexp.MustCompile(`(?s)<script type="application/json" class="steps-data">(.*?)</script>`)

// stepsData finds the step-throughs' JSON in a page and decodes it.
func stepsData(t *testing.T, page string) []Steps {
	t.Helper()
	var out []Steps
	for _, m := range stepsDataRE.FindAllStringSubmatch(page, -1) {
		var st Steps
		require.NoError(t, json.Unmarshal([]byte(m[1]), &st), m[1])
		out = append(out, st)
	}
	return out
}

func TestHTMLStepThrough(t *testing.T) {
	failing := func(s *sim.Sim) *Trace {
		tr := FromSim(s)
		tr.Seed, tr.Failures = 4, []string{"P1: expected committed"}
		return tr
	}
	tests := []struct {
		name  string
		trace func() *Trace
		steps int // step-throughs on the page
		check func(t *testing.T, page string, tr *Trace)
	}{
		{name: "a failing run has one", steps: 1, trace: func() *Trace { return failing(runTally(1, "says", "account=alice,amount=1,operation=deposit")) },
			check: func(t *testing.T, page string, tr *Trace) {
				assert.Contains(t, page, `<h3>Step through the run, seed 4</h3>`)
				assert.Contains(t, page, `max="`+fmt.Sprint(len(tr.Steps.Steps))+`"`)
				assert.NotContains(t, page, "deliveries are shown")
				assert.Equal(t, 2, strings.Count(page, "<script"), "the data and the page's one script")
				assert.Equal(t, []Steps{*tr.Steps}, stepsData(t, page))
			}},
		{name: "a passed run has none", steps: 0, trace: func() *Trace {
			tr := failing(runTally(1, "says", "op"))
			tr.Passed, tr.Failures = true, nil
			return tr
		}, check: func(t *testing.T, page string, _ *Trace) {
			assert.NotContains(t, page, "<script")
			assert.NotContains(t, page, "Step through")
		}},
		{name: "a cut run says so", steps: 1, trace: func() *Trace { return failing(runTally(150, "says", "op")) },
			check: func(t *testing.T, page string, tr *Trace) {
				assert.Contains(t, page, fmt.Sprintf("The first %d of %d deliveries are shown.", MaxSteps, tr.Steps.Total))
			}},
		{name: "what the replica wrote stays text", steps: 1, trace: func() *Trace {
			tr := failing(runTally(1, hostile, hostile))
			tr.Steps.States[0].Failure = hostile
			tr.Steps.Scripts[0] = hostile
			return tr
		}, check: func(t *testing.T, page string, tr *Trace) {
			assert.Equal(t, 2, strings.Count(page, "<script"), "no script but the page's own")
			assert.Equal(t, 2, strings.Count(page, "</script"))
			assert.NotContains(t, page, "<img")
			for _, m := range stepsDataRE.FindAllStringSubmatch(page, -1) {
				assert.NotContains(t, m[1], "<")
				assert.NotContains(t, m[1], "\u2028")
			}
			got := stepsData(t, page)
			require.Len(t, got, 1)
			assert.Equal(t, *tr.Steps, got[0], "the text arrives whole, as text")
			assert.Contains(t, got[0].Steps[0].Then[0], hostile)
			assert.Contains(t, got[0].Entries[0].Request, hostile)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := tt.trace()
			r := failingRun()
			r.Cases[1].Trace = tr
			page, err := HTML(r)
			require.NoError(t, err)
			assert.Equal(t, tt.steps, strings.Count(string(page), `<div class="steps" tabindex="0">`))
			rest := stripSteps(string(page))
			assert.NotRegexp(t, `<[^>]*\ssrc=`, rest, "nothing fetched")
			for _, fetch := range []string{"<link", "<img", "<iframe", "@import", "url("} {
				assert.NotContains(t, rest, fetch, "nothing fetched")
			}
			tt.check(t, string(page), tr)
		})
	}
}

// stripSteps leaves the step-throughs' data out of a page, since the data
// quotes what replicas wrote.
func stripSteps(page string) string {
	return stepsDataRE.ReplaceAllString(page, "")
}

func TestTraceJSONLeavesPassedStepsOut(t *testing.T) {
	for _, passed := range []bool{false, true} {
		t.Run(fmt.Sprint("passed=", passed), func(t *testing.T) {
			tr := FromSim(runTally(1, "says", "op"))
			tr.Passed = passed
			require.NotNil(t, tr.Steps)
			data, err := json.Marshal(tr)
			require.NoError(t, err)
			var back Trace
			require.NoError(t, json.Unmarshal(data, &back))
			assert.Equal(t, !passed, back.Steps != nil)
			assert.NotNil(t, tr.Steps, "marshalling leaves the trace itself alone")
			back.Steps, tr.Steps = nil, nil
			assert.Equal(t, tr, &back, "everything else survives")
		})
	}
}
