package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"pbftlab/script"
)

// The seed's seven cases, typed line by line. With manual votes as the
// case files have them for the first and the view changes; with automatic
// votes for all seven, where the typed votes come after the replicas'
// own and the outcomes are the same (an honest replica votes no on an
// overdraft by itself), and where the view changes typed one replica at a
// time must not overshoot.
var keyboardCases = []struct {
	file   string
	manual bool
}{
	{"case1_deposit.case", true},
	{"case6_view_change.case", true},
	{"case1_deposit.case", false},
	{"case2_withdraw.case", false},
	{"case3_withdraw_fails.case", false},
	{"case4_commit_conflict.case", false},
	{"case5_crash_recovery.case", false},
	{"case6_view_change.case", false},
	{"case7_checkpoint.case", false},
}

// TestKeyboard plays each case on five processes (four replicas and the
// client) started from the command a tree builds, typing every line at the
// consoles it names, and checks the case's check and expect lines against
// what the consoles print for status.
func TestKeyboard(t *testing.T) {
	bin := build(t)
	for _, kc := range keyboardCases {
		mode := map[bool]string{true: "manual", false: "automatic"}[kc.manual]
		t.Run(strings.TrimSuffix(kc.file, ".case")+"/"+mode, func(t *testing.T) {
			c := readCase(t, kc.file)
			c.Manual = kc.manual
			pc := startCluster(t, bin, c)
			var transcript strings.Builder
			failures, err := script.Run(c, pc, func(line string) { transcript.WriteString(line + "\n") })
			if err != nil {
				t.Fatalf("%v\n%s", err, transcript.String())
			}
			for _, f := range failures {
				t.Errorf("%s: %v", kc.file, f)
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

// readCase reads a case file of the kit.
func readCase(t *testing.T, name string) *script.Case {
	t.Helper()
	path := filepath.Join("..", "..", "cases", name)
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := script.Parse(path, string(text))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// built is the pbft command, built once for every test of the package.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// TestMain removes the command built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// build compiles the pbft command of the tree under test (the reference
// unless PBFT_E2E_CMD names another package, as pbftlab/skeleton/cmd/pbft),
// once for the whole package.
func build(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		pkg := os.Getenv("PBFT_E2E_CMD")
		if pkg == "" {
			pkg = "pbftlab/solution/cmd/pbft"
		}
		gotool, err := exec.LookPath("go")
		if err != nil {
			built.err = fmt.Errorf("no go command to build the pbft command with: %w", err)
			return
		}
		if built.dir, built.err = os.MkdirTemp("", "pbft-e2e-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "pbft")
		if out, err := exec.Command(gotool, "build", "-o", built.bin, pkg).CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}
