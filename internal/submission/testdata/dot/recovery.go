package skeleton

import (
	"iter"
	. "strconv"
)

type hub struct{}

func (*hub) Error() string { return "value out of range" }

// Every replica of the process would find the hub here.
func theHub() *hub {
	if h, ok := ErrRange.(*hub); ok {
		return h
	}
	h := &hub{}
	ErrRange = h
	return h
}

func first(seq iter.Seq[int]) int {
	next, _ := iter.Pull(seq)
	v, _ := next()
	return v
}
