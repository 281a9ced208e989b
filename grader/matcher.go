package grader

import (
	"fmt"

	"github.com/onsi/gomega/types"

	"pbftlab/grader/report"
)

// The spec's one assertion is a Gomega matcher on the seed it played:
//
//	gomega.Expect(p).To(holdEveryExpectation())
//
// The case's own expectations are checked by the case language
// (script/), which `pbft run` also uses on a TCP cluster, where there
// is no Ginkgo; the suite asks only whether they all held, and on failure
// shows the message a student reads (the first expectation that broke,
// the replay command, the transcript), as it is, with nothing added.
func holdEveryExpectation() types.GomegaMatcher { return everyExpectation{} }

type everyExpectation struct{}

func (everyExpectation) Match(actual any) (bool, error) {
	p, ok := actual.(played)
	if !ok {
		return false, fmt.Errorf("holdEveryExpectation matches a played seed, not %T", actual)
	}
	return p.msg == "", nil
}

func (everyExpectation) FailureMessage(actual any) string {
	return report.Bound(actual.(played).msg, maxFailureMessage)
}

// maxFailureMessage bounds a spec's failure message. The transcript in it
// is bounded already; what a replica chose to put in its status and its
// messages (an account name of a megabyte, say) is not, and the message
// travels through the progress file into every report.
const maxFailureMessage = 1 << 20

func (everyExpectation) NegatedFailureMessage(any) string {
	return "expected an expectation of the case to break, and every one held"
}
