// Package stress plays every case and robustness spec under many seeds of
// message order, on every core, and keeps the transcripts of the seeds
// that fail.
package stress

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"pbftlab/grader"
	"pbftlab/grader/driver"
	"pbftlab/internal/cmdline"
	"pbftlab/internal/kit"
)

// stressOptions say what to stress and how hard.
type stressOptions struct {
	root    string
	tree    string
	cases   string
	only    string
	seeds   int
	first   string
	reports string // the stress folder
	verbose bool
}

// Command is "pbftlab stress": it plays the chosen cases under many seeds
// and prints a table and each failing seed's replay command. It returns
// the exit code: 1 when a seed failed.
func Command(args []string, stdout, stderr io.Writer) int {
	root, err := kit.Root()
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab stress:", err)
		return cmdline.ExitUsage
	}
	o := stressOptions{root: root}
	fs := cmdline.NewFlags("pbftlab", "stress", "stress [-tree DIR] [-n SEEDS] [-seed FIRST] [-case NAME[,NAME]] [-cases DIR] [-reports DIR] [-v]", stderr)
	fs.StringVar(&o.tree, "tree", driver.DefaultTree(root), "the tree to stress: a folder of the module holding a grade test")
	fs.IntVar(&o.seeds, "n", 100, "seeds per case and robustness spec")
	fs.StringVar(&o.first, "seed", "", "the first seed (default 1)")
	fs.StringVar(&o.only, "case", "", "only these cases or robustness specs, comma-separated")
	fs.StringVar(&o.cases, "cases", filepath.Join(root, "cases"), "the folder of case files")
	fs.StringVar(&o.reports, "reports", filepath.Join(root, "reports", "stress"), "where the results and the transcripts of failing seeds go")
	fs.BoolVar(&o.verbose, "v", false, "print the transcript of each failing seed kept")
	if code, ok := cmdline.ParseNone("pbftlab", fs, args); !ok {
		return code
	}
	if o.seeds < 1 {
		fmt.Fprintln(stderr, "pbftlab stress: -n must be at least 1")
		return cmdline.ExitUsage
	}
	for _, p := range []*string{&o.cases, &o.reports} {
		if *p, err = filepath.Abs(*p); err != nil {
			fmt.Fprintln(stderr, "pbftlab stress:", err)
			return cmdline.ExitUsage
		}
	}
	// The tree as the module names it, for go test and the replay lines.
	if o.tree, err = driver.TreePackage(driver.Options{Root: o.root, Tree: o.tree}); err != nil {
		fmt.Fprintln(stderr, "pbftlab stress:", err)
		return cmdline.ExitUsage
	}
	rep, err := stress(o, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab stress:", err)
		return cmdline.ExitUsage
	}
	printStress(stdout, o, rep)
	for _, t := range rep.Targets {
		if t.Failures > 0 || t.Stuck {
			return cmdline.ExitFailed
		}
	}
	return cmdline.ExitOK
}

// stress runs the tree's grade test in stress mode and reads its report.
func stress(o stressOptions, progress io.Writer) (grader.StressReport, error) {
	var rep grader.StressReport
	cases, err := grader.LoadCases(o.cases)
	if err != nil {
		return rep, err
	}
	only := ""
	if o.only != "" {
		if only, err = driver.CaseList(cases, o.only); err != nil {
			return rep, fmt.Errorf("%w in %s", err, o.cases)
		}
	}
	// The folder holds the latest run only: transcripts of an earlier one
	// would pass for failures of this one.
	if err := os.RemoveAll(o.reports); err != nil {
		return rep, err
	}
	if err := os.MkdirAll(o.reports, 0o755); err != nil {
		return rep, err
	}
	seeds := "seeds"
	if o.seeds == 1 {
		seeds = "seed"
	}
	fmt.Fprintf(progress, "stressing %s: %d %s per case on %d cores\n", o.tree, o.seeds, seeds, runtime.NumCPU())
	// -v, so that go test passes the progress lines on as they come.
	cmd := exec.Command("go", "test", "-v", "-count=1", "-timeout=0", "-run=^TestGrade$", "./"+o.tree)
	cmd.Dir = o.root
	st := grader.DefaultSettings()
	st.Cases = o.cases
	st.Stress = &grader.StressSettings{Seeds: o.seeds, Dir: o.reports, Tree: o.replayTree()}
	if st.Seed, _, err = driver.SeedsOf(o.first, "", st); err != nil {
		return rep, err
	}
	if only != "" {
		st.Stress.Only = strings.Split(only, ",")
	}
	cmd.Env = append(os.Environ(), st.Env())
	var out bytes.Buffer
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	copied := make(chan struct{})
	go func() {
		// The progress lines go to the terminal; everything goes to out, for
		// when the run goes wrong.
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			out.WriteString(line + "\n")
			if strings.HasPrefix(line, "stress: ") {
				fmt.Fprintln(progress, line)
			}
		}
		close(copied)
	}()
	runErr := cmd.Run()
	pw.Close()
	<-copied
	if runErr != nil && !errors.As(runErr, new(*exec.ExitError)) {
		return rep, fmt.Errorf("running go test: %w", runErr)
	}
	data, err := os.ReadFile(filepath.Join(o.reports, grader.StressFile))
	if err != nil {
		return rep, fmt.Errorf("the stress run left no results (the tree did not build, or its test process died):\n%s", grader.Tail(out.String(), 40))
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		return rep, fmt.Errorf("reading %s: %w", grader.StressFile, err)
	}
	return rep, nil
}

// printStress shows the table, the totals and, for every failing seed
// kept, how to replay it.
func printStress(w io.Writer, o stressOptions, rep grader.StressReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tNETWORK\tRUNS\tFAILURES\tTIME")
	runs, failures := 0, 0
	var busy time.Duration
	for _, t := range rep.Targets {
		state := fmt.Sprint(t.Failures)
		if t.Stuck {
			state += " (stuck)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", t.Name, t.Networks, t.Runs, state, t.Time.Round(time.Millisecond))
		runs += t.Runs
		failures += t.Failures
		busy += t.Time
	}
	tw.Flush()
	rate := 0.0
	if rep.Wall > 0 {
		rate = float64(runs) / rep.Wall.Seconds()
	}
	fmt.Fprintf(w, "Runs: %d, failures: %d, in %s on %d workers (%.0f runs/s)\n", runs, failures, rep.Wall.Round(time.Millisecond), rep.Workers, rate)
	if failures == 0 {
		return
	}
	fmt.Fprintf(w, "\nFailing seeds (transcripts in %s):\n", o.reports)
	for _, t := range rep.Targets {
		for _, f := range t.Failed {
			fmt.Fprintf(w, "\n--- %s, seed %d (%s)\n%s\nreplay: %s\n", t.Name, f.Seed, f.Network, indentLines(grader.Head(f.Message, 6)), grader.StressReplay(o.replayTree(), o.cases, t.Name, f.Seed))
			if f.Transcript != "" {
				fmt.Fprintf(w, "transcript: %s\n", filepath.Join(o.reports, f.Transcript))
				if o.verbose {
					if data, err := os.ReadFile(filepath.Join(o.reports, f.Transcript)); err == nil {
						fmt.Fprintf(w, "%s\n", data)
					}
				}
			}
		}
		if left := t.Failures - len(t.Failed); left > 0 {
			fmt.Fprintf(w, "\n(%s: %d more failing seeds not kept)\n", t.Name, left)
		}
	}
}

// replayTree is the tree a replay command names, as the suite's
// transcripts and the table's lines both name it: none when make stress
// would take it anyway (see driver.Options.settings).
func (o stressOptions) replayTree() string {
	if o.tree == driver.DefaultTree(o.root) {
		return ""
	}
	return o.tree
}

func indentLines(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }
