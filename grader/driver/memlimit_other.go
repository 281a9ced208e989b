//go:build !linux

package driver

// limitMemory does nothing where there is no prlimit: GOMEMLIMIT, which
// every test process gets, is the only bound there.
func limitMemory(int, uint64) error { return nil }
