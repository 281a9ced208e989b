// Package bench measures what PERFORMANCE.md reports: grading time (the
// suite, a whole grade, a batch), the simulator on one core and the TCP
// cluster over loopback, as medians of repeated runs.
package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"pbftlab/grader"
	"pbftlab/grader/driver"
	"pbftlab/internal/cmdline"
	"pbftlab/internal/kit"
	"pbftlab/ta/batch"
	"pbftlab/ta/skelgen"
)

// The benchmarks themselves are Go benchmarks beside the code they
// measure (solution/sim_test.go, runtime/tcp/bench_test.go); this command runs
// them a few times, takes the median of each figure, since the machine may
// be shared and a single run can be far off, and prints one table.

type benchOptions struct {
	root  string
	count int
	out   io.Writer // progress and the commands run
}

// Command is "pbftlab bench": it measures and prints the table of
// ta/PERFORMANCE.md, and exits 1 when a figure could not be measured.
func Command(args []string, stdout, stderr io.Writer) int {
	root, err := kit.Root()
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab bench:", err)
		return cmdline.ExitUsage
	}
	o := benchOptions{root: root, out: stderr}
	fs := cmdline.NewFlags("pbftlab", "bench", "bench [-count N]", stderr)
	fs.IntVar(&o.count, "count", 3, "runs of each measurement; the table shows medians")
	if code, ok := cmdline.ParseNone("pbftlab", fs, args); !ok {
		return code
	}
	if o.count < 1 {
		fmt.Fprintln(stderr, "pbftlab bench: -count must be at least 1")
		return cmdline.ExitUsage
	}
	t, err := measure(o)
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab bench:", err)
		return cmdline.ExitFailed
	}
	t.print(stdout)
	if t.batchErr != nil {
		return cmdline.ExitFailed
	}
	return cmdline.ExitOK
}

// table holds every figure the command prints.
type table struct {
	machine  string
	count    int
	build    time.Duration // go test -c of the solution
	suite    time.Duration // the solution's grade test binary, run alone
	grade    time.Duration // pbftlab grade, build cache warm
	batch    time.Duration // pbftlab batch of batchSize copies of a full-marks submission, per submission
	batchErr error         // why there is no batch figure; the command then fails
	sim      map[string]results
	tcp      map[string]results
}

func measure(o benchOptions) (*table, error) {
	t := &table{machine: machine(), count: o.count}
	dir, err := os.MkdirTemp("", "pbftlab-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	// Grading. The test binary alone is what a grade costs once built;
	// pbftlab grade adds the dry run that lists the specs and the reports.
	bin := filepath.Join(dir, "solution.test")
	start := time.Now()
	if _, err := o.run("go", "test", "-c", "-o", bin, "./solution"); err != nil {
		return nil, err
	}
	t.build = time.Since(start)
	var suite, grade []time.Duration
	for range o.count {
		start := time.Now()
		out, err := o.run(bin, "-test.run", "^TestGrade$", "-test.count", "1")
		if err != nil {
			return nil, fmt.Errorf("the solution's grade failed:\n%s", grader.Tail(out, 30))
		}
		suite = append(suite, time.Since(start))
	}
	reports := filepath.Join(dir, "reports")
	for i := range o.count + 1 { // the first run builds what the others reuse
		start := time.Now()
		var out bytes.Buffer
		if code := driver.Command([]string{"-tree", "solution", "-reports", reports}, &out, &out); code != cmdline.ExitOK {
			return nil, fmt.Errorf("pbftlab grade failed:\n%s", grader.Tail(out.String(), 30))
		}
		if i > 0 {
			grade = append(grade, time.Since(start))
		}
	}
	t.suite, t.grade = median(suite), median(grade)
	if t.batch, err = measureBatch(o, dir); err != nil {
		// The figures that follow do not depend on this one: the table
		// shows it missing, the reason is printed here, and the command
		// still fails at the end.
		fmt.Fprintf(o.out, "pbftlab bench: no batch figure: %v\n", err)
		t.batch, t.batchErr = 0, err
	}

	// The simulator on one core, then the cluster over loopback.
	out, err := o.run("go", "test", "-run", "^$", "-bench", "^BenchmarkSimulator$", "-benchtime", "100000x",
		"-cpu", "1", "-count", strconv.Itoa(o.count), "./solution")
	if err != nil {
		return nil, fmt.Errorf("the simulator benchmark failed:\n%s", grader.Tail(out, 30))
	}
	t.sim = parseBench(out)
	out, err = o.run("go", "test", "-run", "^$", "-bench", "^(BenchmarkTCPCluster|BenchmarkTCPOnly|BenchmarkTCPBatch|BenchmarkFloor)$", "-benchtime", "2s",
		"-count", strconv.Itoa(o.count), "./runtime/tcp")
	if err != nil {
		return nil, fmt.Errorf("the TCP benchmarks failed:\n%s", grader.Tail(out, 30))
	}
	t.tcp = parseBench(out)
	return t, nil
}

// batchSize is how many submissions the batch figure grades at once: a
// few per core, so that the figure is the batch's pace and not one
// grade's latency.
const batchSize = 6

// measureBatch grades batchSize copies of a full-marks submission, as
// many at once as there are cores, and returns the median wall time per
// submission. Each copy is compiled and linked on its own, as any
// submission is.
func measureBatch(o benchOptions, dir string) (time.Duration, error) {
	subs := filepath.Join(dir, "submissions")
	files, err := skelgen.Solved(o.root)
	if err != nil {
		return 0, err
	}
	for i := range batchSize {
		sub := filepath.Join(subs, fmt.Sprintf("copy%d", i+1))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return 0, err
		}
		for name, src := range files {
			if err := os.WriteFile(filepath.Join(sub, name), src, 0o644); err != nil {
				return 0, err
			}
		}
	}
	var per []time.Duration
	for i := range o.count {
		fmt.Fprintf(o.out, "+ pbftlab batch -submissions %s (%d copies of a full-marks submission)\n", subs, batchSize)
		start := time.Now()
		var out bytes.Buffer
		if code := batch.Command([]string{"-submissions", subs, "-reports", filepath.Join(dir, fmt.Sprintf("batch%d", i))}, &out, &out); code != cmdline.ExitOK {
			return 0, fmt.Errorf("pbftlab batch failed:\n%s", grader.Tail(out.String(), 30))
		}
		per = append(per, time.Since(start)/batchSize)
	}
	return median(per), nil
}

// run runs a command in the module root, showing it first, and returns
// its output.
func (o benchOptions) run(name string, args ...string) (string, error) {
	fmt.Fprintf(o.out, "+ %s %s\n", filepath.Base(name), strings.Join(args, " "))
	cmd := exec.Command(name, args...)
	cmd.Dir = o.root
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}

// results maps a benchmark's metrics ("req/s", "p50-µs", ...) to the
// values of its runs.
type results map[string][]float64

// benchLine is one result line of go test -bench: the name (without the
// -GOMAXPROCS suffix), the iterations, then value-unit pairs.
var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.+)$`)

// parseBench reads go test -bench output into results by benchmark name,
// "Simulator/lab" say.
func parseBench(out string) map[string]results {
	all := map[string]results{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			if all[m[1]] == nil {
				all[m[1]] = results{}
			}
			all[m[1]][f[i+1]] = append(all[m[1]][f[i+1]], v)
		}
	}
	return all
}

// median of a benchmark's metric, and whether it was measured at all.
func (r results) median(metric string) (float64, bool) {
	vs := slices.Clone(r[metric])
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2], true
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2, true
}

func median(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	if len(ds) == 0 {
		return 0
	}
	return ds[(len(ds)-1)/2]
}

// machine describes where the figures were taken.
func machine() string {
	model := "unknown processor"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d CPUs (%s), %s, %s/%s", runtime.NumCPU(), model, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func (t *table) print(w io.Writer) {
	fmt.Fprintf(w, "\n%s; medians of %d runs\n\n", t.machine, t.count)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(what, figure string) { fmt.Fprintf(tw, "%s\t%s\n", what, figure) }
	row("MEASURE", "FIGURE")
	row("grading: the solution's suite (test binary, after build)", seconds(t.suite))
	row("grading: pbftlab grade -tree solution (build cached)", seconds(t.grade))
	row("grading: building the test binary (go test -c)", seconds(t.build))
	batch := "-"
	if t.batch > 0 {
		batch = seconds(t.batch)
	}
	row(fmt.Sprintf("grading: a batch of %d submissions on %d cores, per submission", batchSize, runtime.NumCPU()), batch)
	lab := t.sim["Simulator/lab"]
	row("simulator: committed requests/s, one core (wall clock | processor time)", count(lab, "req/s", "")+" | "+perCPU(lab))
	row("simulator: messages per committed request, n = 4", decimal(lab, "msgs/req")+" (2n²-n+1 = 29, and 12 CHECKPOINT per 100)")
	row("simulator, batching: B = 10 | 100", count(t.sim["Simulator/batch=10"], "req/s", " req/s")+" | "+count(t.sim["Simulator/batch=100"], "req/s", " req/s"))
	one := t.tcp["TCPCluster/clients=1"]
	row("loopback, 1 client: p50 | p99 latency", micro(one, "p50-µs")+" | "+micro(one, "p99-µs"))
	only := t.tcp["TCPOnly"]
	row("  on the TCP connections alone (--tcp-only): p50 | p99", micro(only, "p50-µs")+" | "+micro(only, "p99-µs"))
	row("  the bare pattern, no MAC, no replica: p50 over TCP | over UDP, sendmmsg", micro(t.tcp["Floor/tcp"], "p50-µs")+" | "+micro(t.tcp["Floor/udp-sendmmsg"], "p50-µs"))
	row("loopback, 1 | 16 | 64 clients (req/s)", joined(t.tcp, "req/s", "TCPCluster/clients=1", "TCPCluster/clients=16", "TCPCluster/clients=64"))
	row("loopback, batching B = 1 | 10 | 100 (req/s)", joined(t.tcp, "req/s", "TCPBatch/B=1", "TCPBatch/B=10", "TCPBatch/B=100"))
	row("  processor time per request (µs), 1 client | 64 clients", joined(t.tcp, "cpu-µs/req", "TCPCluster/clients=1", "TCPCluster/clients=64"))
	row("  processor time per request (µs), B = 1 | 10 | 100", joined(t.tcp, "cpu-µs/req", "TCPBatch/B=1", "TCPBatch/B=10", "TCPBatch/B=100"))
	tw.Flush()
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func count(r results, metric, unit string) string {
	v, ok := r.median(metric)
	if !ok {
		return "-"
	}
	return thousands(int64(v+0.5)) + unit
}

// perCPU is the requests per second of processor time: on a machine
// shared with other work, what one core does when it is not taken away.
func perCPU(r results) string {
	v, ok := r.median("cpu-µs/req")
	if !ok || v <= 0 {
		return "-"
	}
	return thousands(int64(1e6/v + 0.5))
}

func decimal(r results, metric string) string {
	v, ok := r.median(metric)
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func micro(r results, metric string) string {
	v, ok := r.median(metric)
	if !ok {
		return "-"
	}
	if v >= 10000 {
		return fmt.Sprintf("%.1f ms", v/1000)
	}
	return fmt.Sprintf("%.0f µs", v)
}

func joined(all map[string]results, metric string, names ...string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = count(all[n], metric, "")
	}
	return strings.Join(parts, " | ")
}

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
