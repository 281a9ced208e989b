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
	envs := map[string]lab.Env{"node": n}
	for name, env := range envs {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			assert.Equal(t, envName, fmt.Sprintf(verb, env), "%s Env printed with %s", name, verb)
		}
		assert.Equal(t, envName, fmt.Sprint(env), name)
		assert.Equal(t, "{E:"+envName+"}", fmt.Sprintf("%+v", struct{ E lab.Env }{env}), "%s Env inside a struct", name)
	}
}
