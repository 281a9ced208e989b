// Package leak is a tree whose replicas keep every operation they see in a
// package-level list and log it each time one is built: what the checker
// refuses a submission, done anyway. Graded with a TA-only case, the
// visible cases must show nothing of it: TA-only specs run in processes of
// their own, after the visible ones.
package leak_test

import (
	"strings"
	"testing"

	_ "github.com/onsi/ginkgo/v2"

	"pbftlab/grader"
	"pbftlab/lab"
	"pbftlab/solution"
)

// seen is every operation any replica of the process has received.
var seen []string

type recorder struct{ lab.Replica }

func (r recorder) Receive(from lab.ID, m lab.Message) {
	if req, ok := m.(*lab.Request); ok {
		seen = append(seen, req.Op)
	}
	r.Replica.Receive(from, m)
}

func TestGrade(t *testing.T) {
	grader.Run(t, func(cfg lab.Config, env lab.Env) lab.Replica {
		env.Logf("operations seen in this process: %s", strings.Join(seen, "; "))
		return recorder{solution.New(cfg, env)}
	})
}
