//go:build !unix

package tcp_test

import "time"

// cpuTime is unknown here: the benchmarks leave out their cpu-µs/req.
func cpuTime() time.Duration { return 0 }
