package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"pbftlab/lab"
)

// What script.FormatStatus prints, read back:
//
//	P1: view 1, primary P1 (view change under way), executed up to n3, stable checkpoint n0, watermarks (0, 200]
//	  balances: alice=100
//	  history:
//	    n1 v0 client7000#17000 account=alice,amount=100,operation=deposit: committed (alice=100)
//	  pending n2 v0 null request: pre-prepared; prepare yes P0, no none; commit none, abort none
var (
	headRE    = regexp.MustCompile(`^(P\d+): view (\d+), primary (P\d+)( \(view change under way\))?, executed up to n(\d+), stable checkpoint n(\d+), watermarks \((\d+), (\d+)\]$`)
	historyRE = regexp.MustCompile(`^    n(\d+) v(\d+) (\S+)#(-?\d+) (.*): (committed|rejected|aborted) \((.*)\)$`)
	pendingRE = regexp.MustCompile(`^  pending n(\d+) v(\d+) (?:null request|(\S+)#(-?\d+) (\S.*?)): `)
)

// parseStatus reads a status report into the Status and balances it shows.
func parseStatus(lines []string) (lab.Status, map[string]int, error) {
	var st lab.Status
	balances := map[string]int{}
	if len(lines) == 0 {
		return st, nil, fmt.Errorf("no status report")
	}
	m := headRE.FindStringSubmatch(lines[0])
	if m == nil {
		return st, nil, fmt.Errorf("cannot read the status line %q", lines[0])
	}
	st.ID, _ = lab.ParseID(m[1])
	st.View = atoi(m[2])
	st.Primary, _ = lab.ParseID(m[3])
	st.ViewChanging = m[4] != ""
	st.LastExecuted, st.StableSeq, st.Low, st.High = atoi(m[5]), atoi(m[6]), atoi(m[7]), atoi(m[8])
	for _, line := range lines[1:] {
		switch {
		case strings.HasPrefix(line, "  balances:"):
			for item := range strings.FieldsSeq(strings.TrimPrefix(line, "  balances:")) {
				if k, v, ok := strings.Cut(item, "="); ok {
					balances[k] = atoi(v)
				}
			}
		case historyRE.MatchString(line):
			h := historyRE.FindStringSubmatch(line)
			ts, _ := strconv.ParseInt(h[4], 10, 64)
			st.History = append(st.History, lab.Outcome{
				Seq: atoi(h[1]), View: atoi(h[2]),
				Request:   lab.Request{Client: h[3], Timestamp: ts, Op: h[5]},
				Committed: h[6] != "aborted", Result: h[7],
			})
		case pendingRE.MatchString(line):
			p := pendingRE.FindStringSubmatch(line)
			e := lab.Entry{Seq: atoi(p[1]), View: atoi(p[2])}
			if p[3] != "" {
				ts, _ := strconv.ParseInt(p[4], 10, 64)
				e.Request = &lab.Request{Client: p[3], Timestamp: ts, Op: p[5]}
			}
			st.Log = append(st.Log, e)
		}
	}
	// The log holds what ran above the stable checkpoint too, not only
	// what is pending: status shows those in the history.
	var executed []lab.Entry
	for _, o := range st.History {
		if o.Seq > st.StableSeq {
			req := o.Request
			executed = append(executed, lab.Entry{Seq: o.Seq, View: o.View, Request: &req, Executed: true})
		}
	}
	st.Log = append(executed, st.Log...)
	return st, balances, nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
