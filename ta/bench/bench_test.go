package bench

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseBench(t *testing.T) {
	out := `goos: linux
pkg: pbftlab/runtime/tcp
BenchmarkTCPBatch/B=1-2         	   20000	    275067 ns/op	        81.70 cpu-µs/req	    124330 p50-µs	      3635 req/s
BenchmarkTCPBatch/B=1-2         	   20000	    175067 ns/op	        71.70 cpu-µs/req	    104330 p50-µs	      5635 req/s
BenchmarkTCPBatch/B=1-2         	   20000	    195067 ns/op	        75.70 cpu-µs/req	    114330 p50-µs	      4635 req/s
BenchmarkSimulator/lab 	  100000	     17608 ns/op	        29.12 msgs/req	     56793 req/s
--- FAIL: BenchmarkOther
PASS
`
	got := parseBench(out)
	assert.Len(t, got, 2)
	v, ok := got["TCPBatch/B=1"].median("req/s")
	assert.True(t, ok)
	assert.Equal(t, 4635.0, v)
	v, _ = got["TCPBatch/B=1"].median("cpu-µs/req")
	assert.Equal(t, 75.7, v)
	v, _ = got["Simulator/lab"].median("msgs/req")
	assert.Equal(t, 29.12, v)
	_, ok = got["Simulator/lab"].median("p99-µs")
	assert.False(t, ok)
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 56793: "56,793", 1234567: "1,234,567", -4200: "-4,200"} {
		assert.Equal(t, want, thousands(n))
	}
}
