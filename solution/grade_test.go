package solution_test

import (
	"testing"

	"pbftlab/grader"
	"pbftlab/solution"
)

// TestGrade grades this tree against the cases.
func TestGrade(t *testing.T) { grader.Run(t, solution.New) }
