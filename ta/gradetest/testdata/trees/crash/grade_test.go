// Package crash is a tree whose replica kills its own test process in the
// middle of some cases, as an os.Exit in student code would: the grade must
// still finish, score those cases as crashed, and write its reports.
package crash_test

import (
	"os"
	"strings"
	"testing"

	_ "github.com/onsi/ginkgo/v2"

	"pbftlab/grader"
	"pbftlab/lab"
	"pbftlab/solution"
)

// exiter is the reference, except that P0 ends the process when, after a
// request to withdraw 20, P3 votes yes to it: that happens in Case 2 only.
type exiter struct {
	lab.Replica
	id       lab.ID
	withdraw bool
}

func (e *exiter) Receive(from lab.ID, m lab.Message) {
	switch m := m.(type) {
	case *lab.Request:
		e.withdraw = e.withdraw || strings.Contains(m.Op, "amount=20,operation=withdraw")
	case *lab.Prepare:
		if e.id == 0 && from == 3 && m.Yes && e.withdraw {
			os.Exit(3)
		}
	}
	e.Replica.Receive(from, m)
}

func TestGrade(t *testing.T) {
	grader.Run(t, func(cfg lab.Config, env lab.Env) lab.Replica {
		return &exiter{Replica: solution.New(cfg, env), id: cfg.ID}
	})
}
