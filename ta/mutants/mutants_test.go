package mutants

import (
	"bytes"
	"fmt"
	"go/parser"
	"go/token"
	"path/filepath"
	"testing"

	"pbftlab/script"
	"pbftlab/ta/gradetest"
	"pbftlab/ta/rewrite"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The catalogue stays in step with the reference: every mutant names a
// phase, applies exactly where it says and leaves Go that parses.
func TestMutantCatalogueFitsTheReference(t *testing.T) {
	root := gradetest.Root(t)
	o := mutantOptions{root: root, dir: filepath.Join(root, catalogue)}
	mutants, err := loadMutants(o)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(mutants), 15)
	phases := map[string]int{}
	for _, m := range mutants {
		assert.NotEmpty(t, m.About, "%s says what bug it plants", m.Name)
		phases[m.Fields["phase"]]++
		changed, err := m.ApplyTo(rewrite.ReadUnder(root))
		require.NoError(t, err)
		for file, src := range changed {
			_, err := parser.ParseFile(token.NewFileSet(), file, src, parser.SkipObjectResolution)
			assert.NoError(t, err, "%s leaves %s unparsable", m.Name, file)
		}
	}
	for _, p := range script.Phases() {
		assert.Positive(t, phases[p], "the catalogue plants a bug in the %s phase", p)
	}

	_, err = loadMutants(mutantOptions{root: root, dir: filepath.Join(root, catalogue), only: "no_such_mutant"})
	assert.ErrorContains(t, err, "no mutant named no_such_mutant")
}

// Every mutant loses points in a spec of its phase: the whole catalogue,
// graded as make mutants grades it, two at a time.
func TestEveryMutantIsKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("grades the reference and every mutant")
	}
	root := gradetest.Root(t)
	var progress bytes.Buffer
	results, err := gradeMutants(mutantOptions{root: root, dir: filepath.Join(root, catalogue), runs: "1", workers: 2}, &progress)
	require.NoError(t, err, progress.String())
	var table bytes.Buffer
	printMutants(&table, results)
	t.Logf("\n%s", table.String())
	for _, r := range results[1:] {
		assert.True(t, r.killed(), "%s: %s", r.rw.Name, r.verdict())
	}
	n := len(results) - 1
	assert.Contains(t, table.String(), fmt.Sprintf("Killed: %d/%d mutants", n, n))
}
