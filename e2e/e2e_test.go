package e2e

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"pbftlab/lab/script"
)

// The cases played at the keyboard: the normal case, and every primary in
// turn replaced by a view change.
var keyboardCases = []string{"case1_deposit.case", "case6_view_change.case"}

// TestKeyboard plays each case on five processes (four replicas and the
// client) started from the command a tree builds, typing every line at the
// consoles it names, and checks the case's check and expect lines against
// what the consoles print for status.
func TestKeyboard(t *testing.T) {
	bin := build(t)
	for _, name := range keyboardCases {
		t.Run(strings.TrimSuffix(name, ".case"), func(t *testing.T) {
			path := filepath.Join("..", "cases", name)
			text, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				t.Skipf("%s is not in this kit", path)
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := script.Parse(path, string(text))
			if err != nil {
				t.Fatal(err)
			}
			pc := startCluster(t, bin, c)
			var transcript strings.Builder
			failures, err := script.Run(c, pc, func(line string) { transcript.WriteString(line + "\n") })
			if err != nil {
				t.Fatalf("%v\n%s", err, transcript.String())
			}
			for _, f := range failures {
				t.Errorf("%s: %v", path, f)
			}
			if testing.Verbose() {
				t.Logf("transcript:\n%s", transcript.String())
			}
			if t.Failed() {
				t.Logf("transcript:\n%s", transcript.String())
				for _, p := range pc.all() {
					t.Logf("%s printed:\n%s", p.name, p.output())
				}
			}
		})
	}
}

// build compiles the pbft command of the tree under test (the reference
// unless PBFT_E2E_CMD names another package, as pbftlab/skeleton/cmd/pbft)
// into the test's temporary folder.
func build(t *testing.T) string {
	t.Helper()
	pkg := os.Getenv("PBFT_E2E_CMD")
	if pkg == "" {
		pkg = "pbftlab/solution/cmd/pbft"
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the pbft command with")
	}
	bin := filepath.Join(t.TempDir(), "pbft")
	out, err := exec.Command(gotool, "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}
