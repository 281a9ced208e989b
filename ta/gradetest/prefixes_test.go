package gradetest

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/grader/driver"
	"pbftlab/internal/cmdline"
	"pbftlab/script"
	"pbftlab/ta/skelgen"
)

// A student works through the phases in the handout's order. At every
// point on that path (nothing done, then each phase in turn) the tree made
// of the reference's regions for the phases done and the skeleton's stubs
// for the rest must grade cleanly: every spec passes or fails by
// assertion, none is stuck, crashed or panicking because of a stub. And
// the phases a spec names are the truth: every spec that names no phase
// after the last one done passes, which is what `make phase` promises.
func TestEveryPhasePrefixGradesCleanly(t *testing.T) {
	root := Root(t)
	work, err := os.MkdirTemp(root, "_prefixes-") // inside the module, so the build cache serves the kit
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(work) })
	rel, err := filepath.Rel(root, work)
	require.NoError(t, err)

	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PREFIX\tSCORE\tROBUSTNESS\tSTATES\tTIME")
	for k := 0; k <= len(script.Phases()); k++ {
		done := script.Phases()[:k]
		name := "nothing done"
		if k > 0 {
			name = "up to " + done[k-1]
		}
		to := filepath.ToSlash(filepath.Join(rel, fmt.Sprintf("p%d", k), "skeleton"))
		files, err := skelgen.Generate(skelgen.Options{Root: root, From: "solution", To: to, Fill: done})
		require.NoError(t, err, name)
		require.NoError(t, files.Write(filepath.Join(root, filepath.FromSlash(to))), name)

		reports := filepath.Join(t.TempDir(), "reports")
		var stdout, stderr bytes.Buffer
		start := time.Now()
		code := driver.Command([]string{"-tree", to, "-reports", reports}, &stdout, &stderr)
		took := time.Since(start)
		out := stdout.String() + stderr.String()
		require.Contains(t, []int{cmdline.ExitOK, cmdline.ExitFailed}, code, "%s: the grade did not run:\n%s", name, out)

		sc := Score(t, reports)
		states := map[string]int{}
		for _, row := range sc.Cases {
			states[row.State]++
			assert.Contains(t, []string{"passed", "failed"}, row.State, "%s: %s\n%s", name, row.Name, row.Message)
			for _, sign := range []string{"did not return within", "panicked in", "process died", "did not finish"} {
				assert.NotContains(t, row.Message, sign, "%s: %s is not failed by an assertion", name, row.Name)
			}
			if needsOnly(row.Phases, done) {
				assert.Equal(t, "passed", row.State, "%s: %s names only phases done (%s), so it must pass:\n%s", name, row.Name, strings.Join(row.Phases, ", "), row.Message)
			}
		}
		var st []string
		for _, s := range slices.Sorted(maps.Keys(states)) {
			st = append(st, fmt.Sprintf("%d %s", states[s], s))
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%d/%d\t%s\t%s\n", name, sc.LabScore, sc.LabMax, sc.RobScore, sc.RobMax, strings.Join(st, ", "), took.Round(100*time.Millisecond))
	}
	tw.Flush()
	t.Logf("the tree after each prefix of the phases, graded:\n%s", table.String())
}

// needsOnly reports whether every phase the spec names is among done.
func needsOnly(phases, done []string) bool {
	for _, p := range phases {
		if !slices.Contains(done, p) {
			return false
		}
	}
	return true
}
