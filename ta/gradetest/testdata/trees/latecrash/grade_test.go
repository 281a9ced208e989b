// Package latecrash is a tree whose replica kills its test process in two
// cases, wherever they fall in the suite: a withdrawal of 20 (Case 2 and
// Practice 2) ends the process when it reaches the primary. The grade must
// resume after the specs that finished, so each crash costs a process or
// two, never a rerun of everything before it.
package latecrash_test

import (
	"os"
	"testing"

	_ "github.com/onsi/ginkgo/v2"

	"pbftlab/grader"
	"pbftlab/lab"
	"pbftlab/solution"
)

type exiter struct {
	lab.Replica
	id lab.ID
}

func (e exiter) Receive(from lab.ID, m lab.Message) {
	if req, ok := m.(*lab.Request); ok && e.id == 0 && req.Op == "account=alice,amount=20,operation=withdraw" {
		os.Exit(3)
	}
	e.Replica.Receive(from, m)
}

func TestGrade(t *testing.T) {
	grader.Run(t, func(cfg lab.Config, env lab.Env) lab.Replica {
		return exiter{Replica: solution.New(cfg, env), id: cfg.ID}
	})
}
