package cli

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall"

	"pbftlab/lab"
	"pbftlab/runtime/console"
	"pbftlab/runtime/tcp"
)

func runClient(_ lab.NewFunc, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("client", "client [PORT] [flags]\n\nRuns the client with its console: send account=alice,amount=100,operation=deposit.", stderr)
	var c common
	c.register(fs)
	c.registerStay(fs)
	name := fs.String("name", "", "the client's `name` in its requests (default client followed by its port)")
	retry := fs.Duration("retry", tcp.DefaultRetry, "send a request unanswered for this long to every replica, as PBFT clients do when the primary may be down; each later resend waits twice as long (0: never)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := nonNegative("retry", *retry, "0 never resends"); err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("want client [PORT], as in client 7000")
	}
	peers, err := c.peers()
	if err != nil {
		return err
	}
	keys, err := c.keys()
	if err != nil {
		return err
	}
	if peers.Client == "" {
		peers.Client = net.JoinHostPort(tcp.DefaultHost, strconv.Itoa(tcp.DefaultClientPort))
	}
	if len(pos) == 1 {
		port, err := parsePort(pos[0])
		if err != nil {
			return usagef("%v", err)
		}
		peers = peers.WithPort(lab.Client, port)
	}
	hold, err := holdPort(peers.Client)
	if err != nil {
		return err
	}
	defer hold.Close()
	if *name == "" {
		_, port, _ := net.SplitHostPort(hold.Addr().String())
		*name = "client" + port
	}
	out := console.NewOut(stdout)
	events := console.NewClientEvents(out, "")
	client := tcp.StartClient(tcp.ClientConfig{
		Name: *name, Peers: peers, Keys: keys, Retry: *retry,
		Observer: events, TCPOnly: c.tcpOnly,
	})
	defer client.Close()
	resend := "never resends"
	if *retry > 0 {
		resend = fmt.Sprintf("resends to every replica what is unanswered after %v", *retry)
	}
	out.Printf("", "client %s on %s; sends to the primary of its latest view (P0 to start with), %s, and accepts an outcome once %d replicas agree; type help for the commands",
		*name, hold.Addr(), resend, lab.Weak(peers.N()))
	prompt := ""
	if interactive(stdin) {
		prompt = "client> "
	}
	cc := console.NewClientConsole(client, events)
	defer cc.Close()
	return untilInterrupted(out, c.stay, func() error { return console.RunClient(cc, stdin, out, prompt) })
}

// holdPort keeps the client's port open while it runs. The replicas answer
// on the connections the client opens, so nothing arrives there; holding it
// makes a second client on the same port fail at once, as in the lab, and
// two clients can then not share a name by accident (the replicas execute a
// client's requests in timestamp order and would take the second one's for
// old duplicates).
func holdPort(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("cannot take %s: the port is already in use (is a client already running there? give another port)", addr)
		}
		return nil, fmt.Errorf("cannot take %s: %w", addr, err)
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	return ln, nil
}
