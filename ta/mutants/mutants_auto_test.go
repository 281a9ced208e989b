package mutants

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/internal/cmdline"
	"pbftlab/script"
	"pbftlab/ta/gradetest"
	"pbftlab/ta/mutate"
	"pbftlab/ta/rewrite"
)

// Every generated mutant, written as survivors.txt writes it, is a rewrite
// that plants exactly that mutant: a survivor can be kept in ta/mutants/.
func TestGeneratedMutantsAreRewrites(t *testing.T) {
	root := gradetest.Root(t)
	p, err := mutate.Discover(root, autoTree)
	require.NoError(t, err)
	require.NotEmpty(t, p.Mutants)
	kinds := map[mutate.Kind]int{}
	for _, m := range p.Mutants {
		kinds[m.Kind]++
		text := "# " + m.Describe() + "\nphase: " + m.Phase() + "\n" + p.Hunk(m)
		rw, err := rewrite.Parse(m.ID, []byte(text))
		require.NoError(t, err, text)
		changed, err := rw.ApplyTo(rewrite.ReadUnder(root))
		require.NoError(t, err, text)
		assert.Equal(t, string(p.Apply(m)), string(changed[m.File]), text)
		assert.Contains(t, script.Phases(), m.Phase(), m.ID)
	}
	for _, k := range mutate.Kinds() {
		assert.Positive(t, kinds[k], "the reference has %s mutants", k)
	}
}

func TestSelected(t *testing.T) {
	tests := []struct {
		only, id string
		want     bool
	}{
		{"", "Replica.vote:delete:abc123", true},
		{"Replica.vote:delete:abc123", "Replica.vote:delete:abc123", true},
		{"x, Replica.vote:delete:abc123", "Replica.vote:delete:abc123", true},
		{"Replica.vote:*", "Replica.vote:delete:abc123", true},
		{"*:quorum:*", "Replica.vote:delete:abc123", false},
		{"Replica.vote:delete:abc12", "Replica.vote:delete:abc123", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, selected(tt.only, tt.id), "%q selects %q", tt.only, tt.id)
	}
}

// fakeMutant is a mutant as the table and report read it.
func fakeMutant(t *testing.T, id string, phases ...string) *mutate.Mutant {
	t.Helper()
	return &mutate.Mutant{ID: id, Phases: phases, File: "solution/x.go", Line: 1, Func: "f", Kind: mutate.Negate, Old: "a", New: "!a"}
}

func TestAutoVerdictsAndTable(t *testing.T) {
	results := []autoResult{
		{m: fakeMutant(t, "k1", "prepare"), inPhase: []string{"case3"}},
		{m: fakeMutant(t, "k2", "prepare", "commit"), inPhase: []string{"case5"}},
		{m: fakeMutant(t, "e1", "prepare"), others: []string{"case9"}},
		{m: fakeMutant(t, "s1", "commit")},
		{m: fakeMutant(t, "q1", "commit"), equivalent: "the helper checks it again"},
		{m: fakeMutant(t, "q2", "commit"), equivalent: "wrongly listed", inPhase: []string{"case4"}},
		{m: fakeMutant(t, "n1", "checkpoint"), err: errors.New("boom")},
	}
	want := []autoVerdict{verdictKilled, verdictKilled, verdictElsewhere, verdictSurvived, verdictEquivalent, verdictKilled, verdictNotGraded}
	for i, r := range results {
		assert.Equal(t, want[i], r.verdict(), r.m.ID)
	}
	// Killed in phase: k1, k2, q2 of the six not listed as equivalent.
	assert.InDelta(t, 50.0, killRate(results), 0.01)
	assert.InDelta(t, 100.0, killRate(nil), 0.01)

	var out bytes.Buffer
	printAutoTable(&out, results)
	lines := strings.Split(out.String(), "\n")
	row := func(name string) []string {
		for _, l := range lines {
			if f := strings.Fields(l); len(f) > 0 && f[0] == name {
				return f[1:]
			}
		}
		return nil
	}
	assert.Equal(t, []string{"3", "2", "1", "0", "0", "0", "66.7%"}, row("prepare"))
	assert.Equal(t, []string{"3", "1", "0", "1", "1", "0", "50.0%"}, row("commit"))
	assert.Equal(t, []string{"1", "0", "0", "0", "0", "1", "0.0%"}, row("checkpoint"))
	assert.Equal(t, []string{"7", "3", "1", "1", "1", "1", "50.0%"}, row("total"))
	assert.Contains(t, out.String(), "3 mutants no spec of their phase kills")
	assert.Contains(t, out.String(), "q2 is listed as equivalent, yet killed by case4")
}

// The automatic mode end to end on two mutants: the schema of the
// reference builds, earns every point with no mutant on, and each mutant
// gets a verdict; the report lists what survived as rewrites.
func TestAutoModeGradesTheSchema(t *testing.T) {
	root := gradetest.Root(t)
	p, err := mutate.Discover(root, autoTree)
	require.NoError(t, err)
	// A quorum of one more than 2f+1 can never form with f replicas down;
	// the first deletion is whatever the reference holds first.
	var picked []*mutate.Mutant
	for _, k := range []mutate.Kind{mutate.Quorum, mutate.Delete} {
		for _, m := range p.Mutants {
			if m.Kind == k {
				picked = append(picked, m)
				break
			}
		}
	}
	require.Len(t, picked, 2)
	o := mutantOptions{root: root, runs: "1", workers: 2}
	var progress bytes.Buffer
	results, err := gradeAuto(o, p, picked, map[string]string{}, &progress)
	require.NoError(t, err, progress.String())
	require.Len(t, results, 2)
	for _, r := range results {
		assert.NotEqual(t, verdictNotGraded, r.verdict(), r.line())
		assert.Contains(t, progress.String(), r.m.ID)
	}
	dir := t.TempDir()
	require.NoError(t, writeAutoReport(dir, p, results))
	survivors, err := os.ReadFile(filepath.Join(dir, "survivors.txt"))
	require.NoError(t, err)
	for _, r := range results {
		assert.Equal(t, r.verdict() != verdictKilled, strings.Contains(string(survivors), "==== "+r.m.ID+" "), r.m.ID)
	}
	data, err := os.ReadFile(filepath.Join(dir, "results.json"))
	require.NoError(t, err)
	assert.Contains(t, string(data), picked[0].ID)
}

// -list names every generated mutant without grading any.
func TestAutoList(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Command([]string{"-auto", "-list", "-only", "*:quorum:*", "-equivalent", filepath.Join(t.TempDir(), "none.txt")}, &stdout, &stderr)
	require.Equal(t, cmdline.ExitOK, code, stderr.String())
	assert.Contains(t, stdout.String(), ":quorum:")
	assert.NotContains(t, stdout.String(), ":delete:")
	assert.Regexp(t, `\n\d+ mutants\n$`, stdout.String())

	stdout.Reset()
	code = Command([]string{"-auto", "-list", "-only", "no-such-mutant"}, &stdout, &stderr)
	assert.Equal(t, cmdline.ExitUsage, code)
	assert.Contains(t, stderr.String(), `no generated mutant matches "no-such-mutant"`)
}
