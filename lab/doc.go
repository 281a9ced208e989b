// Package lab is the part of the kit that students read but never edit: the
// messages replicas exchange, the contract a replica implements, the bank the
// replicas agree on, and the quorum arithmetic every phase relies on.
//
// A replica is a deterministic event handler. It owns no goroutine, reads no
// clock and does no I/O: everything reaches it through Receive, Tick and Do,
// and everything leaves through the Env it was built with. That is what lets
// the same replica run in the grading simulator, over TCP at the keyboard, and
// as a JSON node on stdin and stdout.
package lab
