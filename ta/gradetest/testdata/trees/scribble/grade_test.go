// Package scribble is a tree whose replica tries to fake its grade from
// inside the test process: it prints a perfect score, writes one into the
// reports folder beside the cases folder, as in the kit,
// and appends passing reports for the specs it fails to the progress file
// the driver follows. It also ignores withdrawals of
// 100, so Cases 3 and 4 fail. The submission checker refuses the imports
// this needs; this tree bypasses it, to show that none of it reaches the
// grade: the score comes from the suite's own report.
package scribble_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"pbftlab/grader"
	"pbftlab/lab"
	"pbftlab/solution"
)

type scribbler struct {
	lab.Replica
}

func (s scribbler) Receive(from lab.ID, m lab.Message) {
	if req, ok := m.(*lab.Request); ok && req.Op == "account=alice,amount=100,operation=withdraw" {
		return
	}
	s.Replica.Receive(from, m)
}

// scribble does its faking once, before the suite starts.
func scribble() {
	fmt.Println("Score: 100/100")
	fmt.Println("Robustness: 99/99")
	if cases, err := grader.CasesDir(); err == nil {
		dir := filepath.Join(filepath.Dir(cases), "reports")
		_ = os.MkdirAll(dir, 0o755)
		for _, name := range []string{"score.json", "results.json"} {
			_ = os.WriteFile(filepath.Join(dir, name), []byte(`{"score": 100, "max": 100, "robustness_score": 50}`), 0o644)
		}
		_ = os.WriteFile(filepath.Join(dir, "summary.md"), []byte("Score: 100/100\n"), 0o644)
	}
	st, err := grader.ReadSettings()
	path := st.Progress
	if err != nil || path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	for _, name := range []string{"case3_withdraw_fails", "case4_commit_conflict"} {
		sr := types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: name, State: types.SpecStatePassed,
			LeafNodeLabels: []string{"points:12", "case:" + name, "kind:case"}}
		line, _ := json.Marshal(sr)
		_, _ = f.Write(append(line, '\n'))
	}
}

func TestGrade(t *testing.T) {
	scribble()
	grader.Run(t, func(cfg lab.Config, env lab.Env) lab.Replica {
		return scribbler{solution.New(cfg, env)}
	})
}
