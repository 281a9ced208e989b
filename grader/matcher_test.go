package grader

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/onsi/gomega"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// A message a replica filled with its own strings is cut, and says so.
func TestTheMatcherBoundsTheMessage(t *testing.T) {
	var got []string
	g := gomega.NewGomega(func(message string, _ ...int) { got = append(got, message) })
	head := "case1 failed with seed 1\n  line 9, P0: expected balance alice=110, found "
	g.Expect(played{msg: head + strings.Repeat("é", maxFailureMessage)}).To(holdEveryExpectation())
	require.Len(t, got, 1)
	assert.True(t, strings.HasPrefix(got[0], head), "the start, which names what broke, stays")
	assert.LessOrEqual(t, len(got[0]), maxFailureMessage+100)
	assert.True(t, utf8.ValidString(got[0]))
	assert.Contains(t, got[0], " more bytes)", "and says how much it left out")
}
