package driver

import (
	"strings"

	"pbftlab/grader/report"
)

// failureText is what the terminal shows of a spec that did not pass: the
// first thing that differed from what the case expects, and the command
// that replays it, a line each. A student acts on those two; the whole
// message, with the transcript, is in the reports, which the grade names
// once under the list. byName is the command that reruns the spec when its
// message names none (its process died before it could).
func failureText(msg, byName string) string {
	var b strings.Builder
	b.WriteString("  " + report.FirstProblem(msg) + "\n")
	for line := range strings.SplitSeq(msg, "\n") {
		if cmd, ok := strings.CutPrefix(strings.TrimSpace(line), "reproduce: "); ok {
			b.WriteString("  replay: " + cmd + "\n")
			return b.String()
		}
	}
	if byName != "" {
		b.WriteString("  replay: " + byName + "\n")
	}
	return b.String()
}
