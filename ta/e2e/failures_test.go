package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
	"pbftlab/script"
)

// What the original lab says of a crashed node, "simply rerun its command
// to recover", and what a TA does with processes in terminals: kill -9,
// rerun, send with the primary gone, start the client first.

const deposit = "account=alice,amount=1,operation=deposit"

// automatic is a fresh cluster of four with automatic votes, P3 Byzantine.
func automatic() *script.Case {
	return &script.Case{Title: "keyboard", N: 4, Byzantine: []lab.ID{3}, Balances: map[string]int{"alice": 0}}
}

// until reads replica id's status until ok holds, and fails the test if it
// does not within waitLimit. Each reading is a round trip to the process,
// which paces the loop.
func (pc *procCluster) until(id lab.ID, what string, ok func(lab.Status, map[string]int) bool) {
	pc.t.Helper()
	limit := time.Now().Add(waitLimit)
	for {
		st, b, err := pc.status(id)
		if err == nil && ok(st, b) {
			return
		}
		if time.Now().After(limit) {
			pc.t.Fatalf("%s: no %s within %v (last: %+v, balances %v, %v)\n%s", id, what, waitLimit, st, b, err, pc.replicas[id].output())
		}
	}
}

// awaitOutcome waits for the client to print request n's outcome, unless
// it has already.
func awaitOutcome(t *testing.T, client *proc, n int) string {
	t.Helper()
	prefix := fmt.Sprintf("request %d ", n)
	outcome := func(line string) bool {
		return strings.HasPrefix(line, prefix+"committed") || strings.HasPrefix(line, prefix+"aborted") || strings.HasPrefix(line, prefix+"rejected")
	}
	for _, line := range strings.Split(client.output(), "\n") {
		if outcome(line) {
			return line
		}
	}
	got := client.await("the outcome of "+prefix, outcome)
	return got[len(got)-1]
}

// A backup killed with SIGKILL misses requests; started again with the
// same command, it catches up by itself: no recover typed.
func TestKilledBackupRerunCatchesUp(t *testing.T) {
	pc := startCluster(t, build(t), automatic())
	for range 3 {
		pc.Send(deposit)
	}
	pc.flush()
	pc.replicas[2].kill()
	for n := 4; n <= 5; n++ {
		pc.client.type_("send " + deposit)
		awaitOutcome(t, pc.client, n)
	}

	p2 := pc.startReplica(2)
	p2.await("its banner", func(line string) bool { return strings.Contains(line, "type help for the commands") })
	pc.until(2, "catch-up to n5", func(st lab.Status, b map[string]int) bool { return st.LastExecuted == 5 && b["alice"] == 5 })
	assert.NotContains(t, p2.output(), "recover\n", "nothing was typed at it")
}

// The primary's process killed: the next request, from a client started
// with no flags, commits once the client resends it to every replica and
// the backups' timers replace the primary.
func TestKilledPrimaryNextRequestCommits(t *testing.T) {
	pc := startCluster(t, build(t), automatic(), "-tick", "10ms")
	pc.replicas[0].kill()
	pc.client.type_("send " + deposit)
	outcome := awaitOutcome(t, pc.client, 1)
	assert.Contains(t, outcome, "request 1 committed (alice=1)")
	assert.Regexp(t, `(?m)^-- request 1 unanswered after 1(\.\d)?s \(next try in 2s\); sending it to every replica$`, pc.client.output(), "the resend is shown")
	pc.until(1, "view 1", func(st lab.Status, _ map[string]int) bool {
		return st.View == 1 && st.Primary == 1 && st.LastExecuted == 1
	})
}

// A restarted primary's process rejoins the view the others are in, not
// view 0.
func TestRestartedPrimaryRejoinsTheCurrentView(t *testing.T) {
	pc := startCluster(t, build(t), automatic(), "-tick", "10ms")
	pc.replicas[0].kill()
	pc.client.type_("send " + deposit)
	awaitOutcome(t, pc.client, 1)
	p0 := pc.startReplica(0)
	p0.await("its banner", func(line string) bool { return strings.Contains(line, "type help for the commands") })
	pc.until(0, "view 1 and n1", func(st lab.Status, b map[string]int) bool {
		return st.View == 1 && st.Primary == 1 && st.LastExecuted == 1 && b["alice"] == 1
	})
	pc.client.type_("send " + deposit)
	assert.Contains(t, awaitOutcome(t, pc.client, 2), "request 2 committed (alice=2)")
}

// A client started before the replicas gets its answer once they are up.
func TestClientStartedFirstGetsItsAnswer(t *testing.T) {
	pc := newProcCluster(t, build(t), automatic())
	pc.startClient().await("its banner", func(line string) bool { return strings.Contains(line, "type help for the commands") })
	answer, err := pc.client.command("send " + deposit)
	require.NoError(t, err)
	assert.Equal(t, "ok: sent request 1: "+deposit, answer)
	require.NoError(t, pc.start(false))
	assert.Contains(t, awaitOutcome(t, pc.client, 1), "request 1 committed (alice=1)")
}

// A wrong key is said once, clearly, on both sides, and the processes do
// not reconnect in a tight loop.
func TestWrongKeyIsSaidOnce(t *testing.T) {
	pc := startCluster(t, build(t), automatic())
	write(t, pc.dir+"/other.key", "another key\n")
	args := pc.replicaArgs(2)
	for i, a := range args {
		if a == "-key" {
			args[i+1] = pc.dir + "/other.key"
		}
	}
	pc.replicas[2].kill()
	intruder := startProc(t, "P2 with another key", pc.bin, args...)
	intruder.await("the refusal", func(line string) bool { return strings.Contains(line, "different --key files") })
	pc.replicas[0].await("the refusal", func(line string) bool { return strings.Contains(line, "refused P2") })
	// Let it try again a few times: the net counts grow, the lines do not.
	limit := time.Now().Add(waitLimit)
	for pc.netCounts()["P0"]["rejected"] < 3 {
		if time.Now().After(limit) {
			t.Fatalf("P0 counted fewer than 3 refusals within %v", waitLimit)
		}
	}
	assert.Equal(t, 1, strings.Count(pc.replicas[0].output(), "refused P2"), "P0 says it once")
	refusals := 0
	for _, line := range strings.Split(intruder.output(), "\n") {
		if strings.HasPrefix(line, "-- P0 at ") && strings.Contains(line, "it refuses this process") {
			refusals++
		}
	}
	assert.Equal(t, 1, refusals, "P2 says it once of P0")
	intruder.discard()
}

// A request typed while the one before it has no outcome waits in the
// client's queue: PBFT's client has one request outstanding. With two in
// flight, a new primary could order the later one first, and the bank
// would refuse the earlier one as a duplicate it never executed.
func TestClientQueuesARequestUntilTheOneBeforeHasItsOutcome(t *testing.T) {
	pc := startCluster(t, build(t), automatic(), "-tick", "10ms")
	for _, id := range []lab.ID{2, 3} {
		_, err := pc.replicas[id].command("crash")
		require.NoError(t, err)
	}
	a, b := "account=a,amount=1,operation=deposit", "account=b,amount=1,operation=deposit"
	answer, err := pc.client.command("send " + a)
	require.NoError(t, err)
	assert.Equal(t, "ok: sent request 1: "+a, answer)
	pc.client.await("a resend", func(line string) bool { return strings.HasPrefix(line, "-- request 1 unanswered") })
	for _, id := range []lab.ID{2, 3} {
		_, err := pc.replicas[id].command("recover")
		require.NoError(t, err)
	}
	answer, err = pc.client.command("send " + b)
	require.NoError(t, err)
	if answer != "ok: sent request 2: "+b { // request 1 may have its outcome already
		assert.Equal(t, "ok: queued: request 2: "+b+" (sent when the request before it has its outcome)", answer)
	}
	assert.Contains(t, awaitOutcome(t, pc.client, 1), "request 1 committed (a=1)")
	assert.Contains(t, awaitOutcome(t, pc.client, 2), "request 2 committed (b=1)")
	pc.until(0, "both deposits", func(st lab.Status, b map[string]int) bool { return b["a"] == 1 && b["b"] == 1 })
}
