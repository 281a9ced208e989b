package tcp_test

import (
	"encoding/binary"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"pbftlab/internal/cputime"
)

// BenchmarkFloor measures what the lab's message pattern costs on this
// machine with nothing else: four endpoints and a client in this process
// exchange the 29 messages of one request (REQUEST, 3 PRE-PREPARE, 9
// PREPARE, 12 COMMIT, 4 REPLY) as 64-byte datagrams or frames, with no
// MAC, no encoding, no acknowledgements and no replica behind them; each
// endpoint counts votes under a lock and answers at the lab's quorums.
//
// It is the floor under BenchmarkTCPCluster/clients=1: "tcp" writes each
// message with its own system call on a connection per pair, as the kit's
// transport does; "udp-sendmmsg" sends a broadcast to its three peers
// with one sendmmsg(2) and drains a socket with recvmmsg(2), the one
// change that removes system calls rather than work from a request.
func BenchmarkFloor(b *testing.B) {
	b.Run("tcp", func(b *testing.B) { floor(b, floorTCP) })
	b.Run("udp-sendmmsg", func(b *testing.B) { floor(b, floorUDP) })
}

// The kinds of message of the pattern.
const (
	fRequest = iota
	fPrePrepare
	fPrepare
	fCommit
	fReply
)

// fClient is the client's index among the five endpoints.
const fClient = 4

type fMsg struct{ kind, seq uint32 }

func (m fMsg) put(b []byte) {
	binary.BigEndian.PutUint32(b, m.kind)
	binary.BigEndian.PutUint32(b[4:], m.seq)
}

func fGet(b []byte) fMsg {
	return fMsg{binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])}
}

// fSender sends one message to the endpoints in to.
type fSender interface{ send(to []int, m fMsg) }

// fEndpoint is a replica of the pattern: it votes at the lab's quorums for
// n = 4, f = 1 and replies once a request commits.
type fEndpoint struct {
	id  int
	out fSender
	mu  sync.Mutex
	seq map[uint32]*fState
}

// fState is what an endpoint knows of one request.
type fState struct {
	prePrepared, committing, done bool
	prepares, commits             int
}

func (e *fEndpoint) others() []int {
	var to []int
	for i := range 4 {
		if i != e.id {
			to = append(to, i)
		}
	}
	return to
}

func (e *fEndpoint) handle(m fMsg) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.seq[m.seq]
	if s == nil {
		s = new(fState)
		e.seq[m.seq] = s
		// Requests go one at a time: two back is long done everywhere.
		delete(e.seq, m.seq-2)
	}
	switch m.kind {
	case fRequest:
		s.prePrepared = true
		e.out.send(e.others(), fMsg{fPrePrepare, m.seq})
	case fPrePrepare:
		s.prePrepared = true
		e.out.send(e.others(), fMsg{fPrepare, m.seq})
	case fPrepare:
		s.prepares++
	case fCommit:
		s.commits++
	}
	if s.prePrepared && s.prepares >= 2 && !s.committing {
		s.committing = true
		s.commits++
		e.out.send(e.others(), fMsg{fCommit, m.seq})
	}
	if s.committing && s.commits >= 3 && !s.done {
		s.done = true
		e.out.send([]int{fClient}, fMsg{fReply, m.seq})
	}
}

// floor runs b.N requests, one at a time, over the endpoints start wires
// up: handlers[i] is what endpoint i does with a message it receives.
func floor(b *testing.B, start func(b *testing.B, handlers []func(fMsg)) []fSender) {
	eps := make([]*fEndpoint, 4)
	handlers := make([]func(fMsg), 5)
	for i := range eps {
		eps[i] = &fEndpoint{id: i, seq: map[uint32]*fState{}}
		handlers[i] = eps[i].handle
	}
	answered := make(chan struct{}, 1)
	var mu sync.Mutex
	replies := map[uint32]int{}
	handlers[fClient] = func(m fMsg) {
		mu.Lock()
		replies[m.seq]++
		enough := replies[m.seq] == 2
		mu.Unlock()
		if enough {
			answered <- struct{}{}
		}
	}
	senders := start(b, handlers)
	for i, e := range eps {
		e.out = senders[i]
	}
	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	cpuStart := cputime.Used()
	for i := range b.N {
		at := time.Now()
		senders[fClient].send([]int{0}, fMsg{fRequest, uint32(i)})
		<-answered
		latencies = append(latencies, time.Since(at))
	}
	cpu := cputime.Used() - cpuStart
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(percentile(latencies, 50).Microseconds()), "p50-µs")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/req")
	}
}

// floorTCP connects every pair of endpoints, one connection per direction,
// and reads each connection on a goroutine of its own.
func floorTCP(b *testing.B, handlers []func(fMsg)) []fSender {
	lns := make([]net.Listener, len(handlers))
	for i := range lns {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { ln.Close() })
		lns[i] = ln
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				b.Cleanup(func() { c.Close() })
				go func() {
					buf := make([]byte, 64)
					for {
						if _, err := io.ReadFull(c, buf); err != nil {
							return
						}
						handlers[i](fGet(buf))
					}
				}()
			}
		}()
	}
	senders := make([]fSender, len(handlers))
	for i := range handlers {
		s := &tcpFloorSender{conns: make([]net.Conn, len(handlers))}
		for j := range handlers {
			if i == j || (i == fClient && j != 0) {
				continue // the client sends its requests to the primary only
			}
			c, err := net.Dial("tcp", lns[j].Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { c.Close() })
			s.conns[j] = c
		}
		senders[i] = s
	}
	return senders
}

type tcpFloorSender struct{ conns []net.Conn }

func (s *tcpFloorSender) send(to []int, m fMsg) {
	var buf [64]byte
	m.put(buf[:])
	for _, j := range to {
		s.conns[j].Write(buf[:])
	}
}

// floorUDP gives every endpoint one UDP socket, read in batches by one
// goroutine.
func floorUDP(b *testing.B, handlers []func(fMsg)) []fSender {
	conns := make([]*net.UDPConn, len(handlers))
	addrs := make([]net.Addr, len(handlers))
	for i := range conns {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		conns[i], addrs[i] = c, c.LocalAddr()
		p := ipv4.NewPacketConn(c)
		go func() {
			batch := make([]ipv4.Message, 16)
			for k := range batch {
				batch[k].Buffers = [][]byte{make([]byte, 64)}
			}
			for {
				n, err := p.ReadBatch(batch, 0)
				if err != nil {
					return
				}
				for _, m := range batch[:n] {
					handlers[i](fGet(m.Buffers[0]))
				}
			}
		}()
	}
	senders := make([]fSender, len(handlers))
	for i, c := range conns {
		senders[i] = &udpFloorSender{p: ipv4.NewPacketConn(c), addrs: addrs}
	}
	return senders
}

type udpFloorSender struct {
	p     *ipv4.PacketConn
	addrs []net.Addr
}

func (s *udpFloorSender) send(to []int, m fMsg) {
	var buf [64]byte
	m.put(buf[:])
	batch := make([]ipv4.Message, len(to))
	for k, j := range to {
		batch[k] = ipv4.Message{Buffers: [][]byte{buf[:]}, Addr: s.addrs[j]}
	}
	for len(batch) > 0 {
		n, err := s.p.WriteBatch(batch, 0)
		if err != nil {
			return
		}
		batch = batch[n:]
	}
}

// percentile is the p-th percentile of sorted, by the nearest-rank method.
// (Here, not in bench_test.go, which imports the solution: the student
// release leaves that file out and keeps this one.)
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(i, len(sorted))-1)]
}
