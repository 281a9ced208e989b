package jsonnode

import (
	"strings"

	"pbftlab/lab"
)

// foreignPrefix starts the account name of an operation the bank does not
// understand; see "Operations" in the package comment.
const foreignPrefix = "op:"

var (
	escaper   = strings.NewReplacer("%", "%25", ",", "%2C")
	unescaper = strings.NewReplacer("%25", "%", "%2C", ",")
)

// toBank returns the operation the replica orders for the text a client
// sent: the text itself if it is in the bank's form, otherwise a deposit of
// 1 into an account that spells out the text.
func toBank(op string) string {
	if _, err := lab.ParseOperation(op); err == nil {
		return op
	}
	account := foreignPrefix + escaper.Replace(strings.TrimSpace(op))
	return lab.Operation{Account: account, Amount: 1, Kind: "deposit"}.String()
}

// fromBank undoes toBank: it returns the text the client sent for an
// operation the replicas ordered.
func fromBank(op string) string {
	o, err := lab.ParseOperation(op)
	if err != nil || o.Kind != "deposit" || o.Amount != 1 || !strings.HasPrefix(o.Account, foreignPrefix) {
		return op
	}
	return unescaper.Replace(strings.TrimPrefix(o.Account, foreignPrefix))
}

// phaseName is a log phase as the seed's protocol spells it.
func phaseName(p lab.Phase) string {
	switch p {
	case lab.PhasePrePrepared:
		return "pre-prepare"
	case lab.PhasePrepared:
		return "prepared"
	case lab.PhaseCommitted:
		return "committed"
	case lab.PhaseAborted:
		return "aborted"
	}
	return "none"
}

// placed is where a request stands at a replica.
type placed struct {
	Seq, View int
	Phase     string
}

// findRequest looks for req (by client and timestamp) in the replica's log,
// newest first, then in its history.
func findRequest(st lab.Status, req lab.Request) (placed, bool) {
	for i := len(st.Log) - 1; i >= 0; i-- {
		e := st.Log[i]
		if e.Request != nil && e.Request.Client == req.Client && e.Request.Timestamp == req.Timestamp {
			return placed{Seq: e.Seq, View: e.View, Phase: phaseName(e.Phase)}, true
		}
	}
	for i := len(st.History) - 1; i >= 0; i-- {
		o := st.History[i]
		if o.Request.Client == req.Client && o.Request.Timestamp == req.Timestamp {
			return placed{Seq: o.Seq, View: o.View, Phase: outcomePhase(o)}, true
		}
	}
	return placed{}, false
}

// staleRequest reports whether the replica has executed a request of the
// same client with a later timestamp, which makes req a duplicate that will
// never run, and returns that timestamp.
func staleRequest(st lab.Status, req lab.Request) (int64, bool) {
	for i := len(st.History) - 1; i >= 0; i-- {
		o := st.History[i]
		if o.Request.Client == req.Client && o.Request.Timestamp > req.Timestamp {
			return o.Request.Timestamp, true
		}
	}
	return 0, false
}

func outcomePhase(o lab.Outcome) string {
	if o.Committed {
		return "committed"
	}
	return "aborted"
}

// seqStatus answers pbft_status for seq at a replica in a cluster of n; the
// package comment explains the counts. It leaves Type and InReplyTo empty.
func seqStatus(st lab.Status, n, seq int) statusOK {
	executed := seq <= st.LastExecuted
	for i := len(st.Log) - 1; i >= 0; i-- {
		e := st.Log[i]
		if e.Seq != seq {
			continue
		}
		primary := lab.Primary(e.View, n)
		s := statusOK{Phase: phaseName(e.Phase), CommitsReceived: len(e.CommitYes), Executed: e.Executed || executed}
		for _, id := range e.PrepareYes {
			if id != primary {
				s.PreparesReceived++
			}
		}
		return s
	}
	for i := len(st.History) - 1; i >= 0; i-- {
		if o := st.History[i]; o.Seq == seq {
			if !o.Committed {
				return statusOK{Phase: "aborted", Executed: true}
			}
			return certified(n)
		}
	}
	if seq >= 1 && executed {
		return certified(n)
	}
	return statusOK{Phase: "none"}
}

// certified is the status of a sequence number known to have committed and
// executed after its votes were discarded: the least a commit certificate
// holds, 2f prepares and 2f+1 commits.
func certified(n int) statusOK {
	q := lab.Quorum(n)
	return statusOK{Phase: "committed", PreparesReceived: q - 1, CommitsReceived: q, Executed: true}
}
