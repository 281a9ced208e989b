package lab

import (
	"fmt"
	"strings"
)

// Describe renders m on one line, the way transcripts, consoles and
// reports show it: kind, view, sequence number, and what the message says.
func Describe(m Message) string {
	switch m := m.(type) {
	case *Request:
		return fmt.Sprintf("REQUEST %s#%d %s", m.Client, m.Timestamp, m.Op)
	case *PrePrepare:
		if m.Request == nil {
			return fmt.Sprintf("PRE-PREPARE v%d n%d null", m.View, m.Seq)
		}
		if len(m.Batch) > 0 {
			return fmt.Sprintf("PRE-PREPARE v%d n%d batch of %d: %s, ...", m.View, m.Seq, len(m.Batch)+1, m.Request.Op)
		}
		return fmt.Sprintf("PRE-PREPARE v%d n%d %s", m.View, m.Seq, m.Request.Op)
	case *Prepare:
		return fmt.Sprintf("PREPARE v%d n%d %s", m.View, m.Seq, yesNo(m.Yes, "yes", "no"))
	case *Commit:
		return fmt.Sprintf("COMMIT v%d n%d %s", m.View, m.Seq, yesNo(m.Yes, "commit", "abort"))
	case *Reply:
		return fmt.Sprintf("REPLY v%d n%d %s#%d %s %q", m.View, m.Seq, m.Client, m.Timestamp, yesNo(m.Committed, "committed", "aborted"), m.Result)
	case *Checkpoint:
		return fmt.Sprintf("CHECKPOINT n%d d=%s", m.Seq, m.Digest)
	case *ViewChange:
		seqs := make([]string, len(m.Prepared))
		for i, p := range m.Prepared {
			seqs[i] = fmt.Sprint(p.PrePrepare.Seq)
		}
		return fmt.Sprintf("VIEW-CHANGE v%d stable=n%d prepared=[%s]", m.View, m.StableSeq, strings.Join(seqs, " "))
	case *NewView:
		seqs := make([]string, len(m.PrePrepares))
		for i, p := range m.PrePrepares {
			seqs[i] = fmt.Sprint(p.Seq)
			if p.Request == nil {
				seqs[i] += ":null"
			}
		}
		return fmt.Sprintf("NEW-VIEW v%d from %d view changes, pre-prepares=[%s]", m.View, len(m.ViewChanges), strings.Join(seqs, " "))
	case *StateRequest:
		return fmt.Sprintf("STATE-REQUEST #%d", m.Nonce)
	case *StateReply:
		return fmt.Sprintf("STATE-REPLY #%d v%d checkpoint n%d +%d committed", m.Nonce, m.View, m.Checkpoint.Seq, len(m.Committed))
	}
	return fmt.Sprintf("%T", m)
}
