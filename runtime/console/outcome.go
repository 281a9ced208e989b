package console

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"pbftlab/lab"
)

// OutcomeText says how a request ended in the consoles' one vocabulary:
//
//	committed (alice=100)              executed, and the bank applied it
//	rejected (insufficient funds: ...) executed, and the bank refused it
//	aborted (why)                      the replicas decided not to run it
//
// A replica's Result mixes the three ("rejected: ..." in a committed
// reply, "aborted" in an aborted one); a person reading the client and the
// replicas side by side should meet each word in one sense only.
func OutcomeText(committed bool, result string) string {
	if !committed {
		why := strings.TrimSpace(strings.TrimPrefix(result, "aborted"))
		why = strings.TrimSpace(strings.TrimPrefix(why, ":"))
		if why == "" {
			why = "the votes went against it: more than f prepare no, or short of 2f+1 yes or commit acks"
		}
		return "aborted (" + why + ")"
	}
	for _, prefix := range []string{"rejected:", "duplicate:"} {
		if rest, ok := strings.CutPrefix(result, prefix); ok {
			why := strings.TrimSpace(rest)
			if prefix == "duplicate:" {
				why = "a duplicate, " + why
			}
			return "rejected (" + why + ")"
		}
	}
	return "committed (" + result + ")"
}

// FormatStatus is what status prints at a replica: a head line, the
// balances, the last few decisions (all of them when all is set), and the
// requests still in progress with their votes. Its head line is the one
// the case language's status shows, so scripts read both alike:
//
//	P1: view 1, primary P1, executed up to n3, stable checkpoint n0, watermarks (0, 200]
//	  balances: alice=100
//	  history (last 5 of 7; status all shows every one):
//	    n3 v0 client7000#17000 account=alice,amount=100,operation=deposit: committed (alice=100)
//	  pending n4 v1 client7000#17001 account=...: pre-prepared; prepare yes P1, no none; commit none, abort none
func FormatStatus(st lab.Status, balances map[string]int, all bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: view %d, primary %s", st.ID, st.View, st.Primary)
	if st.ViewChanging {
		b.WriteString(" (view change under way)")
	}
	fmt.Fprintf(&b, ", executed up to n%d, stable checkpoint n%d, watermarks (%d, %d]\n", st.LastExecuted, st.StableSeq, st.Low, st.High)
	b.WriteString("  balances:")
	if len(balances) == 0 {
		b.WriteString(" none")
	}
	for _, k := range slices.Sorted(maps.Keys(balances)) {
		fmt.Fprintf(&b, " %s=%d", k, balances[k])
	}
	b.WriteByte('\n')
	history := st.History
	switch {
	case len(history) == 0:
		b.WriteString("  history: none\n")
	case all || len(history) <= recentDecisions:
		b.WriteString("  history:\n")
	default:
		fmt.Fprintf(&b, "  history (last %d of %d; status all shows every one):\n", recentDecisions, len(history))
		history = history[len(history)-recentDecisions:]
	}
	for _, o := range history {
		fmt.Fprintf(&b, "    n%d v%d %s#%d %s: %s\n", o.Seq, o.View, o.Request.Client, o.Request.Timestamp, o.Request.Op, OutcomeText(o.Committed, o.Result))
	}
	for _, e := range st.Log {
		if e.Executed {
			continue
		}
		fmt.Fprintf(&b, "  pending n%d v%d %s: %s; prepare yes %s, no %s; commit %s, abort %s\n", e.Seq, e.View, requestLabel(e.Request), e.Phase,
			idList(e.PrepareYes), idList(e.PrepareNo), idList(e.CommitYes), idList(e.CommitNo))
	}
	return strings.TrimRight(b.String(), "\n")
}

// recentDecisions is how many decisions status shows: enough to see what
// just happened, few enough that status after a thousand requests still
// fits on a screen.
const recentDecisions = 5

func requestLabel(r *lab.Request) string {
	if r == nil {
		return "null request"
	}
	return fmt.Sprintf("%s#%d %s", r.Client, r.Timestamp, r.Op)
}
