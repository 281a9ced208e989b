package sim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

// chatter broadcasts the same-looking prepare several times on each Do, so
// that only the identity of a send can tell its deliveries apart.
type chatter struct {
	id  lab.ID
	env lab.Env
}

func (c *chatter) Receive(lab.ID, lab.Message) {}
func (c *chatter) Tick()                       {}
func (c *chatter) Status() lab.Status          { return lab.Status{} }
func (c *chatter) Do(lab.Command) error {
	for range 5 {
		c.env.Broadcast(&lab.Prepare{Seq: 1, Replica: c.id, Yes: true})
	}
	return nil
}

func TestDeliveriesPairWithTheirSends(t *testing.T) {
	for seed := range uint64(10) {
		s := New(func(cfg lab.Config, env lab.Env) lab.Replica { return &chatter{cfg.ID, env} }, Options{Seed: seed, Duplicate: 0.5})
		require.NoError(t, s.Do(0, lab.Command{Op: lab.OpProgress}))
		require.NoError(t, s.Do(2, lab.Command{Op: lab.OpProgress}))
		events := s.Trace().Events()
		sends, deliveries, duplicates := 0, 0, 0
		paired := map[int]int{}
		for _, e := range events {
			switch e.Kind {
			case EventSend:
				sends++
			case EventDeliver:
				deliveries++
				require.GreaterOrEqual(t, e.SendIdx, 0, "seed %d: delivery %d has no send", seed, e.Index)
				send := events[e.SendIdx]
				assert.Equal(t, EventSend, send.Kind)
				assert.Equal(t, [2]lab.ID{send.From, send.To}, [2]lab.ID{e.From, e.To})
				assert.Less(t, e.SendIdx, e.Index)
				if paired[e.SendIdx]++; paired[e.SendIdx] == 2 {
					duplicates++
				}
			}
		}
		assert.Equal(t, 2*5*3, sends)
		assert.Equal(t, sends+duplicates, deliveries, "seed %d: every delivery is a send or a copy of one", seed)
		assert.Len(t, paired, sends, "seed %d: every send is delivered", seed)
		if seed == 0 {
			assert.Positive(t, duplicates, "the network duplicated something")
		}
	}
}
