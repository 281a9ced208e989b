// Package console is the lab at the keyboard: the command loops of a
// replica, of the client and of a whole cluster, and the lines they print as
// things happen. A console reads lines from any reader, so a person, a
// script piping commands in, or tmux send-keys can drive it alike.
package console

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// Out is a console's output. Command results and events come from different
// goroutines; Out writes each line whole, so they never interleave mid-line.
type Out struct {
	mu sync.Mutex
	w  io.Writer
}

// NewOut wraps w.
func NewOut(w io.Writer) *Out { return &Out{w: w} }

// Print writes text, each of its lines behind prefix.
func (o *Out) Print(prefix, text string) {
	text = strings.TrimRight(text, "\n")
	var b strings.Builder
	for line := range strings.SplitSeq(text, "\n") {
		b.WriteString(prefix)
		b.WriteString(line)
		b.WriteByte('\n')
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	_, _ = io.WriteString(o.w, b.String())
}

// Printf formats a line (or several) behind prefix.
func (o *Out) Printf(prefix, format string, args ...any) {
	o.Print(prefix, fmt.Sprintf(format, args...))
}

// prompt writes p with no newline.
func (o *Out) prompt(p string) {
	if p == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	_, _ = io.WriteString(o.w, p)
}
