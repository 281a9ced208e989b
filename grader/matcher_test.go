package grader

import (
	"testing"

	"github.com/onsi/gomega"
	"github.com/stretchr/testify/assert"
)

// A failing seed reaches Ginkgo with its message as it is: what the reports
// lead with is the first line a student would have read before.
func TestTheMatcherPassesTheMessageOnWhole(t *testing.T) {
	var got []string
	g := gomega.NewGomega(func(message string, _ ...int) { got = append(got, message) })
	msg := "case2_withdraw failed with seed 2\n  line 26, P0 (view 0): expected request 1 committed, found aborted\n"
	g.Expect(played{}).To(holdEveryExpectation())
	assert.Empty(t, got, "a seed with no message passes")
	g.Expect(played{msg: msg}).To(holdEveryExpectation())
	assert.Equal(t, []string{msg}, got)
	ok, err := holdEveryExpectation().Match("not a run")
	assert.False(t, ok)
	assert.Error(t, err)
}
