package skeleton

import (
	"fmt"
)

type mailbox struct{ kept any }

// Format would keep fmt's own printer, which every replica shares.
func (m *mailbox) Format(f fmt.State, verb rune) { m.kept = f }

type scanned struct{}

func (scanned) Scan(s fmt.ScanState, verb rune) error { return nil }

type fine struct{}

func (fine) String() string { return fmt.Sprint("fine") }

type sink struct{ kept []byte }

func (s *sink) Write(b []byte) (int, error) { s.kept = b[:cap(b)]; return len(b), nil }

func leak(s *sink) { fmt.Fprint(s, "x") }

type grab[S any] struct{}

func (grab[S]) Format(s S, verb rune) {}

func mk() any { return fmt.Formatter.Format }
