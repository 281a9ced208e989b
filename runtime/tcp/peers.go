package tcp

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"pbftlab/lab"
)

// The lab's ports: P0 on 5000, P1 on 5001 and so on, the client on 7000.
const (
	DefaultHost       = "127.0.0.1"
	DefaultBasePort   = 5000
	DefaultClientPort = 7000
)

// Peers is the cluster's address book: where each replica listens, and the
// client's port. A peers file says the same, one line per process:
//
//	# name   address
//	P0       127.0.0.1:5000
//	P1       127.0.0.1:5001
//	P2       127.0.0.1:5002
//	P3       127.0.0.1:5003
//	client   127.0.0.1:7000
//
// The replicas must be P0 to P(n-1) with no gap; the client line may be left
// out.
type Peers struct {
	Replicas []string // the address of replica i
	Client   string
}

// DefaultPeers is the lab's layout of n replicas on the loopback interface.
func DefaultPeers(n int) Peers {
	p := Peers{Client: net.JoinHostPort(DefaultHost, strconv.Itoa(DefaultClientPort))}
	for i := range n {
		p.Replicas = append(p.Replicas, net.JoinHostPort(DefaultHost, strconv.Itoa(DefaultBasePort+i)))
	}
	return p
}

// N is the number of replicas.
func (p Peers) N() int { return len(p.Replicas) }

// Addr is the address replica id listens on.
func (p Peers) Addr(id lab.ID) string {
	if id < 0 || int(id) >= len(p.Replicas) {
		return ""
	}
	return p.Replicas[id]
}

// WithPort returns p with replica id (or the client, for lab.Client) moved to
// port on the same host.
func (p Peers) WithPort(id lab.ID, port int) Peers {
	q := Peers{Replicas: append([]string(nil), p.Replicas...), Client: p.Client}
	addr := q.Client
	if id != lab.Client {
		addr = q.Replicas[id]
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		host = DefaultHost
	}
	addr = net.JoinHostPort(host, strconv.Itoa(port))
	if id == lab.Client {
		q.Client = addr
	} else {
		q.Replicas[id] = addr
	}
	return q
}

// String renders p in the peers file format.
func (p Peers) String() string {
	var b strings.Builder
	for i, a := range p.Replicas {
		fmt.Fprintf(&b, "%s %s\n", lab.ID(i), a)
	}
	if p.Client != "" {
		fmt.Fprintf(&b, "client %s\n", p.Client)
	}
	return b.String()
}

// LoadPeers reads a peers file.
func LoadPeers(path string) (Peers, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Peers{}, fmt.Errorf("peers file: %w", err)
	}
	p, err := ParsePeers(string(b))
	if err != nil {
		return Peers{}, fmt.Errorf("peers file %s: %w", path, err)
	}
	return p, nil
}

// ParsePeers reads the peers file format.
func ParsePeers(text string) (Peers, error) {
	var p Peers
	addrs := map[lab.ID]string{}
	for i, line := range strings.Split(text, "\n") {
		if k := strings.IndexByte(line, '#'); k >= 0 {
			line = line[:k]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return Peers{}, fmt.Errorf("line %d: want \"NAME HOST:PORT\", got %q", i+1, strings.TrimSpace(line))
		}
		id, err := lab.ParseID(f[0])
		if err != nil {
			return Peers{}, fmt.Errorf("line %d: %v", i+1, err)
		}
		if _, _, err := net.SplitHostPort(f[1]); err != nil {
			return Peers{}, fmt.Errorf("line %d: %q is not HOST:PORT", i+1, f[1])
		}
		if id == lab.Client {
			if p.Client != "" {
				return Peers{}, fmt.Errorf("line %d: client given twice", i+1)
			}
			p.Client = f[1]
			continue
		}
		if _, dup := addrs[id]; dup {
			return Peers{}, fmt.Errorf("line %d: %s given twice", i+1, id)
		}
		addrs[id] = f[1]
	}
	for i := range len(addrs) {
		a, ok := addrs[lab.ID(i)]
		if !ok {
			return Peers{}, fmt.Errorf("%s is missing: replicas must be P0 to P%d with no gap", lab.ID(i), len(addrs)-1)
		}
		p.Replicas = append(p.Replicas, a)
	}
	if len(p.Replicas) < 4 {
		return Peers{}, fmt.Errorf("%d replicas tolerate no fault; list at least 4 (P0 to P3)", len(p.Replicas))
	}
	return p, nil
}
