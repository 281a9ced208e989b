package script

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseRefusesContradictoryExpectations(t *testing.T) {
	const head = "title: t\npoints: 1\nphases: prepare\nbalances: alice=100\nclient: send account=alice,amount=10,operation=deposit\nclient: send account=alice,amount=10,operation=deposit\nP1, P2, P3: view change\n"
	tests := []struct {
		name    string
		expects string
		err     string // "" when the case parses
	}{
		{"committed and aborted", "expect P0, P1: request 1 committed\nexpect P0: request 1 aborted\n",
			`x.case:9: "request 1 aborted" contradicts line 8 ("request 1 committed") for P0: request 1 cannot end both committed and aborted`},
		{"committed and aborted at different replicas", "expect P0: request 1 committed\nexpect P1: request 1 aborted\n", ""},
		{"committed and aborted, two requests", "expect P0: request 1 committed\nexpect P0: request 2 aborted\n", ""},
		{"the client's committed and not decided", "expect client: request 1 committed\nexpect client: request 1 not decided\n",
			`x.case:9: "request 1 not decided" contradicts line 8 ("request 1 committed") for client: request 1 cannot end both committed and not decided`},
		{"the client's and a replica's outcomes", "expect client: request 1 committed\nexpect P0: request 1 not decided\n", ""},
		{"prepared and not committed", "expect P0: request 1 prepared\nexpect P0: request 1 not committed\n", ""},
		{"prepared and not pre-prepared", "expect P0: request 1 prepared\nexpect P0: request 1 not pre-prepared\n", "request 1 cannot end both prepared and not pre-prepared"},
		{"aborted and not prepared", "expect P0: request 1 aborted\nexpect P0: request 1 not prepared\n", ""},
		{"committed at two sequence numbers", "expect P0: request 1 committed at n1\nexpect P0: request 1 committed at n2\n", "request 1 is decided at one sequence number, not at both n1 and n2"},
		{"committed in two views", "expect P0: request 1 committed in view 0\nexpect P0: request 1 committed in view 1\n", "request 1 is decided in one view, not in both 0 and 1"},
		{"committed, and committed at n2", "expect P0: request 1 committed\nexpect P0: request 1 committed at n2\n", ""},
		{"two balances", "expect P0: balance alice=120\nexpect P0, P1: balance alice=110\n", `x.case:9: "balance alice=110" contradicts line 8 ("balance alice=120") for P0: account alice cannot hold both 120 and 110`},
		{"balances of two accounts", "expect P0: balance alice=120\nexpect P0: balance bob=0\n", ""},
		{"executed twice", "expect P0: executed 1\nexpect P0: executed 2\n", "one replica cannot have both 1 and 2"},
		{"two stable checkpoints", "expect P0: stable checkpoint 0\nexpect P0: stable checkpoint 100\n", "one replica cannot have both 0 and 100"},
		{"two views", "expect P1: no view change\nexpect P1: view 1 primary P1\n", "a replica ends in one view, not in both 0 and 1"},
		{"in a view and not", "expect P1: view 1 primary P1\nexpect P1: not in view 1\n", "a replica cannot both be and not be in view 1"},
		{"in a view and not in another", "expect P1: view 1 primary P1\nexpect P1: not in view 2\n", ""},
		{"a check that a later step changes", "check P0: executed 0\nP0: status\nexpect P0: executed 2\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErr(head + tt.expects)
			if tt.err == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, tt.err)
		})
	}
}
