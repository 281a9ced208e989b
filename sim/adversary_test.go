package sim

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

// fakes builds a constructor of fakes that records them in order of ID
// (twins add a second fake for their ID, after the first). Each fake's got
// holds what it received in the short form of brief, which these tests own.
func fakes(setup func(f *fake)) (lab.NewFunc, *[]*fake) {
	var all []*fake
	return func(cfg lab.Config, env lab.Env) lab.Replica {
		f := &fake{id: cfg.ID, env: env, bank: cfg.Bank}
		if setup != nil {
			setup(f)
		}
		react := f.onReceive
		f.onReceive = func(f *fake, from lab.ID, m lab.Message) {
			f.got[len(f.got)-1] = from.String() + ":" + brief(m)
			if react != nil {
				react(f, from, m)
			}
		}
		all = append(all, f)
		return f
	}, &all
}

// brief renders the fields of m these tests look at.
func brief(m lab.Message) string {
	switch m := m.(type) {
	case *lab.PrePrepare:
		op := "null"
		if m.Request != nil {
			op = m.Request.Op
		}
		return fmt.Sprintf("PRE-PREPARE n%d %s", m.Seq, op)
	case *lab.Prepare:
		return fmt.Sprintf("PREPARE n%d by %s", m.Seq, m.Replica)
	case *lab.Checkpoint:
		return fmt.Sprintf("CHECKPOINT n%d %s", m.Seq, m.Digest)
	case *lab.Request:
		return "REQUEST " + m.Op
	}
	return lab.KindOf(m).String()
}

func TestInjectOnlyAsAByzantineReplica(t *testing.T) {
	build, all := fakes(nil)
	s := New(build, Options{Byzantine: []lab.ID{3}})
	vote := &lab.Prepare{Seq: 1, Replica: 2, Yes: true}

	require.NoError(t, s.Inject(3, 1, vote))
	assert.Equal(t, []string{"P3:PREPARE n1 by P2"}, (*all)[1].got, "delivered as from P3, whatever its Replica field says")
	forged := 0
	for _, e := range s.Trace().Events() {
		if e.Kind == EventSend && e.Forged {
			forged++
		}
	}
	assert.Equal(t, 1, forged, "the trace marks the message as forged")

	for _, from := range []lab.ID{0, 4, lab.Client} {
		assert.Error(t, s.Inject(from, 1, vote), "from %s", from)
	}
	assert.Len(t, (*all)[1].got, 1)
}
