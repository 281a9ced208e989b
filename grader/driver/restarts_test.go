package driver

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A grade whose every spec stops the suite tells of the first restarts,
// then only their count.
func TestRestartsAreToldThenCounted(t *testing.T) {
	for _, tc := range []struct {
		n     int
		lines int
		count bool
	}{
		{0, 0, false},
		{toldRestarts, toldRestarts, false},
		{toldRestarts + 1, toldRestarts + 1, true},
		{40, toldRestarts + 1, true},
	} {
		var out bytes.Buffer
		r := &restarts{w: &out}
		for i := range tc.n {
			r.tell("restart %d\n", i)
		}
		told := strings.Count(out.String(), "\n")
		r.done()
		assert.Equal(t, tc.lines, told, "%d restarts", tc.n)
		if tc.count {
			assert.Contains(t, out.String(), fmt.Sprintf("the suite ran in %d fresh processes", tc.n), "%d restarts", tc.n)
		} else {
			assert.NotContains(t, out.String(), "fresh processes after the first", "%d restarts", tc.n)
		}
	}
}
