package tcp_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"pbftlab/lab/tcp"
	"pbftlab/solution"
)

// BenchmarkTCPCluster measures the reference replica over real TCP on
// loopback: four replicas in this process, automatic votes, no clock, and
// closed-loop clients, each sending its next request as soon as f+1
// replicas have answered the last. It reports the latency percentiles of
// one request (p50, p99) and the throughput of 1, 16 and 64 clients.
func BenchmarkTCPCluster(b *testing.B) {
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchClients(b, clients) })
	}
}

func benchClients(b *testing.B, k int) {
	c, err := tcp.StartCluster(tcp.ClusterConfig{New: solution.New, NoClient: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var clients []*tcp.Client
	for i := range k {
		cl := c.NewClient(fmt.Sprintf("bench%d", i), nil)
		defer cl.Close()
		clients = append(clients, cl)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, cl := range clients {
		if err := cl.WaitConnected(ctx); err != nil {
			b.Fatal(err)
		}
	}

	latencies := make([][]time.Duration, k)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i, cl := range clients {
		share := b.N / k
		if i < b.N%k {
			share++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			op := fmt.Sprintf("account=%s,amount=1,operation=deposit", cl.Name())
			for range share {
				sent := time.Now()
				o, err := cl.Wait(ctx, cl.Send(op))
				if err != nil || !o.Committed {
					b.Errorf("%s: request not committed: %v %+v", cl.Name(), err, o)
					return
				}
				latencies[i] = append(latencies[i], time.Since(sent))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err := c.Err(); err != nil {
		b.Fatal(err)
	}

	all := slices.Concat(latencies...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(percentile(all, 50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(all, 99).Microseconds()), "p99-µs")
}

// percentile is the p-th percentile of sorted, by the nearest-rank method.
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(i, len(sorted))-1)]
}
