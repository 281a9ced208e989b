package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// waitLimit bounds every wait for a line of output. Nothing waits for it to
// pass: each wait ends as soon as the line it waits for is printed.
const waitLimit = 20 * time.Second

// proc is one process of the cluster with its console.
type proc struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string   // what it prints on standard output
	ended chan struct{} // closed once it has exited and been reaped
	err   error         // its exit status, once ended
	gone  bool          // discarded: its end is no failure

	mu  sync.Mutex
	log []string // everything it printed, both streams, for failure reports
}

// startProc starts bin with args and reads its output.
func startProc(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, lines: make(chan string, 10000), ended: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	stdin, err := p.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdin = stdin
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.record(sc.Text())
			p.lines <- sc.Text()
		}
	}()
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.record("stderr: " + sc.Text())
		}
	}()
	go func() {
		readers.Wait()
		p.err = p.cmd.Wait()
		close(p.ended)
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *proc) record(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = append(p.log, line)
}

// output is everything the process printed so far.
func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.log, "\n")
}

// stop ends the process: the end of its input is quit; one that does not
// leave at once is killed. Either way it is reaped.
func (p *proc) stop() {
	if p.gone {
		return
	}
	_ = p.stdin.Close()
	select {
	case <-p.ended:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.ended
		p.t.Errorf("%s did not leave at the end of its input; killed", p.name)
		return
	}
	if p.err != nil {
		p.t.Errorf("%s exited with %v\n%s", p.name, p.err, p.output())
	}
}

// discard ends the process of a start that is given up, whatever it
// prints or exits with.
func (p *proc) discard() {
	p.gone = true
	_ = p.stdin.Close()
	_ = p.cmd.Process.Kill()
	<-p.ended
}

// kill ends the process at once with SIGKILL, as kill -9 does: no
// quit, no closing of connections. It is then gone from the cluster.
func (p *proc) kill() {
	p.gone = true
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.ended
}

// type_ writes one console line.
func (p *proc) type_(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatalf("typing %q at %s: %v\n%s", line, p.name, err, p.output())
	}
}

// await reads output until a line for which match is true, and returns the
// lines read, that one last.
func (p *proc) await(what string, match func(string) bool) []string {
	p.t.Helper()
	seen, err := p.tryAwait(what, match)
	if err != nil {
		p.t.Fatal(err)
	}
	return seen
}

// errEnded is tryAwait's error when the process ends first.
var errEnded = errors.New("ended")

// tryAwait is await that reports failure instead of ending the test.
func (p *proc) tryAwait(what string, match func(string) bool) ([]string, error) {
	var seen []string
	limit := time.After(waitLimit)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return seen, fmt.Errorf("%s %w while waiting for %s:\n%s", p.name, errEnded, what, p.output())
			}
			seen = append(seen, line)
			if match(line) {
				return seen, nil
			}
		case <-limit:
			return seen, fmt.Errorf("%s printed no %s within %v:\n%s", p.name, what, waitLimit, p.output())
		}
	}
}

// command types a console command and returns its answer: the one line
// that starts with "ok:" or "error:".
func (p *proc) command(line string) (string, error) {
	p.t.Helper()
	p.type_(line)
	got := p.await(fmt.Sprintf("answer to %q", line), func(s string) bool {
		return strings.HasPrefix(s, "ok:") || strings.HasPrefix(s, "error:")
	})
	answer := got[len(got)-1]
	if rest, ok := strings.CutPrefix(answer, "error: "); ok {
		return "", fmt.Errorf("%s", rest)
	}
	return answer, nil
}

// report types a command whose answer has no ok line (status, net) and
// returns what it printed: the lines from the first one for which start is
// true up to, not including, the answer to a net typed after it.
func (p *proc) report(line string, start func(string) bool) []string {
	p.t.Helper()
	p.type_(line)
	p.type_("net")
	got := p.await("net report", isCounts)
	for i, l := range got {
		if start(l) {
			out := got[i:]
			for j, m := range out {
				if m == "links:" {
					return out[:j]
				}
			}
			return out
		}
	}
	p.t.Fatalf("%s printed nothing for %q:\n%s", p.name, line, p.output())
	return nil
}

func isCounts(line string) bool { return strings.HasPrefix(line, "messages: ") }
