// Package cputime reads the processor time the process has used, for
// benchmarks that report cost per request beside wall-clock throughput:
// on a shared machine the first is steadier than the second.
package cputime

import "time"

// Used returns the user and system time the process has used, or 0 where
// the platform does not say.
func Used() time.Duration { return used() }
