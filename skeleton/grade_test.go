package skeleton_test

import (
	"testing"

	// The grader builds the suite; importing Ginkgo here is what tells the
	// ginkgo command that this package holds one.
	_ "github.com/onsi/ginkgo/v2"

	"pbftlab/grader"
	"pbftlab/skeleton"
)

// TestGrade grades this tree against the cases.
func TestGrade(t *testing.T) { grader.Run(t, skeleton.New) }
