package script

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// sends is n deposits to alice, one a line.
func sends(n int) string {
	return strings.Repeat("client: send account=alice,amount=1,operation=deposit\n", n)
}

func TestParseRefusesExpectationsOutOfReach(t *testing.T) {
	const never = "can never hold: "
	tests := []struct {
		name    string
		headers string
		body    string
		err     string // "" when the case parses
	}{
		{"executed what was sent", "", sends(1) + "expect P0: executed 1\n", ""},
		{"executed more than was sent", "", sends(1) + "expect P0: executed 5\n",
			`x.case:6: "executed 5" ` + never + "at most 1 request is ordered before this line, each at one sequence number, so none reaches n5; only a view change adds null requests, and no step before this line can change the view (a view change, a tick, a forgery or a lie)"},
		{"executed more than was sent, with ticks", "", sends(1) + "tick: 10\nexpect P0: executed 5\n", ""},
		{"executed more than was sent, with a view change", "", sends(1) + "P1, P2, P3: view change\nexpect P0: executed 5\n", ""},
		{"executed an operation typed at the primary", "", sends(1) + "P0: tx account=bob,amount=1,operation=deposit\nexpect P0: executed 2\n", ""},
		{"a check of more than was sent so far", "", sends(1) + "check P0: executed 2\n" + sends(1) + "expect P0: executed 2\n", `x.case:6: "executed 2" ` + never + "at most 1 request is ordered"},

		{"a stable checkpoint off the default interval", "", sends(1) + "expect P0: stable checkpoint 7\n",
			`x.case:6: "stable checkpoint 7" ` + never + "checkpoints are taken every 100 sequence numbers (the default, without a checkpoint-interval header), and no step takes one elsewhere (the primary's checkpoint command, a forgery or a lie)"},
		{"a stable checkpoint off the interval", "checkpoint-interval: 5\n", sends(7) + "expect P0: stable checkpoint 7\n", "x.case:13: \"stable checkpoint 7\" " + never + "checkpoints are taken every 5 sequence numbers (the checkpoint-interval header)"},
		{"a stable checkpoint on the interval", "checkpoint-interval: 7\n", sends(7) + "expect P0: stable checkpoint 7\n", ""},
		{"a stable checkpoint the primary asked for", "checkpoint-interval: 5\n", sends(7) + "P0: checkpoint\nexpect P0: stable checkpoint 7\n", ""},
		{"a stable checkpoint a liar claims", "byzantine: P3\ncheckpoint-interval: 5\n", "P3: lie in state replies checkpoint n7\n" + sends(7) + "expect P0: stable checkpoint 7\n", ""},
		{"a stable checkpoint above what was sent", "checkpoint-interval: 5\n", sends(7) + "expect P0: stable checkpoint 10\n", "\"stable checkpoint 10\" " + never + "at most 7 requests are ordered"},
		{"no stable checkpoint", "", sends(1) + "expect P0: stable checkpoint 0\n", ""},
		{"more stable checkpoints than intervals", "checkpoint-interval: 5\n", sends(14) + "expect P0: stable checkpoints 3\n",
			"\"stable checkpoints 3\" " + never + "at most 14 requests are ordered before this line and a checkpoint is taken every 5 sequence numbers (the checkpoint-interval header), so at most 2 become stable"},
		{"as many stable checkpoints as intervals", "checkpoint-interval: 5\n", sends(14) + "expect P0: stable checkpoints 2\n", ""},

		{"a null request in view 0", "", sends(1) + "expect P0: null request at n1\n", "\"null request at n1\" " + never + "a null request fills a gap in a new view"},
		{"a null request after a view change", "", sends(1) + "P1, P2, P3: view change\nexpect P0: null request at n1\n", ""},
		{"a later view with nothing to change it", "", sends(1) + "expect P1: view 1 primary P1\n", "\"view 1 primary P1\" " + never + "no step before this line can change the view"},
		{"a check of a later view before the view change", "", "check P1: view 1 primary P1\nP1, P2, P3: view change\nexpect P1: view 1 primary P1\n", "x.case:5: \"view 1 primary P1\" " + never},
		{"ticks until a later view", "", "tick: until P1: view 1 primary P1, at most 100\nexpect P1: view 1 primary P1\n", ""},
		{"not in a later view", "", sends(1) + "expect P1: not in view 1\n", ""},
		{"a request decided in a later view", "", sends(1) + "expect P1: request 1 committed in view 1\n", "\"request 1 committed in view 1\" " + never + "no step"},
		{"a request decided above what was sent", "", sends(1) + "expect P1: request 1 committed at n3\n", "\"request 1 committed at n3\" " + never + "at most 1 request is ordered"},

		{"a balance of an account no request names", "", sends(1) + "expect P0: balance bob=5\n", `"balance bob=5" ` + never + `no request before this line names account "bob", so it keeps its opening balance, bob=0`},
		{"a zero balance of an account no request names", "", sends(1) + "expect P0: balance alice=101 bob=0\n", ""},
		{"a changed opening balance no request touches", "", "client: send account=bob,amount=1,operation=deposit\nexpect P0: balance alice=50\n", `"balance alice=50" ` + never + "no request before this line names account \"alice\", so it keeps its opening balance, alice=100"},
		{"an account named in capitals", "", "client: send account=Bob,amount=5,operation=deposit\nexpect P0: balance bob=5\n", ""},
		{"an account only a forged request names", "byzantine: P0\n", sends(1) + "P0: tx account=bob,amount=5,operation=deposit to P1, P2\nexpect P1: balance bob=5\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErr("title: t\npoints: 1\nphases: prepare\nbalances: alice=100\n" + tt.headers + tt.body)
			if tt.err == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, tt.err)
		})
	}
}
