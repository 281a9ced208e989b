package tcp_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"pbftlab/internal/cputime"
	"pbftlab/lab"
	"pbftlab/runtime/tcp"
	"pbftlab/solution"
)

// BenchmarkTCPCluster measures the reference replica over real sockets on
// loopback (TCP connections, and datagrams where they serve): four
// replicas in this process, automatic votes, no clock, and closed-loop
// clients, each sending its next request as soon as f+1 replicas have
// answered the last. It reports the latency percentiles of one request
// (p50, p99) and the throughput of 1, 16 and 64 clients. The replicas run
// the lab's protocol (no batching), one sequence number at a time.
func BenchmarkTCPCluster(b *testing.B) {
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			benchLoad(b, tcp.ClusterConfig{}, clients, 1)
		})
	}
}

// BenchmarkTCPOnly is BenchmarkTCPCluster with one client on the TCP
// connections alone (--tcp-only): what datagrams save a lone request.
func BenchmarkTCPOnly(b *testing.B) {
	benchLoad(b, tcp.ClusterConfig{TCPOnly: true}, 1, 1)
}

// BenchmarkTCPBatch measures the same cluster with batching and
// pipelining (lab.Config.BatchSize = B): 16 clients each keep 32 requests
// outstanding, so the primary always has requests waiting to be batched.
//
// Both report cpu-µs/req, the processor time the whole process (replicas
// and clients) spent per request: on a machine shared with other work it
// varies far less than the throughput.
func BenchmarkTCPBatch(b *testing.B) {
	for _, batch := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("B=%d", batch), func(b *testing.B) {
			benchLoad(b, tcp.ClusterConfig{Replica: lab.Config{BatchSize: batch}}, 16, 32)
		})
	}
}

// benchLoad runs b.N requests through a cluster configured by cc, from k
// clients that each keep window requests outstanding.
func benchLoad(b *testing.B, cc tcp.ClusterConfig, k, window int) {
	cc.New, cc.NoClient = solution.New, true
	c, err := tcp.StartCluster(cc)
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
	start, cpuStart := time.Now(), cputime.Used()
	for i, cl := range clients {
		share := b.N / k
		if i < b.N%k {
			share++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			op := fmt.Sprintf("account=%s,amount=1,operation=deposit", cl.Name())
			type sent struct {
				n  int
				at time.Time
			}
			var inFlight []sent
			for done := 0; done < share; {
				for len(inFlight) < window && done+len(inFlight) < share {
					inFlight = append(inFlight, sent{cl.Send(op), time.Now()})
				}
				o, err := cl.Wait(ctx, inFlight[0].n)
				if err != nil || !o.Committed {
					b.Errorf("%s: request not committed: %v %+v", cl.Name(), err, o)
					return
				}
				latencies[i] = append(latencies[i], time.Since(inFlight[0].at))
				inFlight = inFlight[1:]
				done++
			}
		}()
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cputime.Used()-cpuStart
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
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(len(all)), "cpu-µs/req")
	}
}
