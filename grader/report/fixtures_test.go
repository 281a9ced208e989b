package report

import (
	"time"
)

// The runs below are the three shapes a grade takes: every case passed,
// some failed by assertion, and a test process that crashed part way, so
// that one case panicked, one crashed and one never ran.

func passingRun() Run {
	return Run{Tree: "solution", Seed: "1", Runs: "3", Duration: 2500 * time.Millisecond, Cases: []Case{
		{Name: "case1_deposit", Title: "Case 1 - deposit", Kind: "case", Phases: []string{"pre-prepare", "prepare", "commit"},
			Points: 10, Max: 10, State: "passed", Time: time.Millisecond, Trace: equivocation(true)},
		{Name: "case2_withdraw", Title: "Case 2 - withdraw", Kind: "case", Phases: []string{"prepare"},
			Points: 12, Max: 12, State: "passed", Time: 2 * time.Millisecond, Hidden: true},
	}}
}

func failingRun() Run {
	r := passingRun()
	r.Tree = "skeleton"
	t := equivocation(false)
	t.Failures = []string{"P1 (view 0, seq 1): request 1: want committed, got aborted"}
	r.Cases[1].Points, r.Cases[1].State, r.Cases[1].Trace = 0, "failed", t
	r.Cases[1].Message = "case2_withdraw failed with seed 2\n  P1 (view 0, seq 1): request 1: want committed, got aborted\n"
	r.Cases[1].Replay = "make grade CASE=case2_withdraw SEED=2 RUNS=1"
	return r
}

func crashedRun() Run {
	r := failingRun()
	r.Cases[0].Points, r.Cases[0].State = 0, "panicked"
	r.Cases[0].Message = "panic: runtime error: index out of range [4] with length 4\ngoroutine 7 [running]:"
	r.Cases[1].State, r.Cases[1].Trace = "crashed", nil
	r.Cases[1].Message = "the test process died while running this spec"
	r.Cases = append(r.Cases, Case{Name: "case3_withdraw_fails", Title: "Case 3", Kind: "case", Phases: []string{"prepare"},
		Max: 12, State: NotRun, Message: "did not run: the grade stopped before this case reported"})
	r.Partial = true
	return r
}

// equivocation is a hand-made trace of Case 2's first phase: P0
// pre-prepares, and P3 votes yes to P0 but no to P1.
func equivocation(passed bool) *Trace {
	pp := &Msg{Kind: "PRE-PREPARE", View: 0, Seq: 1, Label: "v0 n1", Text: "PRE-PREPARE v0 n1 op"}
	yes := &Msg{Kind: "PREPARE", View: 0, Seq: 1, Vote: "yes", Label: "v0 n1 yes", Text: "PREPARE v0 n1 yes"}
	no := &Msg{Kind: "PREPARE", View: 0, Seq: 1, Vote: "no", Label: "v0 n1 no", Text: "PREPARE v0 n1 no"}
	return &Trace{
		Seed: 2, Passed: passed, Replicas: 4, Byzantine: []string{"P3"},
		Replay:     "make grade CASE=case2_withdraw SEED=2 RUNS=1",
		Transcript: "P0 (primary): tx\n    P0 -> P1  PRE-PREPARE v0 n1 op\nP3 (replica, Byzantine): prepare to P1 no\n",
		Events: []Event{
			{Kind: KindStep, Index: 0, Send: -1, Text: "P0 (primary): tx"},
			{Kind: KindSend, Index: 1, Send: -1, From: "P0", To: "P1", Msg: pp},
			{Kind: KindSend, Index: 2, Send: -1, From: "P0", To: "P3", Msg: pp},
			{Kind: KindDeliver, Index: 3, Send: 1, From: "P0", To: "P1", Msg: pp},
			{Kind: KindDeliver, Index: 4, Send: 2, From: "P0", To: "P3", Msg: pp},
			{Kind: KindStep, Index: 5, Send: -1, Text: "P3 (replica, Byzantine): prepare to P0 yes"},
			{Kind: KindSend, Index: 6, Send: -1, From: "P3", To: "P0", Msg: yes, Forged: true},
			{Kind: KindDeliver, Index: 7, Send: 6, From: "P3", To: "P0", Msg: yes, Forged: true},
			{Kind: KindSend, Index: 8, Send: -1, From: "P3", To: "P1", Msg: no, Forged: true},
			{Kind: KindDeliver, Index: 9, Send: 8, From: "P3", To: "P1", Msg: no, Forged: true},
			{Kind: KindCrash, Index: 10, Send: -1, From: "P2", To: "P2"},
			{Kind: KindLost, Index: 11, Send: 8, From: "P3", To: "P2", Msg: no},
			{Kind: KindRecover, Index: 12, Send: -1, From: "P2", To: "P2"},
		},
	}
}
