// Package gopanic is a tree whose replica panics on a goroutine of its
// own, which no recover in the grader can catch: the test process dies.
// The submission checker refuses the go statement; this tree bypasses it,
// to show that the grade still finishes, scores the cases it was running
// as crashed and the others as they are, and writes its reports.
package gopanic_test

import (
	"strings"
	"testing"

	_ "github.com/onsi/ginkgo/v2"

	"pbftlab/grader"
	"pbftlab/lab"
	"pbftlab/solution"
)

// panicker is the reference, except that P0 panics on another goroutine,
// and waits for it, when, after a request to withdraw 20, P3 votes yes to
// it: that happens in Case 2 only.
type panicker struct {
	lab.Replica
	id       lab.ID
	withdraw bool
}

func (p *panicker) Receive(from lab.ID, m lab.Message) {
	switch m := m.(type) {
	case *lab.Request:
		p.withdraw = p.withdraw || strings.Contains(m.Op, "amount=20,operation=withdraw")
	case *lab.Prepare:
		if p.id == 0 && from == 3 && m.Yes && p.withdraw {
			never := make(chan struct{})
			go func() {
				defer close(never)
				panic("out of the grader's reach")
			}()
			<-never
		}
	}
	p.Replica.Receive(from, m)
}

func TestGrade(t *testing.T) {
	grader.Run(t, func(cfg lab.Config, env lab.Env) lab.Replica {
		return &panicker{Replica: solution.New(cfg, env), id: cfg.ID}
	})
}
