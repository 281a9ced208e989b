package e2e

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
	"pbftlab/script"
)

// seedTranscript is the seed's Cases 1, 2, 4 and 5 as a student pastes
// them, one after the other on one cluster as in class: the primary's
// two-line tx, the notes in parentheses, the crashed P3's ack. Only the
// scan's slips are corrected (Pl, PO, l00, lines run together).
const seedTranscript = `client: send account=alice,amount=100,operation=deposit
P0 (primary): tx
P0 (primary): account=alice,amount=100,operation=deposit
P1 (replica): prepare yes
P2 (replica): prepare yes
P3 (replica, Byzantine): prepare to P0 yes
P3 (replica, Byzantine): prepare to P1 yes
P3 (replica, Byzantine): prepare to P2 yes
P0 (primary), P1 (replica), P2 (replica), P3 (replica, Byzantine): progress
P0 (primary), P1 (replica), P2 (replica): ack commit
P3 (replica, Byzantine): ack to P0 commit
P3 (replica, Byzantine): ack to P1 commit
P3 (replica, Byzantine): ack to P2 commit
P0 (primary), P1 (replica), P2 (replica), P3 (replica, Byzantine): progress
P0 (primary): status
client: send account=alice,amount=20,operation=withdraw
P0 (primary): tx
P0 (primary): account=alice,amount=20,operation=withdraw
P1 (replica): prepare yes
P2 (replica): prepare yes
P3 (replica, Byzantine): prepare to P0 yes
P3 (replica, Byzantine): prepare to P1 no
P3 (replica, Byzantine): prepare to P2 no
P0 (primary), P1 (replica), P2 (replica), P3 (replica, Byzantine): progress
P0 (primary), P1 (replica), P2 (replica): ack commit
P3 (replica, Byzantine): ack to P0 commit
P3 (replica, Byzantine): ack to P1 abort
P3 (replica, Byzantine): ack to P2 abort
P0 (primary), P1 (replica), P2 (replica), P3 (replica, Byzantine): progress
P0(primary): status
client: send account=alice,amount=100,operation=withdraw
P0 (primary): tx
P0 (primary): account=alice,amount=100,operation=withdraw
P1(replica): prepare yes
P2 (replica): prepare yes
P3 (replica, Byzantine): prepare to P0 yes
P3 (replica, Byzantine): prepare to P1 yes
P3 (replica, Byzantine): prepare to P2 yes
P0 (primary),P1 (replica), P2 (replica), P3 (replica, Byzantine): progress
P0 (primary): ack commit
P1 (replica): ack abort
P2 (replica): ack abort
P3 (replica, Byzantine): ack to P0 commit
P3 (replica, Byzantine): ack to P1 commit
P3 (replica, Byzantine): ack to P2 commit
P0 (primary), P1 (replica), P2 (replica), P3 (replica, Byzantine): progress
P0 (primary): status
P3 (replica, Byzantine): crash
client: account=alice,amount=100,operation=deposit
P0 (primary): tx
P0(primary): account=alice,amount=100,operation=deposit
P1 (replica): prepare yes
P2 (replica): prepare yes
P0 (primary), P1 (replica), P2 (replica): progress
P0 (primary): ack commit
P2 (replica): ack commit
P3 (replica): ack commit
P0 (primary), P1 (replica), P2 (replica): progress
P0 (primary): status
P3(replica, Byzantine): recover
`

// The outcomes of the four cases played in a row with the seed's very
// keystrokes: 100, then 80, then 80 again (the conflict aborts: at most
// two commit acks), and the deposit of Case 5 aborts too: in the seed's
// transcript P1 never acks, the crashed P3's ack goes nowhere, and P0's
// and P2's are two, short of 2f+1. The original committed it by counting
// the primary twice; the case file, which has P1 ack, commits it.
var seedOutcomes = []string{"committed (alice=100)", "committed (alice=80)", "aborted", "aborted"}

// seedBalance is alice's balance at every replica at the end.
const seedBalance = 80

// The transcript pasted into pbft cluster --manual: every line accepted,
// and the outcomes of the lab.
func TestSeedTranscriptInTheClusterConsole(t *testing.T) {
	pc := newProcCluster(t, build(t), automatic())
	args := slices.Concat([]string{"cluster", "-manual", "-tick", "0", "-logs=false", "-dir", pc.dir + "/checkpoints"}, pc.common)
	var out *proc
	for attempt := 1; ; attempt++ {
		out = startProc(t, "cluster", pc.bin, args...)
		_, err := out.tryAwait("its banner", func(line string) bool { return strings.Contains(line, "type help for the commands") })
		if err == nil {
			break
		}
		out.discard()
		if attempt == 3 {
			t.Fatal(err)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(seedTranscript), "\n") {
		out.type_(line)
	}
	out.type_("status")
	out.type_("client: net")
	got := out.await("the client's net report", func(line string) bool { return strings.HasPrefix(line, "client: messages: ") })
	text := strings.Join(got, "\n")
	for _, line := range got {
		assert.NotContains(t, line, "error:", "every line is accepted")
	}
	assert.Equal(t, 4, strings.Count(text, "ok: data> "), "each data line names the request ordered")
	for i, want := range seedOutcomes {
		assert.Contains(t, text, fmt.Sprintf("  request %d client#", i+1), "the client's status")
		assert.Regexp(t, fmt.Sprintf(`(?m)^  request %d client#\d+ \S+: %s`, i+1, regexpQuote(want)), text)
	}
	for i := range 4 {
		assert.Contains(t, text, fmt.Sprintf("P%d: view 0, primary P0, executed up to n4", i))
	}
	if t.Failed() {
		t.Log(text)
	}
}

// The same transcript typed at five processes, each line at the consoles
// it names.
func TestSeedTranscriptInFiveTerminals(t *testing.T) {
	c := automatic()
	c.Manual = true
	pc := startCluster(t, build(t), c)
	answers := typeAtConsoles(t, pc, strings.Split(strings.TrimSpace(seedTranscript), "\n"))
	for name, answer := range answers {
		assert.NotContains(t, answer, "error:", "%s refused a line of the transcript", name)
	}
	for i, want := range seedOutcomes {
		r, ok := pc.clientRequest(i + 1)
		require.True(t, ok)
		assert.Equal(t, want != "aborted", r.committed, "request %d: %s", i+1, want)
	}
	for i := range 4 {
		st, b, err := pc.status(lab.ID(i))
		require.NoError(t, err)
		assert.Equal(t, 4, st.LastExecuted, "P%d", i)
		assert.Equal(t, seedBalance, b["alice"], "P%d", i)
	}
}

// regexpQuote quotes the parentheses of an outcome for a pattern.
func regexpQuote(s string) string {
	return strings.NewReplacer("(", `\(`, ")", `\)`).Replace(s)
}

// transcript is the lines of case files as a student types them, each
// "TARGETS: COMMAND" as the file writes it: the steps, not the headers
// or the expectations.
func transcript(t *testing.T, files ...string) []string {
	t.Helper()
	var lines []string
	for _, name := range files {
		c := readCase(t, name)
		text, err := os.ReadFile(c.File)
		require.NoError(t, err)
		raw := strings.Split(string(text), "\n")
		for _, st := range c.Steps {
			if st.Action != script.Assert {
				lines = append(lines, strings.TrimSpace(raw[st.Line-1]))
			}
		}
	}
	return lines
}

// Cases 1 and 2 typed as LAB.md gives them, with automatic votes: the
// primary has ordered the client's request when it arrived, so the tx of
// the transcript names that request and the operation line after it is
// checked against it, not ordered a second time. Alice ends at 100, then
// 80, not 200, and each case executes one request.
func TestLabTranscriptWithAutomaticVotes(t *testing.T) {
	cases := []struct {
		file     string
		executed int
		alice    int
	}{
		{"case1_deposit.case", 1, 100},
		{"case2_withdraw.case", 2, 80},
	}
	t.Run("five terminals", func(t *testing.T) {
		pc := startCluster(t, build(t), automatic())
		for _, cs := range cases {
			answers := typeAtConsoles(t, pc, transcript(t, cs.file))
			assert.Contains(t, answers["P0"], "was already ordered as n"+fmt.Sprint(cs.executed)+" when it arrived (automatic votes)", cs.file)
			assert.Contains(t, answers["P0"], "not sent again", cs.file)
			for i := range 3 {
				st, b, err := pc.status(lab.ID(i))
				require.NoError(t, err)
				assert.Equal(t, cs.executed, st.LastExecuted, "%s: P%d executes one request per case", cs.file, i)
				assert.Equal(t, cs.alice, b["alice"], "%s: P%d", cs.file, i)
			}
			r, ok := pc.clientRequest(cs.executed)
			require.True(t, ok, cs.file)
			assert.True(t, r.committed, cs.file)
		}
	})
	t.Run("cluster", func(t *testing.T) {
		pc := newProcCluster(t, build(t), automatic())
		args := slices.Concat([]string{"cluster", "-tick", "0", "-logs=false", "-dir", pc.dir + "/checkpoints"}, pc.common)
		out := startClusterProc(t, pc, args)
		for _, cs := range cases {
			for _, line := range transcript(t, cs.file) {
				out.type_(line)
			}
			out.type_("status")
			out.type_("client: net")
			got := out.await("the client's net report", func(line string) bool { return strings.HasPrefix(line, "client: messages: ") })
			text := strings.Join(got, "\n")
			assert.Contains(t, text, fmt.Sprintf("P0: ok: tx: %s", strings.TrimPrefix(transcript(t, cs.file)[0], "client: send ")), cs.file)
			assert.Contains(t, text, "not sent again", cs.file)
			for i := range 3 {
				assert.Contains(t, text, fmt.Sprintf("P%d: view 0, primary P0, executed up to n%d", i, cs.executed), cs.file)
			}
			assert.Regexp(t, fmt.Sprintf(`(?m)^  balances: alice=%d$`, cs.alice), text, cs.file)
			assert.NotRegexp(t, `(?m)^  balances: alice=(200|60)$`, text, cs.file)
			if t.Failed() {
				t.Log(text)
			}
		}
	})
}

// startClusterProc starts pbft cluster with args, on other ports when
// another program took one of pc's.
func startClusterProc(t *testing.T, pc *procCluster, args []string) *proc {
	t.Helper()
	for attempt := 1; ; attempt++ {
		out := startProc(t, "cluster", pc.bin, args...)
		_, err := out.tryAwait("its banner", func(line string) bool { return strings.Contains(line, "type help for the commands") })
		if err == nil {
			return out
		}
		out.discard()
		if attempt == 3 {
			t.Fatal(err)
		}
	}
}

// typeAtConsoles types each transcript line at the consoles it names and
// waits for the network to settle after it. It returns what each process
// printed in answer, by name.
func typeAtConsoles(t *testing.T, pc *procCluster, lines []string) map[string]string {
	t.Helper()
	answers := map[string]string{}
	for _, line := range lines {
		left, command, _ := strings.Cut(line, ":")
		var targets []*proc
		if strings.HasPrefix(strings.TrimSpace(left), "client") {
			targets = []*proc{pc.client}
		} else {
			st, err := script.ParseStep(left, "status")
			require.NoError(t, err, line)
			for _, id := range st.Targets {
				targets = append(targets, pc.replicas[id])
			}
		}
		for _, p := range targets {
			p.type_(strings.TrimSpace(command))
			p.type_("net")
			answers[p.name] += strings.Join(p.await("net report", isCounts), "\n") + "\n"
		}
		pc.settle()
	}
	return answers
}
