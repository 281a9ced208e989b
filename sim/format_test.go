package sim

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"pbftlab/lab"
)

// TestEnvPrintsNothingOfTheRun: whatever verb a replica prints its Env
// with, it learns nothing of the simulator's state.
func TestEnvPrintsNothingOfTheRun(t *testing.T) {
	s := &Cluster{}
	n := &node{sim: s, id: 3, honest: false}
	n.lie = func(_ lab.ID, m lab.Message) lab.Message { return m }
	var e lab.Env = env{n}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		assert.Equal(t, envName, fmt.Sprintf(verb, e), "printed with %s", verb)
	}
	assert.Equal(t, envName, fmt.Sprint(e))
	assert.Equal(t, "{E:"+envName+"}", fmt.Sprintf("%+v", struct{ E lab.Env }{e}), "an Env inside a struct")

	// %w on what is not an error skips Format and prints by reflection:
	// all it can show is the handle's pointer.
	for _, verb := range []string{"%w", "%+w", "%#w"} {
		out := fmt.Sprintf(verb, e)
		for _, field := range []string{"honest", "lie", "sim:", "false", "P3"} {
			assert.NotContains(t, out, field, "printed with %s: %s", verb, out)
		}
		assert.Regexp(t, `0x[0-9a-f]+`, out, "printed with %s", verb)
	}
}
